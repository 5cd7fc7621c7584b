import type { CoreContext } from '../context.ts';

/**
 * How long an instance remembers that a book's pools were all empty. The
 * crowd that arrives after the last code would otherwise read every pool
 * shard (2 Queries each) per refused claim; with the memo only the first
 * refusal per instance per window reads. Under a second, so a new upload
 * makes the book claimable again within a second on every instance (the
 * instance that uploads forgets at once).
 */
export const SOLD_OUT_MEMO_MS = 900;

const memos = new WeakMap<CoreContext, Map<string, number>>();
const keyOf = (tenant: string, bookId: string) => `${tenant}#${bookId}`;

export function isKnownSoldOut(ctx: CoreContext, tenant: string, bookId: string): boolean {
  const until = memos.get(ctx)?.get(keyOf(tenant, bookId));
  return until !== undefined && ctx.now() < until;
}

export function rememberSoldOut(ctx: CoreContext, tenant: string, bookId: string): void {
  let memo = memos.get(ctx);
  if (!memo) memos.set(ctx, (memo = new Map()));
  if (memo.size >= 10_000) memo.clear(); // bound memory; forgetting costs one scan
  memo.set(keyOf(tenant, bookId), ctx.now() + SOLD_OUT_MEMO_MS);
}

export function forgetSoldOut(ctx: CoreContext, tenant: string, bookId: string): void {
  memos.get(ctx)?.delete(keyOf(tenant, bookId));
}
