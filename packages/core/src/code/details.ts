import type { CoreContext } from '../context.ts';
import { requireRole, type Actor } from '../actor.ts';
import { isMistypedCheckedCode } from '../code-format/check-char.ts';
import { codeNotFound } from './transitions.ts';
import type { CodeRecord } from './state.ts';
import { toCodeView, type CodeView } from './view.ts';
import type { HistoryEntry } from './history.ts';
import { readHistoryPage } from './history-page.ts';
import { loadBook } from '../book/load-book.ts';
import type { Discount } from '../book/book.ts';

/** A page of a code's history, oldest first, and the cursor of the next (null: none left). */
type HistoryPage = { history: HistoryEntry[]; nextCursor: string | null };

/** A code as support staff see it: held (the code view) or still in the pool, with its changes, oldest first, a page at a time. */
export type CodeDetails =
  | (CodeView & HistoryPage)
  | ({ code: string; bookId: string; status: 'available'; redemptionCount: 0; maxRedemptions: number; validUntil?: string; discount?: Discount } & HistoryPage);

/**
 * One code with a page of its history (admin, service). The history is built from the
 * table's change stream (code/history.ts), so it may trail the code's last
 * write by the stream's delay (about a second).
 */
export async function getCodeDetails(
  ctx: CoreContext,
  actor: Actor,
  code: string,
  page: { limit?: number; cursor?: string } = {},
): Promise<CodeDetails> {
  requireRole(actor, 'admin', 'service');
  if (isMistypedCheckedCode(code)) throw codeNotFound(code);
  const [{ data }, history] = await Promise.all([
    ctx.store.code.get({ tenant: actor.tenant, code }).go({ consistent: true }),
    readHistoryPage(ctx.store, actor.tenant, code, page),
  ]);
  if (!data) throw codeNotFound(code);
  const book = await loadBook(ctx, actor.tenant, data.bookId);
  const now = ctx.now();
  if (data.status === 'available') {
    return {
      code,
      bookId: data.bookId,
      status: 'available',
      redemptionCount: 0,
      maxRedemptions: book.maxRedemptionsPerUser,
      ...(book.validUntil ? { validUntil: book.validUntil } : {}),
      ...(book.discount ? { discount: book.discount } : {}),
      ...history,
    };
  }
  return { ...toCodeView(data as CodeRecord, book, now), ...history };
}
