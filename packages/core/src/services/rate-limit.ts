import { randomInt } from 'node:crypto';
import type { CoreContext } from '../context.ts';
import type { Actor } from '../actor.ts';
import { AppError } from '../errors.ts';

const MINUTE = 60;
/** A caller's counter item spans ten minutes: the code-guessing window. */
const CALLER_WINDOW = 600;

const windowOf = (nowMs: number, seconds: number) => Math.floor(nowMs / 1000 / seconds);
const secondsLeft = (nowMs: number, seconds: number) => Math.max(1, Math.ceil(((windowOf(nowMs, seconds) + 1) * seconds * 1000 - nowMs) / 1000));

const rateLimited = (message: string, retryAfterSeconds: number) => new AppError('RATE_LIMITED', message, { retryAfterSeconds });

type Counted = { rejected?: boolean; data?: Record<string, number> | null };

/**
 * One conditional ADD on one counter item; `{ rejected, data }` says whether
 * the condition refused it and, if so, what the item held.
 */
function count(ctx: CoreContext, key: { tenant: string; scope: string; window: number; expiresAt: number }, add: Record<string, number>, condition?: (a: any, op: any) => string): Promise<Counted> {
  let update: any = ctx.store.rateCounter.upsert(key).add(add as any);
  if (condition) update = update.where(condition);
  return update.go({ response: 'none', returnOnConditionCheckFailure: 'all_old' } as any) as Promise<Counted>;
}

/**
 * Fixed-window limits on claim, lock and redeem, per caller and per tenant,
 * held in the table so every Lambda instance shares them. Cost per request:
 * two conditional UpdateItems issued in parallel: the caller's ten-minute
 * item (this minute's count and the code-guessing misses, checked in one
 * condition) and one random shard of the tenant's counter.
 */
export async function enforceRateLimits(ctx: CoreContext, actor: Actor): Promise<void> {
  const { RATE_LIMIT_CALLER_PER_MINUTE: perCaller, RATE_LIMIT_TENANT_PER_MINUTE: perTenant, RATE_LIMIT_TENANT_SHARDS: shards } = ctx.config;
  const missLimit = ctx.config.RATE_LIMIT_MISSES_PER_10_MINUTES;
  const now = ctx.now();
  const callerWindow = windowOf(now, CALLER_WINDOW);
  const minute = `m${windowOf(now, MINUTE) % (CALLER_WINDOW / MINUTE)}`;
  const tenantWindow = windowOf(now, MINUTE);

  const [caller, tenant] = await Promise.all([
    perCaller || missLimit
      ? count(
          ctx,
          { tenant: actor.tenant, scope: `caller#${actor.sub}`, window: callerWindow, expiresAt: (callerWindow + 2) * CALLER_WINDOW },
          perCaller ? { [minute]: 1 } : { misses: 0 },
          (a, op) =>
            [
              perCaller ? `(${op.notExists(a[minute])} OR ${op.lt(a[minute], perCaller)})` : '',
              missLimit ? `(${op.notExists(a.misses)} OR ${op.lt(a.misses, missLimit)})` : '',
            ]
              .filter(Boolean)
              .join(' AND '),
        )
      : ({} as Counted),
    perTenant
      ? count(
          ctx,
          { tenant: actor.tenant, scope: `tenant#${randomInt(shards)}`, window: tenantWindow, expiresAt: (tenantWindow + 2) * MINUTE },
          { count: 1 },
          (a, op) => `${op.notExists(a.count)} OR ${op.lt(a.count, Math.ceil(perTenant / shards))}`,
        )
      : ({} as Counted),
  ]);
  if (caller.rejected) {
    if (missLimit && (caller.data?.misses ?? 0) >= missLimit) {
      throw rateLimited('Too many requests for codes that do not exist; slow down.', secondsLeft(now, CALLER_WINDOW));
    }
    throw rateLimited('Too many requests from this caller.', secondsLeft(now, MINUTE));
  }
  if (tenant.rejected) throw rateLimited('Too many requests for this tenant.', secondsLeft(now, MINUTE));
}

/** Counts a CODE_NOT_FOUND answer against the caller: guessing codes trips the stricter limit. */
export async function recordMiss(ctx: CoreContext, actor: Actor): Promise<void> {
  if (!ctx.config.RATE_LIMIT_MISSES_PER_10_MINUTES) return;
  const window = windowOf(ctx.now(), CALLER_WINDOW);
  await count(ctx, { tenant: actor.tenant, scope: `caller#${actor.sub}`, window, expiresAt: (window + 2) * CALLER_WINDOW }, { misses: 1 });
}
