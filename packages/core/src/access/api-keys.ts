import { createConversions } from 'electrodb';
import type { CoreContext } from '../context.ts';
import { requireRole, type Actor } from '../actor.ts';
import { AppError } from '../errors.ts';
import { failed, transact, type Guard } from '../db/transact.ts';
import { where } from '../db/condition.ts';
import { passRefusalsOf, refusalsOf, refusedBy } from '../db/transition.ts';
import { countInPeriod, giveBack, giveBackItem, quotaRefusal, startCount, stillUncounted, takeQuota, takeQuotaItem, withQuota, type Quota } from '../db/quota.ts';
import { apiKeyNotFound, revokeKey, storeKey } from './api-key-transitions.ts';
import { readPage } from '../db/pagination.ts';
import type { API_KEY_ROLES } from '../entities/api-key.ts';
import { idempotencyGuard, type IdempotencyClaim } from '../idempotency/run.ts';
import { formatApiKey, hashSecret, KEY_ID, newKeyMaterial, prefixOf, type KeyMaterial } from './api-key-format.ts';
import { forgetApiKey } from './api-key-verifier.ts';

export type ApiKeyRole = (typeof API_KEY_ROLES)[number];

/** A key as the list shows it: never the key, never its hash. */
export interface ApiKeyView {
  keyId: string;
  name: string;
  role: ApiKeyRole;
  prefix: string;
  createdAt: string;
  lastUsedAt?: string;
  revokedAt?: string;
}

export interface ApiKeyRecord extends ApiKeyView {
  tenant: string;
  secretHash: string;
  createdBy: string;
  revokedBy?: string;
}


export function toApiKeyView(r: ApiKeyRecord): ApiKeyView {
  const view: ApiKeyView = { keyId: r.keyId, name: r.name, role: r.role, prefix: r.prefix, createdAt: r.createdAt };
  if (r.lastUsedAt) view.lastUsedAt = r.lastUsedAt;
  if (r.revokedAt) view.revokedAt = r.revokedAt;
  return view;
}

/**
 * Keys are managed by an admin signed in with a token, never with a key: a leaked admin key can
 * then not mint itself successors that outlive its revocation.
 */
export function requireTokenAdmin(actor: Actor): void {
  if (actor.apiKeyId !== undefined) throw new AppError('FORBIDDEN', 'API keys cannot manage API keys; sign in with an admin token.');
  requireRole(actor, 'admin');
}

function recordOf(tenant: string, input: { name: string; role: ApiKeyRole }, m: KeyMaterial, createdBy: string, now: number): ApiKeyRecord {
  return {
    tenant,
    keyId: m.keyId,
    name: input.name,
    role: input.role,
    prefix: prefixOf(tenant, m),
    secretHash: hashSecret(m.secret).toString('hex'),
    createdAt: new Date(now).toISOString(),
    createdBy,
  };
}

/** Active (unrevoked) keys a tenant may have. */
export const API_KEY_QUOTA: Quota = { kind: 'apiKeys', cap: 100, what: 'active API keys' };
/** Keys a tenant may create in one UTC day: with REVOKED_KEY_DAYS, what a create-and-revoke loop can leave listed. */
export const API_KEYS_PER_DAY = 200;
/** Days a revoked key stays listed (with `revokedAt`) before TTL removes it. */
export const REVOKED_KEY_DAYS = 30;
const DAY_MS = 86_400_000;

/** The count of keys created on the UTC day of `now`, kept two days (TTL). */
function createdTodayQuota(now: number): { quota: Quota; expiresAt: number } {
  const day = new Date(now).toISOString().slice(0, 10);
  return {
    quota: { kind: `apiKeysCreated#${day}`, cap: API_KEYS_PER_DAY, what: `API keys created on ${day}` },
    expiresAt: Math.floor((Date.parse(day) + 2 * DAY_MS) / 1000),
  };
}

/** The tenant's active keys, for a count started the first time (the list index is eventually consistent: see docs/security.md#bounds). */
async function countActiveKeys(ctx: CoreContext, tenant: string): Promise<number> {
  const { data } = await ctx.store.apiKey.query.byTenant({ tenant }).go({ pages: 'all' });
  return data.filter((k) => !k.revokedAt).length;
}

/**
 * Stores a new key in one transaction with the tenant's counts: one more active key under
 * API_KEY_QUOTA, one more created today under API_KEYS_PER_DAY (db/quota.ts).
 */
async function storeCountedKey(ctx: CoreContext, record: ApiKeyRecord, guard?: Guard): Promise<void> {
  const tenant = record.tenant;
  await withQuota(ctx.store, tenant, API_KEY_QUOTA.kind, async (used) => {
    const existing = used === undefined ? await countActiveKeys(ctx, tenant) : 0;
    const today = createdTodayQuota(ctx.now());
    await transact(
      ctx.store,
      (entities) => ({
        key: entities.apiKey.create(record).where(where(storeKey.condition(undefined))).commit({ response: 'all_old' }),
        quota: takeQuotaItem(entities, tenant, API_KEY_QUOTA, used, existing),
        today: entities.tenantQuota
          .upsert({ tenant, kind: today.quota.kind, expiresAt: today.expiresAt })
          .add({ used: 1 })
          .where(where(countInPeriod.condition(today.quota)))
          .commit({ response: 'all_old' }),
      }),
      {
        onConditionFailed: (reasons) =>
          failed(reasons, 'key')
            ? storeKey.refusal(reasons.key.item, undefined)
            : failed(reasons, 'today')
              ? countInPeriod.refusal(reasons.today.item, today.quota)
              : quotaRefusal(reasons.quota.item, API_KEY_QUOTA, used),
        guard,
      },
    );
  });
}

export const createApiKeyRefusals = refusalsOf({ runs: [takeQuota, startCount, countInPeriod], handles: ['uncounted', 'counted'] });

/**
 * A new key, shown once. The Idempotency-Key's record stores the answer *without* `key`: the
 * secret is never stored, so a retried create answers the first key's view and makes no second key.
 */
export async function createApiKey(
  ctx: CoreContext,
  actor: Actor,
  input: { name: string; role: ApiKeyRole },
  opts: { idempotency?: IdempotencyClaim } = {},
): Promise<ApiKeyView & { key?: string }> {
  requireTokenAdmin(actor);
  const material = newKeyMaterial();
  const record = recordOf(actor.tenant, input, material, actor.sub, ctx.now());
  const view = toApiKeyView(record);
  try {
    await storeCountedKey(ctx, record, idempotencyGuard(opts.idempotency, () => view));
  } catch (e) {
    // 96 random bits do not collide; if they ever did, refusing beats overwriting another key.
    if (refusedBy(storeKey, e)) throw new AppError('UNAVAILABLE', 'Retry shortly.', { retryAfterSeconds: 1 });
    throw e;
  }
  return { ...view, key: formatApiKey(actor.tenant, material) };
}

/** The tenant's keys, newest first, revoked ones with `revokedAt`: one Query of the byOwner index. */
export async function listApiKeys(
  ctx: CoreContext,
  actor: Actor,
  page: { limit?: number; cursor?: string | null },
): Promise<{ items: ApiKeyView[]; nextCursor: string | null }> {
  requireTokenAdmin(actor);
  const { data, cursor } = await readPage(
    page.limit ?? 50,
    (limit) => ctx.store.apiKey.query.byTenant({ tenant: actor.tenant }).go({ limit, cursor: page.cursor ?? null, order: 'desc' }),
    (key) => createConversions(ctx.store.apiKey).byAccessPattern.byTenant.fromComposite.toCursor(key),
  );
  return { items: (data as ApiKeyRecord[]).map(toApiKeyView), nextCursor: cursor };
}

/** What a revocation can refuse: a key that is not there (revoking twice answers as the first time). */
export const revokeApiKeyRefusals = refusalsOf({ runs: [revokeKey, giveBack, stillUncounted], handles: ['revoked', 'uncounted', 'counted'] });

/**
 * Marks the key revoked, in one transaction with one fewer active key in the tenant's count: it
 * must exist under the caller's tenant (its key starts with the tenant, so another tenant's id is
 * simply not there) and not be revoked yet, so the first `revokedAt` stands and a place is given
 * back once. Revoking it again answers as the first time did (DELETE is idempotent: a retry after
 * a lost answer is no error). The key stays listed for REVOKED_KEY_DAYS, then TTL removes it.
 * This instance forgets the key at once; the others within their cache window (API_KEY_CACHE_MS).
 */
export async function revokeApiKey(ctx: CoreContext, actor: Actor, keyId: string): Promise<void> {
  requireTokenAdmin(actor);
  if (!KEY_ID.test(keyId)) throw apiKeyNotFound(keyId);
  const input = { keyId };
  try {
    await withQuota(ctx.store, actor.tenant, API_KEY_QUOTA.kind, (used) => {
      const now = ctx.now();
      const revoked = { revokedAt: new Date(now).toISOString(), revokedBy: actor.sub, expiresAt: Math.floor((now + REVOKED_KEY_DAYS * DAY_MS) / 1000) };
      return transact(
        ctx.store,
        (entities) => ({
          key: entities.apiKey.patch({ tenant: actor.tenant, keyId }).set(revoked).where(where(revokeKey.condition(input))).commit({ response: 'all_old' }),
          quota: giveBackItem(entities, actor.tenant, API_KEY_QUOTA, used),
        }),
        {
          onConditionFailed: (reasons) =>
            failed(reasons, 'key') ? revokeKey.refusal(reasons.key.item, input) : quotaRefusal(reasons.quota.item, API_KEY_QUOTA, used, true),
        },
      );
    });
  } catch (e) {
    // Revoked already: answered as the first revocation was.
    passRefusalsOf(revokeKey)(e);
  } finally {
    forgetApiKey(ctx, actor.tenant, keyId);
  }
}

/**
 * Stores a key whose material the caller chose (npm start derives its development key), unless
 * it exists: `created`, `existing` (stored before, usable), or `revoked` (stored before and
 * revoked, or holding another secret: unusable). No HTTP caller reaches this.
 */
export async function provisionApiKey(
  ctx: CoreContext,
  input: { tenant: string; name: string; role: ApiKeyRole; createdBy: string },
  material: KeyMaterial,
): Promise<{ key: string; state: 'created' | 'existing' | 'revoked' }> {
  const key = formatApiKey(input.tenant, material);
  const record = recordOf(input.tenant, input, material, input.createdBy, ctx.now());
  try {
    await storeCountedKey(ctx, record);
    return { key, state: 'created' };
  } catch (e) {
    passRefusalsOf(storeKey)(e);
  }
  const { data } = await ctx.store.apiKey.get({ tenant: input.tenant, keyId: material.keyId }).go({ consistent: true });
  const usable = data && !data.revokedAt && data.secretHash === record.secretHash;
  return { key, state: usable ? 'existing' : 'revoked' };
}
