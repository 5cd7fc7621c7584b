import { randomBytes, randomUUID } from 'node:crypto';
import type { CoreContext } from '../context.ts';
import { requireRole, type Actor } from '../actor.ts';
import { z } from 'zod';
import { failed, transact } from '../db/transact.ts';
import { conditionalWrite } from '../db/conditional-write.ts';
import { where } from '../db/condition.ts';
import { packCursor, unpackCursor } from '../db/pagination.ts';
import {
  countedMoved,
  giveBack,
  giveBackItem,
  quotaRefusal,
  startCount,
  stillUncounted,
  takeQuota,
  takeQuotaItem,
  withQuota,
  type Quota,
} from '../db/quota.ts';
import { asUpdate, refusalsOf, refusedBy } from '../db/transition.ts';
import { idempotencyGuard, type IdempotencyClaim } from '../idempotency/run.ts';
import type { WebhookEventType } from './event-types.ts';
import { removeEndpoint, rotateSecret, shortenOverlap, webhookNotFound } from './transitions.ts';

export interface WebhookView {
  id: string;
  url: string;
  /** Empty: every event type. */
  events: WebhookEventType[];
  createdAt: string;
  /** While a rotated-out secret still signs. */
  previousSecretExpiresAt?: string;
}

export interface WebhookRecord {
  tenant: string;
  webhookId: string;
  url: string;
  events: string[];
  secret: string;
  previousSecret?: string;
  previousSecretUntil?: number;
  createdAt: string;
  updatedAt: string;
}

/** Default overlap after a rotation during which the old secret signs too. */
export const DEFAULT_ROTATION_OVERLAP_SECONDS = 24 * 3600;

/** A Standard Webhooks secret: `whsec_` and 32 random bytes in base64. */
export const newSecret = () => `whsec_${randomBytes(32).toString('base64')}`;

export function toWebhookView(r: WebhookRecord, now: number): WebhookView {
  const view: WebhookView = { id: r.webhookId, url: r.url, events: r.events as WebhookEventType[], createdAt: r.createdAt };
  if (r.previousSecret && r.previousSecretUntil && r.previousSecretUntil > now) view.previousSecretExpiresAt = new Date(r.previousSecretUntil).toISOString();
  return view;
}

/** The secrets that sign now: the current one, and the previous one during its overlap. */
export const signingSecrets = (r: WebhookRecord, now: number) =>
  r.previousSecret && (r.previousSecretUntil ?? 0) > now ? [r.secret, r.previousSecret] : [r.secret];

/**
 * Endpoints a tenant may have: every event is sent to each, so the cap bounds what one tenant's
 * events cost in deliveries as much as what it stores (docs/security.md#bounds).
 */
export const WEBHOOK_QUOTA: Quota = { kind: 'webhooks', cap: 25, what: 'webhook endpoints' };

export const createWebhookRefusals = refusalsOf({ runs: [takeQuota, startCount], handles: ['uncounted', 'counted'] });

/**
 * A new endpoint, in one transaction with the tenant's count of endpoints
 * (db/quota.ts): one more under the cap, or, for a tenant that has no count
 * yet, a count started from its endpoints as they are (each checked still
 * there, so none deleted meanwhile is counted).
 */
export async function createWebhook(
  ctx: CoreContext,
  actor: Actor,
  input: { url: string; events?: WebhookEventType[] },
  opts: { idempotency?: IdempotencyClaim } = {},
): Promise<WebhookView & { secret: string }> {
  requireRole(actor, 'admin');
  const now = new Date(ctx.now()).toISOString();
  const record: WebhookRecord = {
    tenant: actor.tenant,
    webhookId: randomUUID(),
    url: input.url,
    events: [...new Set(input.events ?? [])],
    secret: newSecret(),
    createdAt: now,
    updatedAt: now,
  };
  const created = { ...toWebhookView(record, ctx.now()), secret: record.secret };
  await withQuota(ctx.store, actor.tenant, WEBHOOK_QUOTA.kind, async (used) => {
    const existing = used === undefined ? await readTenantWebhooks(ctx, actor.tenant) : [];
    await transact(
      ctx.store,
      (entities) => {
        const items: Record<string, unknown> = {
          webhook: entities.webhook.create(record).commit(),
          quota: takeQuotaItem(entities, actor.tenant, WEBHOOK_QUOTA, used, existing.length),
        };
        existing.forEach((w, i) => {
          items[`counted${i}`] = entities.webhook
            .check({ tenant: actor.tenant, webhookId: w.webhookId })
            .where(where(removeEndpoint.condition({ webhookId: w.webhookId })))
            .commit();
        });
        return items;
      },
      {
        onConditionFailed: (reasons) =>
          failed(reasons, 'quota')
            ? quotaRefusal(reasons.quota.item, WEBHOOK_QUOTA, used)
            : failed(reasons, 'webhook')
              ? // A fresh UUID cannot collide; if it ever did, a new attempt is the right answer.
                new Error('webhook id collision')
              : countedMoved(WEBHOOK_QUOTA),
        guard: idempotencyGuard(opts.idempotency, () => created),
      },
    );
  });
  return created;
}

export async function loadWebhook(ctx: CoreContext, tenant: string, webhookId: string): Promise<WebhookRecord> {
  const { data } = await ctx.store.webhook.get({ tenant, webhookId }).go({ consistent: true });
  if (!data) throw webhookNotFound(webhookId);
  return data as WebhookRecord;
}

export async function getWebhook(ctx: CoreContext, actor: Actor, webhookId: string): Promise<WebhookView> {
  requireRole(actor, 'admin');
  return toWebhookView(await loadWebhook(ctx, actor.tenant, webhookId), ctx.now());
}

/** A tenant's endpoints, secrets included: one strongly consistent Query of the tenant's webhook partition. */
export async function readTenantWebhooks(ctx: CoreContext, tenant: string): Promise<WebhookRecord[]> {
  const { data } = await ctx.store.webhook.query.byTenant({ tenant }).go({ pages: 'all', consistent: true });
  return data as WebhookRecord[];
}

/** Endpoints in a page of `GET /webhooks`: at most the cap, so one page holds them all unless `limit` asks for fewer. */
export const WEBHOOKS_PAGE = { default: WEBHOOK_QUOTA.cap, max: 100 } as const;

const ListCursor = z.object({ v: z.literal(1), c: z.string().max(40), i: z.string().max(128) }).strict();

function afterCursor(raw: string): { createdAt: string; webhookId: string } {
  const wire = unpackCursor(raw, ListCursor);
  return { createdAt: wire.c, webhookId: wire.i };
}

const listOrder = (a: WebhookRecord, b: { createdAt: string; webhookId: string }) => a.createdAt.localeCompare(b.createdAt) || a.webhookId.localeCompare(b.webhookId);

/**
 * The tenant's endpoints, oldest first, a page at a time. There are at most
 * WEBHOOK_QUOTA.cap of them, in one partition: the page is cut from one
 * consistent Query of them all (about 1 RCU), after the cursor (the last
 * endpoint's createdAt and id).
 */
export async function listWebhooks(
  ctx: CoreContext,
  actor: Actor,
  page: { limit?: number; cursor?: string } = {},
): Promise<{ items: WebhookView[]; nextCursor: string | null }> {
  requireRole(actor, 'admin');
  const limit = Math.min(page.limit ?? WEBHOOKS_PAGE.default, WEBHOOKS_PAGE.max);
  const after = page.cursor === undefined ? undefined : afterCursor(page.cursor);
  const records = (await readTenantWebhooks(ctx, actor.tenant)).sort(listOrder).filter((r) => !after || listOrder(r, after) > 0);
  const items = records.slice(0, limit);
  const last = items[items.length - 1];
  const nextCursor = records.length > limit && last ? packCursor({ v: 1, c: last.createdAt, i: last.webhookId }) : null;
  return { items: items.map((r) => toWebhookView(r, ctx.now())), nextCursor };
}

export const deleteWebhookRefusals = refusalsOf({ runs: [removeEndpoint, giveBack, stillUncounted], handles: ['uncounted', 'counted'] });

/** Removes an endpoint, in one transaction with one fewer in the tenant's count of endpoints (or none, before one is started). */
export async function deleteWebhook(ctx: CoreContext, actor: Actor, webhookId: string): Promise<void> {
  requireRole(actor, 'admin');
  await withQuota(ctx.store, actor.tenant, WEBHOOK_QUOTA.kind, (used) =>
    transact(
      ctx.store,
      (entities) => ({
        webhook: entities.webhook
          .delete({ tenant: actor.tenant, webhookId })
          .where(where(removeEndpoint.condition({ webhookId })))
          .commit({ response: 'all_old' }),
        quota: giveBackItem(entities, actor.tenant, WEBHOOK_QUOTA, used),
      }),
      {
        onConditionFailed: (reasons) =>
          failed(reasons, 'webhook')
            ? removeEndpoint.refusal(reasons.webhook.item, { webhookId })
            : quotaRefusal(reasons.quota.item, WEBHOOK_QUOTA, used, true),
      },
    ),
  );
}

/** A rotation that lost to another joins it, so it is never refused for that. */
export const rotateWebhookSecretRefusals = refusalsOf({ runs: [rotateSecret, shortenOverlap], handles: ['rotated'], own: ['WEBHOOK_NOT_FOUND'] });

export interface RotatedSecret {
  id: string;
  secret: string;
  previousSecretExpiresAt: string;
}

/**
 * A new secret; the old one keeps signing (a second signature in the same
 * header) for `overlapSeconds`, so receivers can switch without dropping a
 * message. Rotations racing each other are one rotation: the secret held
 * before them is the one rotated out, every caller is answered the same new
 * secret, and the shortest overlap asked for stands (an overlap of 0 is
 * asked for to cut a leaked secret off at once).
 */
export async function rotateWebhookSecret(
  ctx: CoreContext,
  actor: Actor,
  webhookId: string,
  input: { overlapSeconds?: number },
): Promise<RotatedSecret> {
  requireRole(actor, 'admin');
  const current = await loadWebhook(ctx, actor.tenant, webhookId);
  const key = { tenant: actor.tenant, webhookId };
  const now = ctx.now();
  const secret = newSecret();
  const until = now + 1000 * (input.overlapSeconds ?? DEFAULT_ROTATION_OVERLAP_SECONDS);
  const rule = { webhookId, secret: current.secret };
  const change = { set: { secret, previousSecret: current.secret, previousSecretUntil: until, updatedAt: new Date(now).toISOString() } };
  try {
    await conditionalWrite(
      ctx.store,
      (s) => asUpdate(s.webhook.patch(key), change, rotateSecret.condition(rule)),
      (item) => rotateSecret.refusal(item, rule),
    );
    return { id: webhookId, secret, previousSecretExpiresAt: new Date(until).toISOString() };
  } catch (e) {
    const rotated = refusedBy(rotateSecret, e);
    if (!rotated) throw e;
    return joinRotation(ctx, key, rotated.item as WebhookRecord, current.secret, until - now);
  }
}

/**
 * Another rotation got in since `readSecret` was read. If it rotated out that
 * same secret, it is the rotation this request asked for: answer it, after
 * shortening the old secret's overlap to `overlapMs` from that rotation if
 * that is shorter than the one it has (so rotations asking for the same
 * overlap answer the same expiry). If the endpoint has rotated again since,
 * the newest rotation is answered as it is.
 */
async function joinRotation(
  ctx: CoreContext,
  key: { tenant: string; webhookId: string },
  found: WebhookRecord,
  readSecret: string,
  overlapMs: number,
): Promise<RotatedSecret> {
  let item = found;
  for (;;) {
    const answer = { id: key.webhookId, secret: item.secret, previousSecretExpiresAt: new Date(item.previousSecretUntil ?? 0).toISOString() };
    const until = Date.parse(item.updatedAt) + overlapMs;
    if (item.previousSecret !== readSecret || (item.previousSecretUntil ?? 0) <= until) return answer;
    const rule = { webhookId: key.webhookId, secret: item.secret, previousSecret: readSecret, until };
    try {
      await conditionalWrite(
        ctx.store,
        (s) => asUpdate(s.webhook.patch(key), { set: { previousSecretUntil: until } }, shortenOverlap.condition(rule)),
        (refused) => shortenOverlap.refusal(refused, rule),
      );
      return { ...answer, previousSecretExpiresAt: new Date(until).toISOString() };
    } catch (e) {
      const rotated = refusedBy(shortenOverlap, e);
      if (!rotated) throw e;
      item = rotated.item as WebhookRecord;
    }
  }
}
