import { createConversions } from 'electrodb';
import type { CoreContext } from '../context.ts';
import { requireRole, type Actor } from '../actor.ts';
import { AppError } from '../errors.ts';
import { conditionalWrite } from '../db/conditional-write.ts';
import { where } from '../db/condition.ts';
import { passRefusalsOf, refusalsOf } from '../db/transition.ts';
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
  await conditionalWrite(
    ctx.store,
    (entities) => entities.apiKey.create(record),
    // 96 random bits do not collide; if they ever did, refusing beats overwriting another key.
    () => new AppError('UNAVAILABLE', 'Retry shortly.', { retryAfterSeconds: 1 }),
    idempotencyGuard(opts.idempotency, () => view),
  );
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
export const revokeApiKeyRefusals = refusalsOf({ runs: [revokeKey], handles: ['revoked'] });

/**
 * Marks the key revoked, by one conditional write: it must exist under the caller's tenant (its
 * key starts with the tenant, so another tenant's id is simply not there) and not be revoked yet,
 * so the first `revokedAt` stands. Revoking it again answers as the first time did (DELETE is
 * idempotent: a retry after a lost answer is no error). This instance forgets the key at once;
 * the others within their cache window (API_KEY_CACHE_MS).
 */
export async function revokeApiKey(ctx: CoreContext, actor: Actor, keyId: string): Promise<void> {
  requireTokenAdmin(actor);
  if (!KEY_ID.test(keyId)) throw apiKeyNotFound(keyId);
  const input = { keyId };
  try {
    await conditionalWrite(
      ctx.store,
      (e) => e.apiKey.patch({ tenant: actor.tenant, keyId }).set({ revokedAt: new Date(ctx.now()).toISOString(), revokedBy: actor.sub }).where(where(revokeKey.condition(input))),
      (item) => revokeKey.refusal(item, input),
    );
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
    await conditionalWrite(ctx.store, (e) => e.apiKey.create(record), (item) => storeKey.refusal(item, undefined));
    return { key, state: 'created' };
  } catch (e) {
    passRefusalsOf(storeKey)(e);
  }
  const { data } = await ctx.store.apiKey.get({ tenant: input.tenant, keyId: material.keyId }).go({ consistent: true });
  const usable = data && !data.revokedAt && data.secretHash === record.secretHash;
  return { key, state: usable ? 'existing' : 'revoked' };
}
