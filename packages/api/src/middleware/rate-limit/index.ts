import type { MiddlewareHandler } from 'hono';
import { enforceCodeGuessingLimit, enforceRateLimits, recordMiss, type CoreContext } from '@coupons/core';
import type { AppEnv } from '../../env.ts';

/** Claim, lock, unlock and redeem: the routes a flood or a code-guesser would hammer. */
const LIMITED = /^\/coupons\/(assign(\/[^/]+)?|lock\/[^/]+|unlock\/[^/]+|redeem\/[^/]+)$/;
/** The ones that name a code, where guessing is possible: a random claim names none. */
const NAMES_A_CODE = /^\/coupons\/(assign|lock|unlock|redeem)\/[^/]+$/;

/**
 * In-memory limits first (no database work), then, where a code is named,
 * the code-guessing trip (a cached read); a CODE_NOT_FOUND answer is the
 * only thing that writes.
 */
export function rateLimit(core: CoreContext): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    if (c.req.method !== 'POST' || !LIMITED.test(c.req.path)) return next();
    const actor = c.get('actor');
    enforceRateLimits(core, actor);
    const namesCode = NAMES_A_CODE.test(c.req.path);
    if (namesCode) await enforceCodeGuessingLimit(core, actor);
    await next();
    if (namesCode && c.get('errorCode') === 'CODE_NOT_FOUND') await recordMiss(core, actor).catch(() => undefined);
  };
}
