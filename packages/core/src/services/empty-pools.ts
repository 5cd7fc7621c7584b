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
const keyOf = (tenant: string, bookId: string) => `${tenant}#${bookId}`;

/** The shards of a book this instance saw empty in the last EMPTY_POOL_MEMO_MS. */
export function knownEmptyShards(ctx: CoreContext, tenant: string, bookId: string): Set<number> {
  const shards = memos.get(ctx)?.get(keyOf(tenant, bookId));
  const now = ctx.now();
  return new Set([...(shards ?? [])].filter(([, until]) => now < until).map(([shard]) => shard));
}

export function isKnownEmpty(ctx: CoreContext, tenant: string, bookId: string, shard: number): boolean {
  const until = memos.get(ctx)?.get(keyOf(tenant, bookId))?.get(shard);
  return until !== undefined && ctx.now() < until;
}

export function isKnownSoldOut(ctx: CoreContext, tenant: string, bookId: string, poolShards: number): boolean {
  return knownEmptyShards(ctx, tenant, bookId).size >= poolShards;
}

export function rememberEmptyShard(ctx: CoreContext, tenant: string, bookId: string, shard: number): void {
  let memo = memos.get(ctx);
  if (!memo) memos.set(ctx, (memo = new Map()));
  const key = keyOf(tenant, bookId);
  let shards = memo.get(key);
  if (!shards) {
    if (memo.size >= 10_000) memo.clear(); // bound memory; forgetting costs a few queries
    memo.set(key, (shards = new Map()));
  }
  shards.set(shard, ctx.now() + EMPTY_POOL_MEMO_MS);
}

/** After an upload to the book on this instance: its new codes are claimable here at once. */
export function forgetEmptyPools(ctx: CoreContext, tenant: string, bookId: string): void {
  memos.get(ctx)?.delete(keyOf(tenant, bookId));
}
