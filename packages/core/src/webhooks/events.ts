import { createHash } from 'node:crypto';
import type { CoreContext } from '../context.ts';
import type { TableChange } from '../stream/change.ts';
import type { CodeEvent } from '../code/code-event.ts';
import { loadBookCached } from '../book/load-book.ts';
import type { BookRecord } from '../book/book.ts';
import { toCodeView } from '../code/view.ts';
import type { CodeRecord } from '../code/state.ts';
import type { WebhookEvent, WebhookEventType } from './event-types.ts';

/** What `codeEventsOf` makes of a code item's change: the steps of its life it stands for (usually one). */
export type CodeLifeEvent = CodeEvent;

export type CodeEventsOf = (change: TableChange) => CodeLifeEvent[];

const CODE_EVENT_TYPES: Record<CodeLifeEvent['type'], WebhookEventType> = {
  assigned: 'code.assigned',
  locked: 'code.locked',
  unlocked: 'code.unlocked',
  redeemed: 'code.redeemed',
  rolledBack: 'redemption.rolled_back',
};

const entityOf = (change: TableChange): string | undefined => (change.newImage ?? change.oldImage)?.__edb_e__;

/**
 * A message id that is the same whenever the same committed change is read
 * again (a follower resumed from its checkpoint, a retried Lambda), so a
 * receiver de-duplicating on `webhook-id` sees each event once. It starts
 * with the commit time, so ids sort by time in the delivery log.
 */
export function messageIdOf(at: number, ...parts: (string | number)[]): string {
  const hash = createHash('sha256').update(parts.join('\u0000')).digest('base64url').slice(0, 20);
  return `msg_${Math.max(0, at).toString(36).padStart(9, '0')}${hash}`;
}

const pad = (n: number | string, width: number) => String(n).padStart(width, '0');
/** Orders changes of one item: commit time, then the stream's own sequence number. */
const streamOrder = (change: TableChange) => `${pad(change.at, 15)}#${pad(change.sequenceNumber, 40)}`;
const iso = (at: string | number) => (typeof at === 'number' ? new Date(at).toISOString() : at);

async function bookOf(ctx: CoreContext, tenant: string, bookId: string): Promise<BookRecord | undefined> {
  try {
    return await loadBookCached(ctx, tenant, bookId);
  } catch {
    return undefined; // the event still goes out, without the book's discount and validity
  }
}

/**
 * A rollback's reason is kept on its redemption record, not on the code item
 * (it would push the code past 1 KB): one consistent read per rollback, off
 * the request path.
 */
async function rollbackReason(ctx: CoreContext, tenant: string, code: string, redemptionId: string): Promise<string | undefined> {
  const { data } = await ctx.store.redemption.get({ tenant, code, redemptionId }).go({ consistent: true });
  return (data as { rollbackReason?: string } | null)?.rollbackReason;
}

/** The webhook events a committed change means, in order: usually none or one, two for a claim with a lock. */
export async function eventsOf(ctx: CoreContext, change: TableChange, codeEventsOf: CodeEventsOf): Promise<WebhookEvent[]> {
  if (entityOf(change) === 'code') return Promise.all(codeEventsOf(change).map((e) => codeLifeEvent(ctx, e)));
  const event = await otherEventOf(ctx, change);
  return event ? [event] : [];
}

/** A step of a code's life as a webhook event: the code view as the step left it. */
async function codeLifeEvent(ctx: CoreContext, e: CodeLifeEvent): Promise<WebhookEvent> {
  const type = CODE_EVENT_TYPES[e.type];
  const at = typeof e.at === 'number' ? e.at : Date.parse(e.at);
  const book = await bookOf(ctx, e.tenant, e.bookId);
  const data: Record<string, unknown> = { ...toCodeView(e.item as CodeRecord, book, at), by: e.by };
  if (e.userId !== undefined) data.userId = e.userId;
  for (const k of ['lockId', 'redemptionId', 'orderId', 'reason'] as const) if (e[k] !== undefined) data[k] = e[k];
  if (e.type === 'rolledBack' && e.reason === undefined && e.redemptionId) {
    const reason = await rollbackReason(ctx, e.tenant, e.code, e.redemptionId);
    if (reason !== undefined) data.reason = reason;
  }
  return {
    id: messageIdOf(at, e.tenant, e.code, e.seq, type),
    tenant: e.tenant,
    type,
    timestamp: iso(e.at),
    data,
    lane: `code:${e.code}`,
    order: pad(e.seq, 12),
  };
}

/** A book's stock alert or a job's end, if the change is one. */
async function otherEventOf(ctx: CoreContext, change: TableChange): Promise<WebhookEvent | undefined> {
  const entity = entityOf(change);
  if (entity === 'bookAlert' && change.eventName !== 'REMOVE') {
    const next = change.newImage!;
    if (next.state !== 'fired' || change.oldImage?.state === 'fired') return undefined;
    const type: WebhookEventType = next.kind === 'low_stock' ? 'book.low_stock' : 'book.exhausted';
    const book = await bookOf(ctx, next.tenant, next.bookId);
    const data: Record<string, unknown> = { bookId: next.bookId, name: book?.name, available: next.available };
    if (type === 'book.low_stock') {
      data.lowStockThreshold = next.threshold;
      data.claimRatePerMinute = next.claimRatePerMinute;
      data.estimatedRunOutAt = next.estimatedRunOutAt ?? null;
    }
    return {
      id: messageIdOf(change.at, next.tenant, change.keys.pk, change.keys.sk, change.sequenceNumber),
      tenant: next.tenant,
      type,
      timestamp: next.changedAt,
      data,
      lane: `book:${next.bookId}`,
      order: streamOrder(change),
    };
  }
  if (entity === 'job' && change.eventName === 'MODIFY') {
    const next = change.newImage!;
    if (next.status === change.oldImage?.status || (next.status !== 'succeeded' && next.status !== 'failed')) return undefined;
    const data: Record<string, unknown> = {
      jobId: next.jobId,
      bookId: next.bookId,
      kind: next.kind,
      status: next.status,
      total: next.total,
      pattern: next.pattern,
      startedAt: next.startedAt ?? null,
      finishedAt: next.finishedAt,
    };
    if (next.error) data.error = next.error;
    return {
      id: messageIdOf(change.at, next.tenant, change.keys.pk, change.sequenceNumber),
      tenant: next.tenant,
      type: next.status === 'succeeded' ? 'job.succeeded' : 'job.failed',
      timestamp: next.finishedAt ?? new Date(change.at).toISOString(),
      data,
      lane: `job:${next.jobId}`,
      order: streamOrder(change),
    };
  }
  return undefined;
}
