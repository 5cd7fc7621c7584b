import type { CoreContext } from '../context.ts';
import { gateOf } from '../book/gate.ts';
import { foldCounters } from './fold-counters.ts';
import type { TransactItem } from './legacy-writes.ts';
import type { Migration, TableItem } from './migration.ts';

const COUNTERS = ['codes', 'available', 'assigned', 'redeemed'] as const;
const GATE = ['bookStatus', 'validFromMs', 'validUntilMs'] as const;

/** A stats shard as the previous release stored it: under the book's partition key, sort key `STATS#<n>`. */
const isOldShard = (item: TableItem) => item.__edb_e__ === 'bookStatsShard' && /^STATS#\d+$/.test(item.sk);

type Gate = { bookStatus: 'active' | 'paused'; validFromMs?: number; validUntilMs?: number; gateVersion?: number };

/** The book's gate and a check that the book is still at the version it was read at (a new-code edit rewrites the gates). */
async function bookGate(ctx: CoreContext, tenant: string, bookId: string): Promise<{ gate: Gate; check: TransactItem } | null> {
  const { data: book } = await ctx.store.book.get({ tenant, bookId }).go({ consistent: true });
  if (!book) return null;
  const { Key: key } = ctx.store.book.get({ tenant, bookId }).params();
  const check: TransactItem = {
    ConditionCheck: {
      TableName: ctx.store.table,
      Key: key,
      ...(book.version === undefined
        ? { ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(#v)', ExpressionAttributeNames: { '#v': 'version' } }
        : { ConditionExpression: '#v = :v', ExpressionAttributeNames: { '#v': 'version' }, ExpressionAttributeValues: { ':v': book.version } }),
    },
  };
  return { gate: gateOf(book), check };
}

/**
 * Stats shards under the book's key read as zero today: the previous release
 * kept a book's N counter shards in the book's own partition (`T#t#BOOK#id` /
 * `STATS#n`), and each now has a partition of its own (`T#t#BOOK#id#STATS#n` /
 * `STATS`, commit 6f0dff5) so a sale's claims spread over N partition keys.
 *
 * Each old shard's counters are folded into its new item exactly once
 * (fold-counters.ts) together with its gate copy. `prepare` takes the gate
 * from the old shard (the previous release edits book and shards in one
 * transaction, so the shard is the book) and leaves the old item, on which the
 * previous release keeps counting; `finish` takes the gate from the book,
 * checked at the version read (the new code may have edited it), and deletes
 * the old item in the same transaction.
 */
export const statsShardsOwnPartition: Migration = {
  id: '001-stats-shards-own-partition',
  summary: "stats shards move from the book's partition (sk STATS#n) to one partition each",
  filter: {
    expression: '#e = :e AND begins_with(#sk, :sk)',
    names: { '#e': '__edb_e__', '#sk': 'sk' },
    values: { ':e': 'bookStatsShard', ':sk': 'STATS#' },
  },
  async migrate(ctx, item, phase) {
    if (!isOldShard(item)) return 'unchanged';
    const key = { tenant: item.tenant as string, bookId: item.bookId as string, shard: item.shard as number };
    return foldCounters(ctx, item, phase, {
      counters: COUNTERS,
      watched: GATE,
      target: async (delta, old) => {
        const fromBook = phase === 'finish' ? await bookGate(ctx, key.tenant, key.bookId) : null;
        const gate: Gate = fromBook?.gate ?? { bookStatus: old.bookStatus, validFromMs: old.validFromMs, validUntilMs: old.validUntilMs };
        const set = Object.fromEntries(Object.entries(gate).filter(([, v]) => v !== undefined));
        const absent = Object.keys(gate).filter((k) => gate[k as keyof Gate] === undefined);
        let update: any = ctx.store.bookStatsShard.update(key).add(delta).set(set);
        if (absent.length) update = update.remove(absent);
        return { update, checks: fromBook ? [fromBook.check] : [] };
      },
      upToDate: async (old) => {
        const { data } = await ctx.store.bookStatsShard.get(key).go({ consistent: true });
        return !!data && GATE.every((g) => data[g] === old[g]);
      },
    });
  },
};
