import type { CoreContext } from '../context.ts';
import { oncePerEntry, transactionsOf, type HistoryItem } from '../code/history-write.ts';
import { activityCounter } from './activity-counter.ts';

export interface BackfillProgress {
  /** History entries the scan found not yet counted. */
  found: number;
  /** Of those, counted by this run. */
  counted: number;
}

/**
 * Counts into the books' activity the history entries written before
 * activity existed (an older release wrote them without `counted`). Exact,
 * safe to run twice and while the stream consumer runs: each entry is marked
 * `counted` in the same transaction that adds it to the counters, on the
 * condition that it is not marked yet (an entry marked meanwhile, by another
 * run, is dropped from the transaction with its counts); the consumer counts
 * only the entries it creates, marked as it writes them. One Scan of the
 * table for unmarked entries, page by page (docs/activity.md).
 *
 * Run it once the release that counts activity is live: an older release
 * still writing history could write unmarked entries after it.
 */
export async function countHistoriesIntoActivity(
  ctx: CoreContext,
  options: { pageSize?: number; onProgress?: (p: BackfillProgress) => void } = {},
): Promise<BackfillProgress> {
  const progress: BackfillProgress = { found: 0, counted: 0 };
  let cursor: string | null = null;
  do {
    const page: { data: HistoryItem[]; cursor: string | null } = await ctx.store.codeHistory.scan
      .where(({ counted }, { notExists }) => notExists(counted))
      .go({ cursor, limit: options.pageSize ?? 1000 });
    progress.found += page.data.length;
    progress.counted += await countIntoActivity(ctx, page.data);
    options.onProgress?.({ ...progress });
    cursor = page.cursor;
  } while (cursor);
  return progress;
}

/**
 * Counts these history entries into their books' activity and marks them
 * `counted`, each in the transaction that counts it and only if it is not
 * marked yet, so an entry is counted once however often it is handed over.
 * Answers how many this call counted.
 */
export async function countIntoActivity(ctx: CoreContext, items: readonly HistoryItem[]): Promise<number> {
  const counter = activityCounter();
  let counted = 0;
  for (const chunk of transactionsOf(items, counter)) {
    counted += await oncePerEntry(ctx.store, chunk, {
      entry: (item, entities) =>
        entities.codeHistory
          .patch({ tenant: item.tenant, code: item.code, seq: item.seq })
          .set({ counted: true })
          .where(({ counted }, { notExists }) => notExists(counted))
          .commit(),
      counts: counter.count,
    });
  }
  return counted;
}
