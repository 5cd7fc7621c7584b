import { createConversions } from 'electrodb';
import type { CoreContext } from '../context.ts';
import { resolveUserId, type Actor } from '../actor.ts';
import { readPage } from '../db/pagination.ts';
import { ownerKeyOf, ownerSortOf } from '../entities/code.ts';
import { toBook, type Book } from '../book/book.ts';
import { toCodeView, type CodeView } from './view.ts';
import type { CodeRecord, CodeStatus } from './state.ts';

export interface ListUserCouponsInput {
  bookId?: string;
  status?: CodeStatus;
  limit?: number;
  cursor?: string | null;
}

/**
 * A user's codes with their status: one Query on the user's partition of the
 * byOwner index (narrowed to a book by sort-key prefix). Status is derived
 * from the clock, so a status filter applies to each page after reading it.
 */
export async function listUserCoupons(
  ctx: CoreContext,
  actor: Actor,
  userId: string,
  input: ListUserCouponsInput,
): Promise<{ items: CodeView[]; nextCursor: string | null }> {
  resolveUserId(actor, userId, { required: true });
  const query = ctx.store.code.query.byUser({ ownerKey: ownerKeyOf(actor.tenant, userId) });
  const scoped = input.bookId ? query.begins({ ownerSort: ownerSortOf(input.bookId) }) : query;
  const page = await readPage(
    input.limit ?? 50,
    (limit) => scoped.go({ limit, cursor: input.cursor ?? null }),
    (code) => createConversions(ctx.store.code).byAccessPattern.byUser.fromComposite.toCursor(code as never),
  );
  const codes = page.data as CodeRecord[];
  const bookIds = [...new Set(codes.map((c) => c.bookId))];
  const books = new Map<string, Book>();
  if (bookIds.length) {
    const { data } = await ctx.store.book.get(bookIds.map((bookId) => ({ tenant: actor.tenant, bookId }))).go();
    for (const b of data) books.set(b.bookId, toBook(b));
  }
  const now = ctx.now();
  const items = codes.map((c) => toCodeView(c, books.get(c.bookId), now)).filter((v) => !input.status || v.status === input.status);
  return { items, nextCursor: page.cursor };
}

