import { createHash } from 'node:crypto';
import type { CoreContext } from '../context.ts';
import { requireRole, type Actor } from '../actor.ts';
import type { DeliveryStatus } from '../entities/webhook-delivery.ts';
import type { DeliveryJob, WebhookEventType } from './event-types.ts';
import { loadWebhook } from './endpoints.ts';
import { where } from '../db/condition.ts';
import { conditionalWrite } from '../db/conditional-write.ts';
import { asUpdate, assertAllowed, passRefusalsOf, refusalsOf, refusedBy } from '../db/transition.ts';
import { recordAttempt, resend, writeDownPending } from './transitions.ts';

/** Which of the endpoint's delivery partitions a message lives in: a hash of its id, so a flash sale spreads evenly. */
export function deliveryShard(messageId: string, shards: number): number {
  return createHash('sha256').update(messageId).digest().readUInt32BE(0) % shards;
}

export interface DeliveryState {
  status: DeliveryStatus;
  attempts: number;
  nextAttemptAt?: number;
  lastAttemptAt?: number;
  responseStatus?: number;
  lastError?: string;
  resends?: number;
}

export interface DeliveryView {
  messageId: string;
  eventType: WebhookEventType;
  status: DeliveryStatus;
  attempts: number;
  responseStatus?: number;
  lastError?: string;
  lastAttemptAt?: string;
  nextAttemptAt?: string;
  createdAt: string;
}

const DAY_MS = 86_400_000;

/** When the message's event committed: its id starts with that time (events.ts, messageIdOf). */
export function createdAtOf(messageId: string, fallback: number): number {
  const ms = /^msg_([0-9a-z]{9})/.exec(messageId) ? parseInt(messageId.slice(4, 13), 36) : NaN;
  return Number.isFinite(ms) && ms > 0 ? ms : fallback;
}

function deliveryRecord(ctx: CoreContext, job: DeliveryJob, state: DeliveryState, options: { resumable?: boolean }) {
  const now = ctx.now();
  return {
    tenant: job.tenant,
    webhookId: job.webhookId,
    shard: deliveryShard(job.messageId, ctx.config.WEBHOOK_DELIVERY_SHARDS),
    messageId: job.messageId,
    eventType: job.eventType,
    lane: job.lane,
    order: job.order,
    body: job.body,
    createdAt: createdAtOf(job.messageId, now),
    resends: job.resends ?? 0,
    ...(options.resumable ? { resumable: true } : {}),
    ...state,
    expiresAt: Math.floor((now + ctx.config.WEBHOOK_LOG_DAYS * DAY_MS) / 1000),
  };
}

/**
 * Writes where one message to one endpoint stands: one PutItem, ~1 WCU, and
 * +1 for its due-index entry while pending if `resumable` (in-process
 * dispatcher). `superseded`: an admin sent the message again since this
 * attempt's copy was made, and the resend's record stands.
 */
export async function recordDelivery(
  ctx: CoreContext,
  job: DeliveryJob,
  state: DeliveryState,
  options: { resumable?: boolean } = {},
): Promise<'recorded' | 'superseded'> {
  const rule = { webhookId: job.webhookId, messageId: job.messageId, resends: job.resends ?? 0 };
  try {
    await conditionalWrite(
      ctx.store,
      (s) => s.webhookDelivery.put(deliveryRecord(ctx, job, state, options)).where(where(recordAttempt.condition(rule))),
      (item) => recordAttempt.refusal(item, rule),
    );
    return 'recorded';
  } catch (e) {
    if (refusedBy(recordAttempt, e)) return 'superseded';
    throw e;
  }
}

/**
 * Writes a message down as pending before its first attempt has answered
 * (the in-process dispatcher, for a slow endpoint), unless an attempt has
 * recorded it already: that record stands, and an attempt's record written
 * later replaces this one. One conditional PutItem and its due-index entry.
 */
export async function recordPendingIfNew(ctx: CoreContext, job: DeliveryJob, nextAttemptAt: number, options: { resumable?: boolean } = {}): Promise<void> {
  const rule = { webhookId: job.webhookId, messageId: job.messageId };
  await conditionalWrite(
    ctx.store,
    (s) => s.webhookDelivery.create(deliveryRecord(ctx, job, { status: 'pending', attempts: 0, nextAttemptAt }, options)).where(where(writeDownPending.condition(rule))),
    (item) => writeDownPending.refusal(item, rule),
  ).catch(passRefusalsOf(writeDownPending));
}

export const jobOfRecord = (r: Record<string, any>): DeliveryJob => ({
  tenant: r.tenant,
  webhookId: r.webhookId,
  messageId: r.messageId,
  eventType: r.eventType,
  lane: r.lane,
  order: r.order,
  body: r.body,
  resends: r.resends ?? 0,
});

const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());

export function toDeliveryView(r: Record<string, any>): DeliveryView {
  const v: DeliveryView = { messageId: r.messageId, eventType: r.eventType, status: r.status, attempts: r.attempts, createdAt: iso(r.createdAt)! };
  if (r.responseStatus !== undefined) v.responseStatus = r.responseStatus;
  if (r.lastError !== undefined) v.lastError = r.lastError;
  if (r.lastAttemptAt !== undefined) v.lastAttemptAt = iso(r.lastAttemptAt);
  if (r.status === 'pending' && r.nextAttemptAt !== undefined) v.nextAttemptAt = iso(r.nextAttemptAt);
  return v;
}

export const resendDeliveryRefusals = refusalsOf({ runs: [resend], own: ['WEBHOOK_NOT_FOUND'] });

/**
 * Sends a failed message again, from the start of the retry schedule. The
 * write is the whole request: its change on the table's stream hands the
 * message to delivery, like any event.
 */
export async function resendDelivery(ctx: CoreContext, actor: Actor, webhookId: string, messageId: string): Promise<DeliveryView> {
  requireRole(actor, 'admin');
  await loadWebhook(ctx, actor.tenant, webhookId);
  const key = { tenant: actor.tenant, webhookId, shard: deliveryShard(messageId, ctx.config.WEBHOOK_DELIVERY_SHARDS), messageId };
  const { data } = await ctx.store.webhookDelivery.get(key).go({ consistent: true });
  const rule = { webhookId, messageId, resends: data?.resends };
  assertAllowed(resend, data, rule);
  const now = ctx.now();
  const change = { set: { status: 'pending', attempts: 0, nextAttemptAt: now, resends: (data!.resends ?? 0) + 1 }, remove: ['responseStatus', 'lastError'] };
  await conditionalWrite(ctx.store, (s) => asUpdate(s.webhookDelivery.patch(key), change, resend.condition(rule)), (item) => resend.refusal(item, rule));
  return toDeliveryView({ ...data, status: 'pending', attempts: 0, nextAttemptAt: now });
}

/** Every pending delivery of every tenant (the dispatcher's work list after a restart): one Query per due shard. */
export async function readPendingDeliveries(ctx: CoreContext): Promise<DeliveryJob[] & Record<string, any>[]> {
  const pages = await Promise.all(
    Array.from({ length: ctx.config.WEBHOOK_DELIVERY_SHARDS }, async (_, shard) =>
      (await ctx.store.webhookDelivery.query.due({ shard }).go({ pages: 'all' })).data,
    ),
  );
  return pages.flat() as never;
}
