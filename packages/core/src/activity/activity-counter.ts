import { randomInt } from 'node:crypto';
import type { Entities } from '../db/transact.ts';
import type { HistoryCounter, HistoryItem } from '../code/history-write.ts';
import type { CodeEventType } from '../code/code-event.ts';
import { ACTIVITY_INTERVALS, bucketStart, type ActivityInterval } from './buckets.ts';

/**
 * Slot items per bucket, each its own partition key. A transaction adds to
 * one slot, chosen at random on every attempt, so a flash sale's concurrent
 * consumers seldom write the same item at once (a transaction conflict) and
 * no partition key takes the sale's whole write rate; a chart reads every
 * slot and sums them. The reasoning and the numbers: docs/activity.md.
 */
export const ACTIVITY_SLOTS = 16;

interface Bucket {
  tenant: string;
  bookId: string;
  interval: ActivityInterval;
  bucket: string;
  adds: Partial<Record<CodeEventType, number>>;
}

const keyOf = (tenant: string, bookId: string, interval: ActivityInterval, bucket: string) => `${tenant}\u0000${bookId}\u0000${interval}\u0000${bucket}`;

/** The buckets (one per interval) an entry falls in, by its transition's time. */
function bucketsOf(item: HistoryItem): { interval: ActivityInterval; bucket: string }[] {
  const at = Date.parse(item.at);
  return ACTIVITY_INTERVALS.map((interval) => ({ interval, bucket: new Date(bucketStart(at, interval)).toISOString() }));
}

/** The counter writes for `items`: one ADD per bucket and interval they fall in, all in `slot`. */
export function activityWrites(items: readonly HistoryItem[], entities: Pick<Entities, 'activityCounter'>, slot: number): unknown[] {
  const buckets = new Map<string, Bucket>();
  for (const item of items) {
    for (const { interval, bucket } of bucketsOf(item)) {
      const key = keyOf(item.tenant, item.bookId, interval, bucket);
      let b = buckets.get(key);
      if (!b) {
        b = { tenant: item.tenant, bookId: item.bookId, interval, bucket, adds: {} };
        buckets.set(key, b);
      }
      b.adds[item.type] = (b.adds[item.type] ?? 0) + 1;
    }
  }
  return [...buckets.values()].map((b) =>
    entities.activityCounter.update({ tenant: b.tenant, bookId: b.bookId, interval: b.interval, slot, bucket: b.bucket }).add(b.adds).commit(),
  );
}

/**
 * A book's activity, counted from its codes' history in the transactions
 * that write it (code/history-write.ts): each entry adds one to its type in
 * its minute, its hour and its day.
 */
export function activityCounter(): HistoryCounter {
  return {
    counterKeys: (item) => bucketsOf(item).map((b) => keyOf(item.tenant, item.bookId, b.interval, b.bucket)),
    count: (items, entities) => activityWrites(items, entities, randomInt(ACTIVITY_SLOTS)),
  };
}
