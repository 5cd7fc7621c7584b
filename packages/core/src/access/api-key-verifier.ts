import { timingSafeEqual } from 'node:crypto';
import type { CoreContext } from '../context.ts';
import { API_KEY_SUB_PREFIX, type Actor } from '../actor.ts';
import { AppError } from '../errors.ts';
import { conditionalWrite } from '../db/conditional-write.ts';
import { where } from '../db/condition.ts';
import { refusedBy } from '../db/transition.ts';
import { touchKey } from './api-key-transitions.ts';
import type { API_KEY_ROLES } from '../entities/api-key.ts';
import { hashSecret, parseApiKey } from './api-key-format.ts';

/** What verification needs of a key's record. */
interface KeyRecord {
  role: (typeof API_KEY_ROLES)[number];
  secretHash: string;
  lastUsedAt?: string;
  revokedAt?: string;
}

/** `lastUsedAt` is written at most this often per key. */
export const LAST_USED_EVERY_MS = 3600_000;
/** After a failed `lastUsedAt` write (not a refused one), this instance tries again no sooner than this. */
const LAST_USED_RETRY_MS = 60_000;
/** Keys (and unknown lookups) one instance remembers; beyond it the oldest are forgotten and read again. */
const MAX_CACHED = 10_000;

/** The one answer for a key that does not verify, whatever the reason: no hint which. */
const invalidKey = () => new AppError('UNAUTHENTICATED', 'The API key is not valid.');
/** Compared against when no record exists, so every well-formed key costs one hash and one comparison. */
const NO_HASH = Buffer.alloc(32);

/** What one instance (one Lambda, one Node process) remembers; nothing here is shared. */
interface InstanceKeys {
  /** tenant#keyId → the record as read (null: no such key) and when the read started. */
  records: Map<string, { record: KeyRecord | null; readAt: number }>;
  /** Reads in flight: concurrent first uses of a key share one. */
  reading: Map<string, Promise<KeyRecord | null>>;
  /** tenant#keyId → when this instance last sent a `lastUsedAt` write (or may retry after a failure). */
  touched: Map<string, number>;
}

const instances = new WeakMap<CoreContext, InstanceKeys>();

function keysOf(ctx: CoreContext): InstanceKeys {
  let k = instances.get(ctx);
  if (!k) {
    k = { records: new Map(), reading: new Map(), touched: new Map() };
    instances.set(ctx, k);
  }
  return k;
}

const cacheKey = (tenant: string, keyId: string) => `${tenant}#${keyId}`;

/**
 * Forgets a key on this instance (after revoking it here, so this instance refuses it at once),
 * including a read in flight, which may have started before the revocation.
 */
export function forgetApiKey(ctx: CoreContext, tenant: string, keyId: string): void {
  const keys = keysOf(ctx);
  keys.records.delete(cacheKey(tenant, keyId));
  keys.reading.delete(cacheKey(tenant, keyId));
}

/**
 * The record behind a lookup, from this instance's copy while it is younger than API_KEY_CACHE_MS,
 * else one strongly consistent GetItem (1 RCU) shared by every request waiting on it. "No such
 * key" is remembered as long: a key cannot be presented before it exists (it is made by the write
 * that stores it), so only made-up keys are ever answered from that memory.
 */
async function recordOf(ctx: CoreContext, tenant: string, keyId: string): Promise<KeyRecord | null> {
  const keys = keysOf(ctx);
  const id = cacheKey(tenant, keyId);
  const cached = keys.records.get(id);
  if (cached && ctx.now() - cached.readAt < ctx.config.API_KEY_CACHE_MS) return cached.record;
  let reading = keys.reading.get(id);
  if (!reading) {
    // The copy's age counts from before the read: a revocation committed during it may be missed.
    const readAt = ctx.now();
    reading = ctx.store.apiKey
      .get({ tenant, keyId })
      .go({ consistent: true })
      .then(({ data }) => {
        const record = (data as KeyRecord | null) ?? null;
        if (keys.reading.get(id) !== reading) return record; // forgotten meanwhile: answer, but keep no copy
        keys.records.delete(id); // re-inserted last: the Map's order is the age order
        keys.records.set(id, { record, readAt });
        if (keys.records.size > MAX_CACHED) keys.records.delete(keys.records.keys().next().value!);
        return record;
      })
      .finally(() => {
        if (keys.reading.get(id) === reading) keys.reading.delete(id);
      });
    keys.reading.set(id, reading);
  }
  return reading;
}

/**
 * The caller behind `Authorization: Bearer cbk_…`: the key's role within its tenant, as
 * `key:<keyId>`. A malformed, made-up, truncated, altered or revoked key gets the same 401. Costs
 * no write on the request path; `lastUsedAt` is written beside it (recordUse).
 */
export async function verifyApiKey(ctx: CoreContext, presented: string): Promise<Actor> {
  const parsed = parseApiKey(presented);
  if (!parsed) throw invalidKey();
  const { tenant, keyId } = parsed;
  const record = await recordOf(ctx, tenant, keyId);
  const expected = record ? Buffer.from(record.secretHash, 'hex') : NO_HASH;
  const matches = expected.length === NO_HASH.length && timingSafeEqual(hashSecret(parsed.secret), expected);
  if (!record || !matches || record.revokedAt !== undefined) throw invalidKey();
  recordUse(ctx, tenant, keyId, record);
  return { tenant, sub: `${API_KEY_SUB_PREFIX}${keyId}`, role: record.role, apiKeyId: keyId };
}

/**
 * Sets `lastUsedAt`, at most once an hour per key, never awaited by the request. This instance
 * skips the write when its copy of the record (at most API_KEY_CACHE_MS old) was used within the
 * hour, or when it sent one itself within the hour; the write's condition (`lastUsedAt` absent or
 * older than an hour) refuses the rare copies other instances send at the same moment. On Lambda
 * the environment is frozen once the answer is returned: a write still in flight completes when
 * it next thaws, or is lost with it, and then the next use (on any instance) writes it.
 */
function recordUse(ctx: CoreContext, tenant: string, keyId: string, record: KeyRecord): void {
  const now = ctx.now();
  const hourAgo = now - LAST_USED_EVERY_MS;
  if (record.lastUsedAt !== undefined && Date.parse(record.lastUsedAt) > hourAgo) return;
  const keys = keysOf(ctx);
  const id = cacheKey(tenant, keyId);
  if ((keys.touched.get(id) ?? -Infinity) > hourAgo) return;
  if (keys.touched.size >= MAX_CACHED) keys.touched.clear();
  keys.touched.set(id, now);
  const at = new Date(now).toISOString();
  const input = { hourAgo: new Date(hourAgo).toISOString() };
  conditionalWrite(
    ctx.store,
    (e) => e.apiKey.patch({ tenant, keyId }).set({ lastUsedAt: at }).where(where(touchKey.condition(input))),
    (item) => touchKey.refusal(item, input),
  ).then(
    () => (record.lastUsedAt = at),
    (e: unknown) => {
      // Refused: another instance wrote it this hour, or the key is gone. Anything else: try again later.
      if (!refusedBy(touchKey, e)) keys.touched.set(id, hourAgo + LAST_USED_RETRY_MS);
    },
  );
}
