import type { CoreContext } from '../context.ts';
import { requireRole, type Actor } from '../actor.ts';
import { loadBook } from '../book/load-book.ts';
import { decodeCursor, encodeCursor } from './book-codes-cursor.ts';
import type { BookCodeRow, BookCodeStatus } from './book-code-row.ts';
import { BATCH_GET_KEYS, byBookSource, poolSource, type KeySource } from './book-code-sources.ts';

export const BOOK_CODES_DEFAULT_LIMIT = 100;
export const BOOK_CODES_MAX_LIMIT = 1000;
/** Keys one request may read while a status filter skips codes: bounds a page's cost and time. */
export const BOOK_CODES_EXAMINE_BUDGET = 1000;

export interface ListBookCodesInput {
  status?: BookCodeStatus;
  limit?: number;
  cursor?: string | null;
}

export interface BookCodesPage {
  items: BookCodeRow[];
  nextCursor: string | null;
}

/**
 * A page of a book's codes, shard by shard in order, each shard's codes in
 * index order. No scan and no partition holding the whole book:
 *
 * - no filter, `assigned`, `redeemed`: the `byBook` index (one partition per
 *   book shard) gives the keys, BatchGet the items; `assigned` and `redeemed`
 *   are kept from what was read, so a page may hold fewer than `limit`
 *   items, even none, and still have a cursor;
 * - `available`: the book's pool partitions alone.
 *
 * `nextCursor` is null exactly when no key is left to read (see docs/book-codes.md).
 */
export async function listBookCodes(ctx: CoreContext, actor: Actor, bookId: string, input: ListBookCodesInput): Promise<BookCodesPage> {
  requireRole(actor, 'admin');
  const book = await loadBook(ctx, actor.tenant, bookId);
  const status = input.status ?? '';
  const limit = input.limit ?? BOOK_CODES_DEFAULT_LIMIT;
  const start = input.cursor ? decodeCursor(input.cursor, { status, shards: book.poolShards }) : { status, shard: 0 };
  const source = input.status === 'available' ? poolSource(ctx, book) : byBookSource(ctx, book);
  // The pool holds available codes only; byBook holds all, so a status is a filter on what it reads.
  const filter = input.status === 'assigned' || input.status === 'redeemed' ? input.status : undefined;
  const now = ctx.now();

  const items: BookCodeRow[] = [];
  let shard = start.shard;
  let after = 'after' in start ? start.after : undefined;
  let examined = 0;
  const page = (more: boolean): BookCodesPage => ({ items, nextCursor: more ? encodeCursor({ status, shard, after }) : null });

  while (shard < book.poolShards) {
    if (items.length >= limit || examined >= BOOK_CODES_EXAMINE_BUDGET) return page(await anyLeft(source, book.poolShards, shard, after));
    const wanted = limit - items.length;
    // Filtered: read ahead of what the page still needs (some will be skipped), within the budget.
    const n = filter ? Math.min(BOOK_CODES_EXAMINE_BUDGET - examined, Math.max(BATCH_GET_KEYS, wanted)) : wanted;
    const { keys, more } = await source.read(shard, after, n);
    let consumed = 0;
    // Items are fetched a few batches at a time, so a page that fills early reads little it does not use.
    while (consumed < keys.length && items.length < limit) {
      const groups = filter ? Math.min(4, Math.ceil((limit - items.length) / BATCH_GET_KEYS)) : Infinity;
      const slice = keys.slice(consumed, consumed + groups * BATCH_GET_KEYS);
      const rows = await source.rows(slice, now);
      for (let i = 0; i < slice.length && items.length < limit; i++) {
        examined++;
        consumed++;
        after = slice[i]!.position;
        const row = rows[i];
        if (row && (!filter || row.status === filter)) items.push(row);
      }
    }
    if (consumed < keys.length || more) {
      if (items.length >= limit) return page(true);
      continue;
    }
    shard++;
    after = undefined;
  }
  return page(false);
}

/** Whether any key follows (shard, after): the rest of this shard, then the next shards' first keys. */
async function anyLeft(source: KeySource, shards: number, shard: number, after: string | undefined): Promise<boolean> {
  for (let s = shard; s < shards; s++) {
    const { keys } = await source.read(s, s === shard ? after : undefined, 1);
    if (keys.length) return true;
  }
  return false;
}
