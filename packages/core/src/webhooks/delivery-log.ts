import { z } from 'zod';
import type { CoreContext } from '../context.ts';
import { requireRole, type Actor } from '../actor.ts';
import { invalidCursor, packCursor, unpackCursor } from '../db/pagination.ts';
import type { DeliveryStatus } from '../entities/webhook-delivery.ts';
import { loadWebhook } from './endpoints.ts';
import { toDeliveryView, type DeliveryView } from './deliveries.ts';

/**
 * Reading an endpoint's delivery log, newest first, a page at a time.
 *
 * The log is spread over `WEBHOOK_DELIVERY_SHARDS` partitions, each sorted by
 * message id, and a message id starts with its event's time, so every shard
 * is read newest first and the reads are merged. A cursor is one message id:
 * the next page is everything older than it, in every shard.
 *
 * Without a status every message read belongs on the page, so reading
 * `limit + 1` from each shard settles the page exactly (the newest `limit`
 * of all shards are among the newest `limit` of each). A status is tested on
 * the items read, after the limit of the read, never in DynamoDB's Limit:
 * each shard is read `FILTERED_READ` at a time, up to `FILTERED_ROUNDS`
 * times, and the page holds the matches down to the point every shard still
 * being read has reached. A filtered page can therefore hold fewer than
 * `limit` messages (even none) and still carry a cursor; following the
 * cursor finds every matching message once, in order.
 */

/** Messages read from each shard per round when filtering by status. */
export const FILTERED_READ = 100;
/** Rounds of reads per filtered page: the page's cost is at most shards × FILTERED_READ × FILTERED_ROUNDS records. */
export const FILTERED_ROUNDS = 2;
/** `limit` when the query names none, and its largest value. */
export const DELIVERIES_PAGE = { default: 50, max: 100 } as const;

const MESSAGE_ID = /^msg_[0-9a-z]{9}[A-Za-z0-9_-]{20}$/;

const Wire = z.object({ v: z.literal(1), f: z.string().max(16), b: z.string().regex(MESSAGE_ID) }).strict();

const encodeCursor = (status: string, before: string) => packCursor({ v: 1, f: status, b: before });

/** The message id a cursor names (the page starts below it); it must have been made for the same status filter. */
function decodeCursor(raw: string, status: string): string {
  const wire = unpackCursor(raw, Wire);
  if (wire.f !== status) throw invalidCursor('made for another status filter');
  return wire.b;
}

interface ShardRead {
  shard: number;
  /** The oldest message id read so far; the next read starts below it. */
  before?: string;
  done: boolean;
}

type Record_ = Record<string, any> & { messageId: string; status: DeliveryStatus };

export async function listDeliveries(
  ctx: CoreContext,
  actor: Actor,
  webhookId: string,
  query: { limit?: number; status?: DeliveryStatus; cursor?: string },
): Promise<{ items: DeliveryView[]; nextCursor: string | null }> {
  requireRole(actor, 'admin');
  await loadWebhook(ctx, actor.tenant, webhookId);
  const limit = Math.min(query.limit ?? DELIVERIES_PAGE.default, DELIVERIES_PAGE.max);
  const filter = query.status ?? '';
  const start = query.cursor ? decodeCursor(query.cursor, filter) : undefined;
  const perRead = query.status ? Math.max(FILTERED_READ, limit + 1) : limit + 1;
  const rounds = query.status ? FILTERED_ROUNDS : 1;

  const shards: ShardRead[] = Array.from({ length: ctx.config.WEBHOOK_DELIVERY_SHARDS }, (_, shard) => ({ shard, before: start, done: false }));
  const matches: Record_[] = [];
  /** Every shard not yet read to its end has been read down to here (inclusive); undefined once all are. */
  let frontier: string | undefined;
  for (let round = 0; round < rounds; round++) {
    await Promise.all(
      shards
        .filter((s) => !s.done)
        .map(async (s) => {
          const q = ctx.store.webhookDelivery.query.byMessage({ tenant: actor.tenant, webhookId, shard: s.shard });
          const { data } = await (s.before ? q.lt({ messageId: s.before }) : q).go({ limit: perRead, order: 'desc' });
          for (const r of data as Record_[]) if (!query.status || r.status === query.status) matches.push(r);
          s.done = data.length < perRead;
          if (data.length) s.before = data[data.length - 1]!.messageId;
        }),
    );
    const open = shards.filter((s) => !s.done).map((s) => s.before!);
    frontier = open.length ? open.reduce((a, b) => (a > b ? a : b)) : undefined;
    if (matches.filter((m) => frontier === undefined || m.messageId >= frontier).length > limit) break;
  }
  const settled = matches.filter((m) => frontier === undefined || m.messageId >= frontier).sort((a, b) => b.messageId.localeCompare(a.messageId));
  const items = settled.slice(0, limit);
  const nextCursor = settled.length > limit ? encodeCursor(filter, items[limit - 1]!.messageId) : frontier !== undefined ? encodeCursor(filter, frontier) : null;
  return { items: items.map(toDeliveryView), nextCursor };
}
