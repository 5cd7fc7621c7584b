import type { CoreContext } from '../context.ts';
import type { Actor } from '../actor.ts';
import { AppError } from '../errors.ts';
import { TokenBuckets } from './token-bucket.ts';

/** The code-guessing window: misses count per caller per ten minutes. */
const MISS_WINDOW_SECONDS = 600;
/** How long an instance trusts a "no trip" answer for a caller before reading the table again. */
export const MISS_STANDING_CACHE_MS = 5000;

const rateLimited = (message: string, retryAfterSeconds: number) => new AppError('RATE_LIMITED', message, { retryAfterSeconds });

const missWindow = (nowMs: number) => Math.floor(nowMs / 1000 / MISS_WINDOW_SECONDS);
const secondsToWindowEnd = (nowMs: number) => Math.max(1, Math.ceil(((missWindow(nowMs) + 1) * MISS_WINDOW_SECONDS * 1000 - nowMs) / 1000));

/** What one instance (one Lambda, one Node process) remembers; nothing here is shared. */
interface InstanceLimits {
  callers: TokenBuckets | undefined;
  tenants: TokenBuckets | undefined;
  /** caller -> when this instance last learned it has not tripped (or that it has, until when). */
  standing: Map<string, { checkedAt: number; trippedUntil?: number }>;
}

const instances = new WeakMap<CoreContext, InstanceLimits>();

function limitsOf(ctx: CoreContext): InstanceLimits {
  let l = instances.get(ctx);
  if (!l) {
    const { RATE_LIMIT_CALLER_PER_MINUTE: perCaller, RATE_LIMIT_TENANT_PER_SECOND: perTenant } = ctx.config;
    l = {
      // A caller may spend a whole minute's allowance at once, then earns it back evenly.
      callers: perCaller ? new TokenBuckets(perCaller / 60, perCaller) : undefined,
      // A tenant's allowance is per second, with one second of burst.
      tenants: perTenant ? new TokenBuckets(perTenant, perTenant, 10_000) : undefined,
      standing: new Map(),
    };
    instances.set(ctx, l);
  }
  return l;
}

const callerKey = (actor: Actor) => `${actor.tenant}#${actor.sub}`;

/**
 * Per-caller and per-tenant limits on claim, lock, unlock and redeem, kept
 * in this instance's memory: a request within its limits costs no database
 * work. Each instance enforces them on the requests it serves, so across N
 * warm instances a caller may get up to N times its limit; floods beyond
 * what the instances absorb are API Gateway's throttle's job.
 * docs/flash-sale.md gives each limit's cost and exactness.
 */
export function enforceRateLimits(ctx: CoreContext, actor: Actor): void {
  const l = limitsOf(ctx);
  const now = ctx.now();
  const tenantWait = l.tenants?.take(actor.tenant, now) ?? 0;
  if (tenantWait) throw rateLimited('Too many requests for this tenant.', tenantWait);
  const callerWait = l.callers?.take(callerKey(actor), now) ?? 0;
  if (callerWait) throw rateLimited('Too many requests from this caller.', callerWait);
}

/** A caller's CODE_NOT_FOUND counter in one window: its rate counter item (migration 005 folds the previous release's into it). */
export const missCounterKey = (tenant: string, sub: string, window: number) => ({
  tenant,
  scope: `misses#${sub}`,
  window,
  expiresAt: (window + 2) * MISS_WINDOW_SECONDS,
});

const missKey = (actor: Actor, nowMs: number) => missCounterKey(actor.tenant, actor.sub, missWindow(nowMs));

/**
 * The code-guessing trip, checked on routes that name a code: a caller with
 * RATE_LIMIT_MISSES_PER_10_MINUTES CODE_NOT_FOUND answers in this window is
 * refused until the window ends. The misses live in the table (written only
 * when a caller misses) so every instance sees them; an instance reads a
 * caller's count at most once per MISS_STANDING_CACHE_MS (one eventually
 * consistent GetItem, 0.5 RCU) and remembers a trip until the window ends.
 */
export async function enforceCodeGuessingLimit(ctx: CoreContext, actor: Actor): Promise<void> {
  const limit = ctx.config.RATE_LIMIT_MISSES_PER_10_MINUTES;
  if (!limit) return;
  const l = limitsOf(ctx);
  const now = ctx.now();
  const key = callerKey(actor);
  let standing = l.standing.get(key);
  if (standing?.trippedUntil !== undefined && standing.trippedUntil <= now) standing = undefined;
  if (!standing || (standing.trippedUntil === undefined && now - standing.checkedAt >= MISS_STANDING_CACHE_MS)) {
    const { data } = await ctx.store.rateCounter.get(missKey(actor, now)).go();
    standing = remember(l, key, data?.misses ?? 0, limit, now);
  }
  if (standing.trippedUntil !== undefined) {
    throw rateLimited('Too many requests for codes that do not exist; slow down.', secondsToWindowEnd(now));
  }
}

function remember(l: InstanceLimits, key: string, misses: number, limit: number, now: number) {
  if (l.standing.size >= 50_000) l.standing.clear();
  const standing = { checkedAt: now, ...(misses >= limit ? { trippedUntil: (missWindow(now) + 1) * MISS_WINDOW_SECONDS * 1000 } : {}) };
  l.standing.set(key, standing);
  return standing;
}

/** Counts a CODE_NOT_FOUND answer against the caller: the one write the limits make, and only for a miss. */
export async function recordMiss(ctx: CoreContext, actor: Actor): Promise<void> {
  const limit = ctx.config.RATE_LIMIT_MISSES_PER_10_MINUTES;
  if (!limit) return;
  const now = ctx.now();
  const res: any = await ctx.store.rateCounter
    .upsert(missKey(actor, now))
    .add({ misses: 1 })
    .go({ response: 'all_new' } as any);
  remember(limitsOf(ctx), callerKey(actor), res?.data?.misses ?? 0, limit, now);
}
