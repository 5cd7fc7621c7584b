import { createHmac } from 'node:crypto';
import type { CoreContext } from './context.ts';
import { AppError } from './errors.ts';

// An erased user's pseudonym, and the door that keeps an erased id from being written again
// (docs/erasure.md). Plumbing: the claim path, the API's middleware and the erasure job all use it.

/**
 * How long an instance trusts "this id is not erased" before reading the mark again: at most 5 s, and
 * never more than a third of ERASURE_SETTLE_MS, so every instance has seen the mark well before the job reads the table.
 */
export const ERASED_CACHE_MS = 5000;
export const erasedCacheMs = (ctx: Pick<CoreContext, 'config'>) => Math.min(ERASED_CACHE_MS, Math.floor(ctx.config.ERASURE_SETTLE_MS / 3));
const CACHE_LIMIT = 50_000;

/**
 * What an erased user's id becomes everywhere: `erased-` and 32 hex digits of
 * HMAC-SHA256 of the tenant and the id under ERASURE_SECRET. The same id of
 * the same tenant always gives the same pseudonym (so erasing twice, and
 * every item, agree, and the mark can be found from the id); without the
 * secret nobody can compute it from an id, nor anyone recover an id from it.
 * It is itself a valid user id, so every key and schema takes it as it took the id.
 */
export function pseudonymOf(ctx: Pick<CoreContext, 'config'>, tenant: string, userId: string): string {
  return `erased-${createHmac('sha256', ctx.config.ERASURE_SECRET).update(JSON.stringify([tenant, userId])).digest('hex').slice(0, 32)}`;
}

/** What every pseudonym looks like: no id a request names may be one (it would act for an erased person). */
export const PSEUDONYM_PATTERN = /^erased-[0-9a-f]{32}$/;

/** Per process: tenant#id -> when this instance last read that the id is not erased. */
const notErased = new WeakMap<object, Map<string, number>>();

/** Whether the user was erased: one eventually consistent GetItem (0.5 RCU), skipped for `erasedCacheMs` after a "no". */
export async function isErased(ctx: CoreContext, tenant: string, userId: string): Promise<boolean> {
  // A pseudonym names an erased person by construction: refused without a read, so nobody acts for one.
  if (PSEUDONYM_PATTERN.test(userId)) return true;
  let seen = notErased.get(ctx.store);
  if (!seen) {
    seen = new Map();
    notErased.set(ctx.store, seen);
  }
  const key = `${tenant}#${userId}`;
  const checkedAt = seen.get(key);
  const now = Date.now();
  if (checkedAt !== undefined && now - checkedAt < erasedCacheMs(ctx)) return false;
  const { data } = await ctx.store.erasedUser.get({ tenant, pseudonym: pseudonymOf(ctx, tenant, userId) }).go();
  if (data) {
    seen.delete(key);
    return true;
  }
  if (seen.size >= CACHE_LIMIT) seen.clear();
  seen.set(key, now);
  return false;
}

/** Refuses (403 FORBIDDEN) a request acting for an erased user, before it writes anything. */
export async function refuseErased(ctx: CoreContext, tenant: string, userId: string): Promise<void> {
  if (await isErased(ctx, tenant, userId)) throw new AppError('FORBIDDEN', 'This user has been erased.');
}
