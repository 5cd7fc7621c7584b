import { setTimeout as sleep } from 'node:timers/promises';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { CoreContext } from '../context.ts';
import type { BookRecord } from '../book/book.ts';
import type { CodeRecord } from '../code/state.ts';
import { createConversions } from 'electrodb';
import { backoffMs } from '../db/transact.ts';
import { unavailable } from '../db/aws-errors.ts';
import { availableRow, toBookCodeRow, type BookCodeRow } from './book-code-row.ts';

/** A key read off an index: the code, and where it sits in its shard partition (what a cursor resumes after). */
export interface IndexKey {
  code: string;
  position: string;
}

/**
 * One way of walking a book's codes shard by shard: the keys of one shard
 * partition in index order, and the rows those keys stand for.
 */
export interface KeySource {
  /** Up to `n` keys of `shard` after `after`; `more`: the partition holds keys beyond them. */
  read(shard: number, after: string | undefined, n: number): Promise<{ keys: IndexKey[]; more: boolean }>;
  /** The rows of `keys`, in order; undefined where the item is gone. */
  rows(keys: IndexKey[], now: number): Promise<(BookCodeRow | undefined)[]>;
}

/** DynamoDB's limit on keys in one BatchGetItem. */
export const BATCH_GET_KEYS = 100;

/**
 * One Query on an index partition, built by the entity; one more key than
 * asked for, so the caller knows whether the partition goes on without a
 * second request. Eventually consistent, like the index itself.
 */
async function queryKeys(ctx: CoreContext, params: Record<string, any>, n: number): Promise<Record<string, any>[]> {
  const res = await ctx.store.client.send(new QueryCommand({ ...params, Limit: n + 1 } as any));
  return res.Items ?? [];
}

/**
 * Every code of the book, whatever its state: the `byBook` index (keys only,
 * sorted by code within each shard), then the items by BatchGet.
 */
export function byBookSource(ctx: CoreContext, book: BookRecord): KeySource {
  const { tenant, bookId } = book;
  return {
    async read(shard, after, n) {
      const query = ctx.store.code.query.byBook({ tenant, bookId, shard });
      const params = (after === undefined ? query : query.gt({ code: after })).params();
      const items = await queryKeys(ctx, params, n);
      // The index's sort key is the code itself.
      const keys = items.slice(0, n).map((i) => ({ code: i.gsi3sk as string, position: i.gsi3sk as string }));
      return { keys, more: items.length > n };
    },
    async rows(keys, now) {
      const found = await batchGetCodes(ctx, tenant, keys.map((k) => k.code));
      return keys.map((k) => {
        const record = found.get(k.code);
        return record ? toBookCodeRow(record, book, now) : undefined;
      });
    },
  };
}

/**
 * The book's available codes: its sparse `pool` index (keys only, random
 * slot order within each shard). An available code has no holder, lock or
 * redemption, so its row needs no read of the item.
 */
export function poolSource(ctx: CoreContext, book: BookRecord): KeySource {
  const { tenant, bookId } = book;
  const pool = createConversions(ctx.store.code).byAccessPattern.pool;
  return {
    async read(shard, after, n) {
      const query = ctx.store.code.query.pool({ tenant, bookId, shard });
      // Slots are 64 random bits: two codes of one shard sharing one is not a case worth a composite cursor.
      const params = (after === undefined ? query : query.gt({ poolSlot: after })).params();
      const items = await queryKeys(ctx, params, n);
      // The pool projects keys only: the entity reads the code and the slot back off them.
      const keys = items.slice(0, n).map((i) => {
        const { code, poolSlot } = pool.fromKeys.toComposite(i as any) as { code: string; poolSlot: string };
        return { code, position: poolSlot };
      });
      return { keys, more: items.length > n };
    },
    async rows(keys) {
      return keys.map((k) => availableRow(k.code, book));
    },
  };
}

const BATCH_ATTEMPTS = 8;

/**
 * The items of these codes, eventually consistent (half the read cost of a
 * strong read; the index they were found in is eventually consistent too).
 * BatchGet may leave keys unprocessed under load: those are asked again with
 * backoff, and if they never come back the request is a 503 to retry.
 */
export async function batchGetCodes(ctx: CoreContext, tenant: string, codes: string[]): Promise<Map<string, CodeRecord>> {
  const found = new Map<string, CodeRecord>();
  let pending = codes.map((code) => ({ tenant, code }));
  for (let attempt = 0; pending.length; attempt++) {
    if (attempt >= BATCH_ATTEMPTS) throw unavailable();
    if (attempt) await sleep(backoffMs(attempt, 25, 1000));
    const { data, unprocessed } = await ctx.store.code.get(pending).go({ concurrency: Math.min(4, Math.ceil(pending.length / BATCH_GET_KEYS)) });
    for (const item of data) found.set(item.code, item as unknown as CodeRecord);
    pending = unprocessed.map((u) => ({ tenant, code: u.code }));
  }
  return found;
}
