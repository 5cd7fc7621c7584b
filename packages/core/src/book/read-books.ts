import { createConversions } from 'electrodb';
import type { CoreContext } from '../context.ts';
import { requireRole, type Actor } from '../actor.ts';
import { AppError } from '../errors.ts';
import { readPage } from '../db/pagination.ts';
import { toBook, type Book, type BookRecord, type BookStats } from './book.ts';
import { loadBook } from './load-book.ts';

/** The book's counters: one BatchGetItem of its N shard keys (N ≤ 100), summed. */
export async function readBookStats(ctx: CoreContext, book: Pick<BookRecord, 'tenant' | 'bookId' | 'poolShards'>): Promise<BookStats> {
  const keys = Array.from({ length: book.poolShards }, (_, shard) => ({ tenant: book.tenant, bookId: book.bookId, shard }));
  const { data, unprocessed } = await ctx.store.bookStatsShard.get(keys).go();
  if (unprocessed.length) throw new AppError('UNAVAILABLE', 'The book statistics could not be read; retry shortly.', { retryAfterSeconds: 1 });
  const stats: BookStats = { codes: 0, available: 0, assigned: 0, redeemed: 0 };
  for (const s of data) {
    stats.codes += s.codes;
    stats.available += s.available;
    stats.assigned += s.assigned;
    stats.redeemed += s.redeemed;
  }
  return stats;
}

export async function getBook(ctx: CoreContext, actor: Actor, bookId: string): Promise<Book & { stats: BookStats }> {
  requireRole(actor, 'admin');
  const record = await loadBook(ctx, actor.tenant, bookId);
  return { ...toBook(record), stats: await readBookStats(ctx, record) };
}

export async function listBooks(
  ctx: CoreContext,
  actor: Actor,
  page: { limit?: number; cursor?: string | null },
): Promise<{ items: Book[]; nextCursor: string | null }> {
  requireRole(actor, 'admin');
  const { data, cursor } = await readPage(
    page.limit ?? 50,
    (limit) => ctx.store.book.query.byTenant({ tenant: actor.tenant }).go({ limit, cursor: page.cursor ?? null, order: 'desc' }),
    (book) => createConversions(ctx.store.book).byAccessPattern.byTenant.fromComposite.toCursor(book),
  );
  return { items: data.map(toBook), nextCursor: cursor };
}

