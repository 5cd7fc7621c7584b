import type { MiddlewareHandler } from 'hono';
import { enforceRateLimits, recordMiss, type CoreContext } from '@coupons/core';
import type { AppEnv } from '../../env.ts';

/** Claim, lock and redeem: the routes a flood or a code-guesser would hammer. */
const LIMITED = /^\/coupons\/(assign(\/[^/]+)?|lock\/[^/]+|redeem\/[^/]+)$/;

export function rateLimit(core: CoreContext): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    if (c.req.method !== 'POST' || !LIMITED.test(c.req.path)) return next();
    const actor = c.get('actor');
    await enforceRateLimits(core, actor);
    await next();
    if (c.get('errorCode') === 'CODE_NOT_FOUND') await recordMiss(core, actor).catch(() => undefined);
  };
}
