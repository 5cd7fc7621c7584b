import type { Store } from '../entities/index.ts';
import { failed, transact, type Entities } from '../db/transact.ts';
import type { CodeChange } from './code-event.ts';

/** One history item as written: the entry, its code and its place in the code's sequence. */
export interface HistoryItem extends CodeChange {
  tenant: string;
  code: string;
  bookId: string;
  seq: number;
}

/**
 * What is counted from history (the book's activity, activity/), written in
 * the same transaction as the entries it counts. An entry is written only if
 * it does not exist yet, so whatever commits with it commits exactly once,
 * however often the stream hands its change over. The composition root
 * supplies it, so code/ does not know what is counted.
 */
export interface HistoryCounter {
  /** The counter items an entry adds to, by identity: entries that share one share one write. */
  counterKeys(item: HistoryItem): readonly string[];
  /** The writes that count these entries, one per distinct key, for one transaction attempt. */
  count(items: readonly HistoryItem[], entities: Entities): unknown[];
}

/** TransactWriteItems takes at most 100 items. */
const TRANSACTION_ITEMS = 100;

/** A cancelled transaction's entries whose condition failed: written (and counted) before. */
class AlreadyDone extends Error {
  constructor(readonly items: HistoryItem[]) {
    super('history entries already written');
  }
}

/**
 * Writes the items that do not exist yet, with their counts, in transactions
 * of at most 100 items: each transaction puts its entries on the condition
 * that they are new, and adds to the counters they imply. A cancellation
 * names the entries that already existed (a replayed or re-split batch, a
 * consumer restarted from its checkpoint): they were counted by the
 * transaction that wrote them, so the transaction is sent again without
 * them. Items must be distinct.
 */
export async function writeHistoryItems(store: Store, items: readonly HistoryItem[], counter?: HistoryCounter): Promise<void> {
  for (const chunk of transactionsOf(items, counter)) {
    await oncePerEntry(store, chunk, {
      entry: (item, entities) => entities.codeHistory.create(counter ? { ...item, counted: true } : item).commit(),
      counts: counter?.count,
    });
  }
}

/** Items in order, cut where the next one's entry and new counters would pass 100 items. */
export function transactionsOf(items: readonly HistoryItem[], counter?: Pick<HistoryCounter, 'counterKeys'>): HistoryItem[][] {
  const out: HistoryItem[][] = [];
  let chunk: HistoryItem[] = [];
  let keys = new Set<string>();
  for (const item of items) {
    const own = counter?.counterKeys(item) ?? [];
    const added = own.filter((k) => !keys.has(k)).length;
    if (chunk.length && chunk.length + 1 + keys.size + added > TRANSACTION_ITEMS) {
      out.push(chunk);
      chunk = [];
      keys = new Set();
    }
    chunk.push(item);
    for (const k of own) keys.add(k);
  }
  if (chunk.length) out.push(chunk);
  return out;
}

/**
 * One transaction of each entry's write (conditioned so that it can succeed
 * only once per entry) and the counts of the entries written. Entries whose
 * condition fails are dropped, with their counts, and the rest sent again;
 * conflicts and throttling are retried by `transact`. Answers how many
 * entries this call wrote.
 */
export async function oncePerEntry(
  store: Store,
  items: readonly HistoryItem[],
  writes: { entry: (item: HistoryItem, entities: Entities) => unknown; counts?: (items: readonly HistoryItem[], entities: Entities) => unknown[] },
): Promise<number> {
  let pending = items;
  while (pending.length) {
    const batch = pending;
    try {
      await transact(
        store,
        (entities) => {
          const out: Record<string, unknown> = {};
          batch.forEach((item, i) => {
            out[`h${i}`] = writes.entry(item, entities);
          });
          writes.counts?.(batch, entities).forEach((w, i) => {
            out[`c${i}`] = w;
          });
          return out;
        },
        { onConditionFailed: (reasons) => new AlreadyDone(batch.filter((_, i) => failed(reasons, `h${i}`))) },
      );
      return batch.length;
    } catch (e) {
      if (!(e instanceof AlreadyDone)) throw e;
      // Only an entry's write carries a condition; a failure elsewhere would loop forever.
      if (!e.items.length) throw new Error('a history transaction failed a condition none of its entries carries');
      const done = new Set(e.items);
      pending = batch.filter((i) => !done.has(i));
    }
  }
  return 0;
}
