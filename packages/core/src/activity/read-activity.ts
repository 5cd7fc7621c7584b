import type { CoreContext } from '../context.ts';
import { requireRole, type Actor } from '../actor.ts';
import { validationFailed, type FieldIssue } from '../errors.ts';
import { loadBook } from '../book/load-book.ts';
import type { CodeEventType } from '../code/code-event.ts';
import { ACTIVITY_SLOTS } from './activity-counter.ts';
import { bucketCount, bucketStart, INTERVAL_MS, MAX_ACTIVITY_BUCKETS, type ActivityInterval } from './buckets.ts';

export const DEFAULT_ACTIVITY_INTERVAL: ActivityInterval = 'hour';

export interface ActivityQuery {
  /** ISO 8601; the first bucket holds it. */
  from: string;
  /** ISO 8601, exclusive. */
  to: string;
  interval?: ActivityInterval;
}

export type ActivityCounts = Record<CodeEventType, number>;
export interface ActivityBucket extends ActivityCounts {
  /** The bucket's start, ISO 8601 in UTC. */
  start: string;
}
export interface Activity {
  interval: ActivityInterval;
  buckets: ActivityBucket[];
}

const TYPES: readonly CodeEventType[] = ['assigned', 'locked', 'unlocked', 'redeemed', 'rolledBack'];
const zero = (): ActivityCounts => ({ assigned: 0, locked: 0, unlocked: 0, redeemed: 0, rolledBack: 0 });

/** The range as epoch ms, or the precise reason it cannot be charted. */
function checkedRange(query: ActivityQuery, interval: ActivityInterval) {
  const from = Date.parse(query.from);
  const to = Date.parse(query.to);
  const issues: FieldIssue[] = [];
  if (Number.isNaN(from)) issues.push({ field: 'from', reason: 'not a date and time (ISO 8601)' });
  if (Number.isNaN(to)) issues.push({ field: 'to', reason: 'not a date and time (ISO 8601)' });
  if (issues.length) throw validationFailed(issues, `Invalid ${issues.map((i) => i.field).join(', ')}.`);
  if (to <= from) throw validationFailed([{ field: 'to', reason: 'must be after from (to is exclusive)' }], 'to must be after from.');
  const count = bucketCount(from, to, interval);
  if (count > MAX_ACTIVITY_BUCKETS) {
    const reason = `from ${new Date(from).toISOString()} to ${new Date(to).toISOString()} is ${count.toLocaleString('en-US')} ${interval} buckets; at most ${MAX_ACTIVITY_BUCKETS.toLocaleString('en-US')} (a shorter range or a longer interval)`;
    throw validationFailed([{ field: 'to', reason }], `Too many buckets: ${count} ${interval}s, at most ${MAX_ACTIVITY_BUCKETS}.`);
  }
  return { first: bucketStart(from, interval), count };
}

/**
 * A book's activity: per bucket of `interval` from `from` to `to`, how many
 * of its codes were assigned, locked, unlocked, redeemed and rolled back,
 * oldest first, empty buckets included. One GetItem of the book and one Query
 * per slot of the interval's counters over the range, in parallel: at most
 * ACTIVITY_SLOTS × buckets small items, however many codes the book has.
 */
export async function readActivity(ctx: CoreContext, actor: Actor, bookId: string, query: ActivityQuery): Promise<Activity> {
  requireRole(actor, 'admin');
  const interval = query.interval ?? DEFAULT_ACTIVITY_INTERVAL;
  const { first, count } = checkedRange(query, interval);
  await loadBook(ctx, actor.tenant, bookId);
  const starts = Array.from({ length: count }, (_, i) => new Date(first + i * INTERVAL_MS[interval]).toISOString());
  const sums = new Map(starts.map((s) => [s, zero()]));
  const slots = await Promise.all(
    Array.from({ length: ACTIVITY_SLOTS }, (_, slot) =>
      ctx.store.activityCounter.query
        .bySlot({ tenant: actor.tenant, bookId, interval, slot })
        .between({ bucket: starts[0]! }, { bucket: starts.at(-1)! })
        .go({ pages: 'all' }),
    ),
  );
  for (const { data } of slots) {
    for (const item of data) {
      const sum = sums.get(item.bucket);
      if (!sum) continue;
      for (const t of TYPES) sum[t] += item[t] ?? 0;
    }
  }
  return { interval, buckets: starts.map((start) => ({ start, ...sums.get(start)! })) };
}
