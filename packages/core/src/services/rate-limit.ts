import { randomInt } from 'node:crypto';
import type { CoreContext } from '../context.ts';
import type { Actor } from '../actor.ts';
import { AppError } from '../errors.ts';

const MINUTE = 60;
const MISS_WINDOW = 600;

const windowOf = (nowMs: number, seconds: number) => Math.floor(nowMs / 1000 / seconds);
const secondsLeft = (nowMs: number, seconds: number) => Math.max(1, Math.ceil(((windowOf(nowMs, seconds) + 1) * seconds * 1000 - nowMs) / 1000));

const rateLimited = (message: string, retryAfterSeconds: number) => new AppError('RATE_LIMITED', message, { retryAfterSeconds });

/** ADD 1 to a window counter, refused (by its condition) once it holds `limit`. */
async function take(ctx: CoreContext, tenant: string, scope: string, windowSeconds: number, limit: number): Promise<boolean> {
  const now = ctx.now();
  const window = windowOf(now, windowSeconds);
  try {
    await ctx.store.rateCounter
      .upsert({ tenant, scope, window, expiresAt: (window + 2) * windowSeconds })
      .add({ count: 1 })
      .where((a, op) => `${op.notExists(a.count)} OR ${op.lt(a.count, limit)}`)
      .go({ response: 'none' });
    return true;
  } catch (e) {
    if (/conditional/i.test(String((e as Error).message)) || (e as { cause?: { name?: string } }).cause?.name === 'ConditionalCheckFailedException') {
      return false;
    }
    throw e;
  }
}

/**
 * Fixed-window limits on claim, lock and redeem, per caller and per tenant,
 * held in the table so every Lambda instance shares them. Costs per request:
 * two conditional UpdateItems (caller; one random tenant shard) and one
 * GetItem (the caller's misses), issued in parallel.
 */
export async function enforceRateLimits(ctx: CoreContext, actor: Actor): Promise<void> {
  const { RATE_LIMIT_CALLER_PER_MINUTE: perCaller, RATE_LIMIT_TENANT_PER_MINUTE: perTenant, RATE_LIMIT_TENANT_SHARDS: shards } = ctx.config;
  const missLimit = ctx.config.RATE_LIMIT_MISSES_PER_10_MINUTES;
  const now = ctx.now();
  const [callerOk, tenantOk, misses] = await Promise.all([
    perCaller ? take(ctx, actor.tenant, `caller#${actor.sub}`, MINUTE, perCaller) : true,
    perTenant ? take(ctx, actor.tenant, `tenant#${randomInt(shards)}`, MINUTE, Math.ceil(perTenant / shards)) : true,
    missLimit
      ? ctx.store.rateCounter.get({ tenant: actor.tenant, scope: `misses#${actor.sub}`, window: windowOf(now, MISS_WINDOW) }).go()
      : { data: null },
  ]);
  if (missLimit && (misses.data?.count ?? 0) >= missLimit) {
    throw rateLimited('Too many requests for codes that do not exist; slow down.', secondsLeft(now, MISS_WINDOW));
  }
  if (!callerOk) throw rateLimited('Too many requests from this caller.', secondsLeft(now, MINUTE));
  if (!tenantOk) throw rateLimited('Too many requests for this tenant.', secondsLeft(now, MINUTE));
}

/** Counts a CODE_NOT_FOUND answer against the caller: guessing codes trips the stricter limit. */
export async function recordMiss(ctx: CoreContext, actor: Actor): Promise<void> {
  if (!ctx.config.RATE_LIMIT_MISSES_PER_10_MINUTES) return;
  const window = windowOf(ctx.now(), MISS_WINDOW);
  await ctx.store.rateCounter
    .upsert({ tenant: actor.tenant, scope: `misses#${actor.sub}`, window, expiresAt: (window + 2) * MISS_WINDOW })
    .add({ count: 1 })
    .go({ response: 'none' });
}
