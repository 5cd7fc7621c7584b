import { randomBytes, randomUUID } from 'node:crypto';
import type { CoreContext } from '../context.ts';
import { requireRole, type Actor } from '../actor.ts';
import { transact } from '../db/transact.ts';
import { conditionalWrite } from '../db/conditional-write.ts';
import { where } from '../db/condition.ts';
import { asUpdate, refusalsOf, refusedBy } from '../db/transition.ts';
import { idempotencyGuard, type IdempotencyClaim } from '../idempotency/run.ts';
import type { WebhookEventType } from './event-types.ts';
import { removeEndpoint, rotateSecret, webhookNotFound } from './transitions.ts';

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
  await transact(ctx.store, ({ webhook }) => [webhook.create(record).commit()], {
    // A fresh UUID cannot collide; if it ever did, a new attempt is the right answer.
    onConditionFailed: () => new Error('webhook id collision'),
    guard: idempotencyGuard(opts.idempotency, () => created),
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

export async function listWebhooks(ctx: CoreContext, actor: Actor): Promise<{ items: WebhookView[] }> {
  requireRole(actor, 'admin');
  const records = await readTenantWebhooks(ctx, actor.tenant);
  return { items: records.sort((a, b) => a.createdAt.localeCompare(b.createdAt)).map((r) => toWebhookView(r, ctx.now())) };
}

export const deleteWebhookRefusals = refusalsOf({ runs: [removeEndpoint] });

export async function deleteWebhook(ctx: CoreContext, actor: Actor, webhookId: string): Promise<void> {
  requireRole(actor, 'admin');
  await conditionalWrite(
    ctx.store,
    (s) => s.webhook.delete({ tenant: actor.tenant, webhookId }).where(where(removeEndpoint.condition({ webhookId }))),
    (item) => removeEndpoint.refusal(item, { webhookId }),
  );
}

/** A rotation that lost to another is tried again from the winner's secret, so it is never refused for that. */
export const rotateWebhookSecretRefusals = refusalsOf({ runs: [rotateSecret], handles: ['rotated'], own: ['WEBHOOK_NOT_FOUND'] });

/**
 * A new secret; the old one keeps signing (a second signature in the same
 * header) for `overlapSeconds`, so receivers can switch without dropping a message.
 */
export async function rotateWebhookSecret(
  ctx: CoreContext,
  actor: Actor,
  webhookId: string,
  input: { overlapSeconds?: number },
): Promise<{ id: string; secret: string; previousSecretExpiresAt: string }> {
  requireRole(actor, 'admin');
  let current = await loadWebhook(ctx, actor.tenant, webhookId);
  for (;;) {
    const now = ctx.now();
    const secret = newSecret();
    const until = now + 1000 * (input.overlapSeconds ?? DEFAULT_ROTATION_OVERLAP_SECONDS);
    const rule = { webhookId, secret: current.secret };
    const change = { set: { secret, previousSecret: current.secret, previousSecretUntil: until, updatedAt: new Date(now).toISOString() } };
    try {
      await conditionalWrite(
        ctx.store,
        (s) => asUpdate(s.webhook.patch({ tenant: actor.tenant, webhookId }), change, rotateSecret.condition(rule)),
        (item) => rotateSecret.refusal(item, rule),
      );
      return { id: webhookId, secret, previousSecretExpiresAt: new Date(until).toISOString() };
    } catch (e) {
      // Two rotations at once: the loser retries from the winner's secret instead of dropping it.
      const rotated = refusedBy(rotateSecret, e);
      if (!rotated) throw e;
      current = rotated.item as WebhookRecord;
    }
  }
}
