import { setTimeout as sleep } from 'node:timers/promises';
import type { CoreContext } from '../context.ts';
import { backoffMs } from '../db/transact.ts';
import { keyOf, reread, transactWrite, unchanged, type TransactItem } from './legacy-writes.ts';
import type { ItemOutcome, Phase, TableItem } from './migration.ts';

/** On the old item: how much of each counter its new item already has (prepare writes it, finish deletes it). */
export const foldedName = (counter: string) => `folded_${counter}`;

export interface Fold {
  /** The counters to carry over (numbers, absent = 0). */
  counters: readonly string[];
  /** Other attributes of the old item that must not change under the fold (they are copied too). */
  watched?: readonly string[];
  /**
   * Today's item, as the ElectroDB update that ADDs `delta` to it (every counter, zeros included,
   * so a new item has them all) and sets what else it needs, and any item the transaction must
   * check as well (the book whose gate is copied); built again on every attempt from the old item
   * as last read.
   */
  target: (delta: Record<string, number>, old: TableItem) => Promise<{ update: { params(): Record<string, any> }; checks?: TransactItem[] }>;
  /** In prepare, nothing to write when the counters are all folded and this says today's item is right already. */
  upToDate?: (old: TableItem) => Promise<boolean>;
}

/**
 * Carries the counts of an item the previous release kept under another key
 * into today's item, exactly once, while the previous release may still be
 * counting on the old one.
 *
 * The old item records how much of each counter has been carried
 * (`folded_*`); each fold ADDs the difference to today's item in the same
 * transaction that moves that record forward (prepare) or deletes the old
 * item (finish), conditioned on the old item's counters being what was
 * read. So a count the previous release adds meanwhile refuses the fold (read
 * again, fold again), a second fold of the same counts is a refused
 * condition, and today's item takes concurrent ADDs from the new code as
 * they come (ADD commutes; nothing conditions on its counters).
 */
export async function foldCounters(ctx: CoreContext, item: TableItem, phase: Phase, fold: Fold): Promise<ItemOutcome> {
  const folded = fold.counters.map(foldedName);
  const watched = [...fold.counters, ...folded, ...(fold.watched ?? [])];
  let old: TableItem | null = item;
  for (let attempt = 0; old; attempt++) {
    const delta = Object.fromEntries(fold.counters.map((c) => [c, (old![c] ?? 0) - (old![foldedName(c)] ?? 0)]));
    const nothingNew = Object.values(delta).every((d) => d === 0);
    if (phase === 'prepare' && nothingNew && (await fold.upToDate?.(old))) return 'unchanged';
    const condition = unchanged(old, watched, 'o');
    const onOld: TransactItem =
      phase === 'finish'
        ? { Delete: { TableName: ctx.store.table, Key: keyOf(old), ...condition } }
        : {
            Update: {
              TableName: ctx.store.table,
              Key: keyOf(old),
              UpdateExpression: `SET ${folded.map((_, i) => `#f${i} = :f${i}`).join(', ')}`,
              ...condition,
              ExpressionAttributeNames: { ...condition.ExpressionAttributeNames, ...Object.fromEntries(folded.map((f, i) => [`#f${i}`, f])) },
              ExpressionAttributeValues: {
                ...condition.ExpressionAttributeValues,
                ...Object.fromEntries(fold.counters.map((c, i) => [`:f${i}`, old![c] ?? 0])),
              },
            },
          };
    const target = await fold.target(delta, old);
    const items = [onOld, { Update: target.update.params() as any }, ...(target.checks ?? [])];
    if ((await transactWrite(ctx.store, items)) === 'written') return 'changed';
    // The old item moved (the previous release counted, a concurrent fold, a stale Scan page): read it again.
    await sleep(backoffMs(Math.min(attempt, 6), 10, 500));
    old = await reread(ctx.store, old);
    if (attempt > 200) throw new Error(`fold of ${old?.pk} ${old?.sk}: the item keeps changing`);
  }
  return 'unchanged';
}
