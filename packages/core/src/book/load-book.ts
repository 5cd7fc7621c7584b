import type { CoreContext } from '../context.ts';
import { AppError } from '../errors.ts';
import type { BookRecord } from './book.ts';

/** Reads a book of the caller's tenant; BOOK_NOT_FOUND otherwise. */
export async function loadBook(ctx: CoreContext, tenant: string, bookId: string): Promise<BookRecord> {
  const { data } = await ctx.store.book.get({ tenant, bookId }).go({ originalErr: true }); // no stack trace built per call (db/transact.ts)
  if (!data) throw new AppError('BOOK_NOT_FOUND', `No book ${bookId}.`);
  return { ...(data as any), id: data.bookId, shards: data.poolShards };
}

/** How long an instance reuses a book it read for the claim/lock/redeem path. */
export const BOOK_CACHE_MS = 1000;
const bookCaches = new WeakMap<CoreContext, Map<string, { at: number; book: BookRecord }>>();
/** Reads of a book in flight per instance: claims arriving while one runs share it instead of each reading. */
const bookReads = new WeakMap<CoreContext, Map<string, Promise<BookRecord>>>();

/**
 * A book for the hot path (claim, lock, redeem), reused by this instance for
 * up to a second. Every claim of a flash sale needs its book, and one item
 * read by every request is a hot key; what the hot path takes from the book
 * is either immutable (caps, lock TTL, shards) or re-checked by the write
 * itself (the gate on the stats shards), so a second-old copy is safe.
 * `fresh` reads through (and refreshes the copy).
 */
export async function loadBookCached(ctx: CoreContext, tenant: string, bookId: string, options: { fresh?: boolean } = {}): Promise<BookRecord> {
  let cache = bookCaches.get(ctx);
  if (!cache) {
    cache = new Map();
    bookCaches.set(ctx, cache);
  }
  let reads = bookReads.get(ctx);
  if (!reads) {
    reads = new Map();
    bookReads.set(ctx, reads);
  }
  const key = `${tenant}#${bookId}`;
  const hit = cache.get(key);
  if (hit && !options.fresh && ctx.now() - hit.at < BOOK_CACHE_MS) return hit.book;
  const running = reads.get(key);
  if (running && !options.fresh) return running;
  const read = loadBook(ctx, tenant, bookId);
  reads.set(key, read);
  try {
    const book = await read;
    // Only the newest read fills the copy: an edit on this instance drops a read begun before it.
    if (reads.get(key) === read) {
      if (cache.size >= 10_000) cache.clear(); // bound memory; a miss costs one read
      cache.set(key, { at: ctx.now(), book });
    }
    return book;
  } finally {
    if (reads.get(key) === read) reads.delete(key);
  }
}


/** Drops this instance's copy of a book (after an edit here), so its next read is fresh. */
export function forgetCachedBook(ctx: CoreContext, tenant: string, bookId: string): void {
  bookCaches.get(ctx)?.delete(`${tenant}#${bookId}`);
  bookReads.get(ctx)?.delete(`${tenant}#${bookId}`);
}
