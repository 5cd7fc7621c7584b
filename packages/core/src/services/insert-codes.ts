import { randomBytes, randomInt } from 'node:crypto';
import type { CoreContext } from '../context.ts';
import type { BookRecord } from './books.ts';
import { transact } from '../db/transact.ts';

/** DynamoDB's limit on items in one TransactWriteItems. */
export const MAX_TRANSACTION_ITEMS = 100;

export const randomPoolSlot = () => randomBytes(8).toString('hex');

export const poolPartition = (tenant: string, bookId: string, shard: number) => `T#${tenant}#BOOK#${bookId}#POOL#${shard}`;

async function mapWithConcurrency<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  });
  await Promise.all(workers);
  return out;
}

/**
 * Writes codes that do not exist yet into a book, never overwriting one.
 *
 * Each transaction holds conditional puts (`attribute_not_exists`) spread
 * round-robin over the book's pool shards, plus one counter update per shard
 * touched, so the stats move in the same transaction as the codes. A put
 * refused because the code exists is read from the cancellation reasons,
 * reported as a duplicate, and the rest of the chunk is written again.
 */
export async function insertCodes(
  ctx: CoreContext,
  book: BookRecord,
  codes: string[],
  options: { concurrency?: number } = {},
): Promise<{ inserted: string[]; duplicates: string[] }> {
  const shards = book.poolShards;
  const perTransaction = MAX_TRANSACTION_ITEMS - Math.min(shards, MAX_TRANSACTION_ITEMS / 2);
  const chunks: string[][] = [];
  for (let i = 0; i < codes.length; i += perTransaction) chunks.push(codes.slice(i, i + perTransaction));
  let rotation = randomInt(shards);
  const createdAt = new Date(ctx.now()).toISOString();

  const results = await mapWithConcurrency(chunks, options.concurrency ?? 4, async (chunk) => {
    const inserted: string[] = [];
    const duplicates: string[] = [];
    let pending = chunk;
    const start = rotation;
    rotation = (rotation + chunk.length) % shards;
    while (pending.length) {
      const placed = pending.map((code, j) => ({ code, shard: (start + j) % shards }));
      const perShard = new Map<number, number>();
      for (const p of placed) perShard.set(p.shard, (perShard.get(p.shard) ?? 0) + 1);
      let refused: Set<number> | null = null;
      await transact(
        ctx.store,
        ({ code, bookStatsShard }) => [
          ...placed.map((p) =>
            code
              .create({
                tenant: book.tenant,
                code: p.code,
                bookId: book.bookId,
                shard: p.shard,
                poolPartition: poolPartition(book.tenant, book.bookId, p.shard),
                poolSlot: randomPoolSlot(),
                status: 'available',
                redemptionCount: 0,
                createdAt,
              })
              .commit(),
          ),
          ...[...perShard].map(([shard, n]) =>
            bookStatsShard.patch({ tenant: book.tenant, bookId: book.bookId, shard }).add({ codes: n, available: n }).commit(),
          ),
        ],
        {
          onConditionFailed: (reasons) => {
            refused = new Set(reasons.flatMap((r, i) => (i < placed.length && r.code === 'ConditionalCheckFailed' ? [i] : [])));
            return refused.size ? new DuplicatesFound() : new Error('book stats shard missing');
          },
        },
      ).catch((e) => {
        if (!(e instanceof DuplicatesFound)) throw e;
      });
      if (!refused) {
        inserted.push(...pending);
        break;
      }
      const refusedNow: Set<number> = refused;
      duplicates.push(...pending.filter((_, i) => refusedNow.has(i)));
      pending = pending.filter((_, i) => !refusedNow.has(i));
    }
    return { inserted, duplicates };
  });
  return {
    inserted: results.flatMap((r) => r.inserted),
    duplicates: results.flatMap((r) => r.duplicates),
  };
}

class DuplicatesFound extends Error {}
