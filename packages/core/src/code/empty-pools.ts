import type { CoreContext } from '../context.ts';

/**
 * How long an instance remembers that one pool shard of a book was empty.
 * Claims skip a shard known empty instead of querying it again (two Queries:
 * from a random slot, then wrapping round), and a book whose shards are all
 * known empty is sold out: refused from memory. Without it, the crowd that
 * arrives after the last code, and every claim near the end of a book, would
 * read the empty partitions again and again. Under a second, so a new upload
 * makes the book claimable again within a second on every instance (the
 * instance that uploads forgets at once).
 */
export const EMPTY_POOL_MEMO_MS = 900;

/** Per instance: book -> shard -> until when it is known empty. */
const memos = new WeakMap<CoreContext, Map<string, Map<number, number>>>();
/** Per instance: book -> how many uploads this instance has made to it (bounded; a reset only costs a Query). */
const generations = new WeakMap<CoreContext, Map<string, number>>();
const keyOf = (tenant: string, bookId: string) => `${tenant}#${bookId}`;

/**
 * The book's upload generation on this instance. A Query's empty answer
 * counts only if no upload happened here since the Query was sent: it is
 * recorded with the generation read before sending.
 */
export function poolGeneration(ctx: CoreContext, tenant: string, bookId: string): number {
  return generations.get(ctx)?.get(keyOf(tenant, bookId)) ?? 0;
}

/** Did this instance see the shard empty in the last EMPTY_POOL_MEMO_MS? */
export function isKnownEmpty(ctx: CoreContext, tenant: string, bookId: string, shard: number): boolean {
  const until = memos.get(ctx)?.get(keyOf(tenant, bookId))?.get(shard);
  return until !== undefined && ctx.now() < until;
}

export function isKnownSoldOut(ctx: CoreContext, tenant: string, bookId: string, poolShards: number): boolean {
  for (let shard = 0; shard < poolShards; shard++) if (!isKnownEmpty(ctx, tenant, bookId, shard)) return false;
  return true;
}

/** Records what a Query sent at upload generation `since` found: nothing. Ignored if this instance uploaded since. */
export function rememberEmptyShard(ctx: CoreContext, tenant: string, bookId: string, shard: number, since: number): void {
  if (poolGeneration(ctx, tenant, bookId) !== since) return;
  let memo = memos.get(ctx);
  if (!memo) {
    memo = new Map();
    memos.set(ctx, memo);
  }
  const key = keyOf(tenant, bookId);
  let shards = memo.get(key);
  if (!shards) {
    if (memo.size >= 10_000) memo.clear(); // bound memory; forgetting costs a few queries
    shards = new Map();
    memo.set(key, shards);
  }
  shards.set(shard, ctx.now() + EMPTY_POOL_MEMO_MS);
}

/** After an upload to the book on this instance: its new codes are claimable here at once. */
export function forgetEmptyPools(ctx: CoreContext, tenant: string, bookId: string): void {
  memos.get(ctx)?.delete(keyOf(tenant, bookId));
  let books = generations.get(ctx);
  if (!books) {
    books = new Map();
    generations.set(ctx, books);
  }
  if (books.size >= 10_000) books.clear();
  const key = keyOf(tenant, bookId);
  books.set(key, (books.get(key) ?? 0) + 1);
}
