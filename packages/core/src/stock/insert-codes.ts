import { randomInt } from 'node:crypto';
import { randomPoolSlot } from '../code/pool-slot.ts';
import type { CoreContext } from '../context.ts';
import type { BookRecord } from '../book/book.ts';
import { transact, failed } from '../db/transact.ts';
import { forgetEmptyPools } from '../code/empty-pools.ts';
import type { Store } from '../entities/index.ts';

/** DynamoDB's limit on items in one TransactWriteItems. */
export const MAX_TRANSACTION_ITEMS = 100;

/** A code and the pool shard it goes to. */
export interface Placed {
  code: string;
  shard: number;
}

export async function mapWithConcurrency<T, R>(items: T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!, i);
    }
  });
  await Promise.all(workers);
  return out;
}

/**
 * Where each code goes and which transaction writes it.
 *
 * Shards: code i goes to shard (start + i) mod N, so every shard of the book
 * gets the same number of this call's codes, give or take one (a random pick
 * chooses a shard first, so shards of unequal size would make some codes
 * likelier picks than others); `start` is random, so the ±1 lands anywhere.
 *
 * Transactions: each holds the puts plus one counter update per shard it
 * touches. Spreading every transaction over all 16 shards would spend 16 of
 * its 100 items on counters (84 codes) and make concurrent transactions
 * contend for the same counters; instead a transaction takes a run of
 * consecutive codes of one shard and spills into the next only when the
 * shard runs out, so it touches one or two shards (98 or 99 codes) once a
 * call has more than a few hundred codes. Small calls still fit in one
 * transaction. Balance does not suffer: it was decided per code above.
 *
 * The transactions come back interleaved across shards, so the ones that run
 * side by side touch different counters.
 */
export function planInsert(codes: string[], shards: number, start = randomInt(shards), budget = MAX_TRANSACTION_ITEMS): Placed[][] {
  const byShard: string[][] = Array.from({ length: shards }, () => []);
  codes.forEach((code, i) => {
    byShard[(start + i) % shards]!.push(code);
  });
  const transactions: Placed[][] = [];
  let current: Placed[] = [];
  let items = 0;
  const close = () => {
    if (current.length) transactions.push(current);
    current = [];
    items = 0;
  };
  for (let k = 0; k < shards; k++) {
    const shard = (start + k) % shards;
    const list = byShard[shard]!;
    let taken = 0;
    while (taken < list.length) {
      const room = budget - items - 1; // one item for this shard's counter
      if (room <= 0) {
        close();
        continue;
      }
      const n = Math.min(room, list.length - taken);
      for (let j = 0; j < n; j++) current.push({ code: list[taken + j]!, shard });
      taken += n;
      items += n + 1;
    }
  }
  close();
  // Round-robin over the shards the transactions start in, even rotation positions first
  // (0, 2, 4, …, 1, 3, …): neighbours in the order start two shards apart, so even one that
  // spills into the next shard shares no counter with the ones beside it.
  const groups = new Map<number, Placed[][]>();
  for (const tx of transactions) {
    const k = (tx[0]!.shard - start + shards) % shards;
    groups.set(k, [...(groups.get(k) ?? []), tx]);
  }
  const order = [...groups.keys()].sort((a, b) => (a % 2) - (b % 2) || a - b);
  const out: Placed[][] = [];
  for (let round = 0; out.length < transactions.length; round++) {
    for (const k of order) {
      const tx = groups.get(k)![round];
      if (tx) out.push(tx);
    }
  }
  return out;
}

/** The extra item a caller may add to the transaction (a job lane's progress), and what its failed condition means. */
export interface ExtraItem {
  /** Committed with `{ response: 'all_old' }`, so `onFailed` is told the item as it was. */
  build: (entities: any) => any;
  onFailed: (item: Record<string, any> | null) => Error;
}

/** Thrown inside transact when only code puts failed: carries which ones. */
class CodesExist extends Error {
  constructor(readonly indexes: Set<number>) {
    super('codes exist');
  }
}

/**
 * One TransactWriteItems: a conditional put (`attribute_not_exists`) per
 * code, one counter update per shard touched (ADD codes and available by the
 * number of codes in it), and optionally one extra item. Answers the indexes
 * of the codes refused because they exist (empty: all written). Nothing is
 * written when anything is refused: the caller drops the refused codes and
 * commits the rest again. If the extra item's condition fails, its error is
 * thrown.
 */
export async function commitCodes(
  store: Store,
  book: BookRecord,
  placed: Placed[],
  createdAt: string,
  extra?: ExtraItem,
): Promise<Set<number>> {
  const perShard = new Map<number, number>();
  for (const p of placed) perShard.set(p.shard, (perShard.get(p.shard) ?? 0) + 1);
  try {
    await transact(
      store,
      (entities) => {
        const { code, bookStatsShard } = entities;
        return {
          ...Object.fromEntries(
            placed.map((p, i) => [
              `code${i}`,
              code
                .create({
                  tenant: book.tenant,
                  code: p.code,
                  bookId: book.bookId,
                  shard: p.shard,
                  poolSlot: randomPoolSlot(),
                  status: 'available',
                  redemptionCount: 0,
                  createdAt,
                })
                .commit(),
            ]),
          ),
          ...Object.fromEntries(
            [...perShard].map(([shard, n]) => [
              `shard${shard}`,
              bookStatsShard.patch({ tenant: book.tenant, bookId: book.bookId, shard }).add({ codes: n, available: n }).commit(),
            ]),
          ),
          ...(extra ? { extra: extra.build(entities) } : {}),
        };
      },
      {
        onConditionFailed: (reasons) => {
          if (extra && failed(reasons, 'extra')) return extra.onFailed(reasons.extra!.item);
          const refused = new Set(placed.flatMap((_, i) => (failed(reasons, `code${i}`) ? [i] : [])));
          return refused.size ? new CodesExist(refused) : new Error('book stats shard missing');
        },
      },
    );
  } catch (e) {
    if (e instanceof CodesExist) return e.indexes;
    throw e;
  }
  return new Set();
}

/**
 * Writes codes that do not exist yet into a book, never overwriting one:
 * only conditional puts, in transactions planned by `planInsert`, so the
 * stats move in the same transaction as the codes. A put refused because the
 * code exists (in this book, another book of the tenant, or written a moment
 * ago by an overlapping upload) is read from the cancellation reasons,
 * reported as a duplicate, and the rest of the transaction is committed again.
 */
export async function insertCodes(
  ctx: CoreContext,
  book: BookRecord,
  codes: string[],
  options: { concurrency?: number } = {},
): Promise<{ inserted: string[]; duplicates: string[] }> {
  const createdAt = new Date(ctx.now()).toISOString();
  const transactions = planInsert(codes, book.poolShards);
  const results = await mapWithConcurrency(transactions, options.concurrency ?? 4, async (batch) => {
    const duplicates: string[] = [];
    let pending = batch;
    while (pending.length) {
      const refused = await commitCodes(ctx.store, book, pending, createdAt);
      if (!refused.size) break;
      duplicates.push(...pending.filter((_, i) => refused.has(i)).map((p) => p.code));
      pending = pending.filter((_, i) => !refused.has(i));
    }
    return { inserted: pending.map((p) => p.code), duplicates };
  });
  // This instance claims from the new codes at once; others within EMPTY_POOL_MEMO_MS.
  forgetEmptyPools(ctx, book.tenant, book.bookId);
  return {
    inserted: results.flatMap((r) => r.inserted),
    duplicates: results.flatMap((r) => r.duplicates),
  };
}
