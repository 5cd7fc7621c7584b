import type { CoreContext } from '../context.ts';
import { requireRole, resolveUserId, type Actor } from '../actor.ts';
import { AppError } from '../errors.ts';
import { isMistypedCheckedCode } from '../codes/check-char.ts';
import { loadBookCached, type Book, type BookRecord, type Discount } from './books.ts';

export type CodeStatus = 'active' | 'locked' | 'redeemed' | 'expired';

export interface CodeView {
  code: string;
  bookId: string;
  userId: string;
  status: CodeStatus;
  assignedAt: string;
  redemptionCount: number;
  maxRedemptions: number;
  lockExpiresAt?: string;
  validUntil?: string;
  discount?: Discount;
}

export type CodeRecord = {
  tenant: string;
  code: string;
  bookId: string;
  shard: number;
  poolPartition: string;
  poolSlot: string;
  status: 'available' | 'assigned';
  userId?: string;
  assignedAt?: string;
  maxRedemptions?: number;
  redemptionCount: number;
  lockId?: string;
  lockExpiresAt?: number;
};

export const isLockHeld = (code: Pick<CodeRecord, 'lockExpiresAt'>, now: number) =>
  code.lockExpiresAt !== undefined && code.lockExpiresAt > now;

export function codeStatus(code: CodeRecord, book: Pick<Book, 'validUntil'> | undefined, now: number): CodeStatus {
  if (code.redemptionCount >= (code.maxRedemptions ?? 1)) return 'redeemed';
  if (book?.validUntil && Date.parse(book.validUntil) <= now) return 'expired';
  if (isLockHeld(code, now)) return 'locked';
  return 'active';
}

export function toCodeView(code: CodeRecord, book: Pick<Book, 'validUntil' | 'discount'> | undefined, now: number): CodeView {
  const view: CodeView = {
    code: code.code,
    bookId: code.bookId,
    userId: code.userId!,
    status: codeStatus(code, book, now),
    assignedAt: code.assignedAt!,
    redemptionCount: code.redemptionCount,
    maxRedemptions: code.maxRedemptions ?? 1,
  };
  if (isLockHeld(code, now)) view.lockExpiresAt = new Date(code.lockExpiresAt!).toISOString();
  if (book?.validUntil) view.validUntil = book.validUntil;
  if (book?.discount) view.discount = book.discount;
  return view;
}

export const codeNotFound = (code: string) => new AppError('CODE_NOT_FOUND', `No code ${code}.`);

/**
 * Reads a code the caller may act on. A code that exists but is not the
 * caller's (or not the named user's) answers exactly as one that does not
 * exist, so codes cannot be enumerated.
 */
export async function loadHeldCode(ctx: CoreContext, actor: Actor, code: string, userId: string | undefined): Promise<CodeRecord> {
  // A checked code whose check character is wrong is a typo: refused before any read.
  if (isMistypedCheckedCode(code)) throw codeNotFound(code);
  const { data } = await ctx.store.code.get({ tenant: actor.tenant, code }).go({ consistent: true });
  if (!data || data.status !== 'assigned') throw codeNotFound(code);
  const holder = actor.role === 'user' ? actor.sub : userId;
  if (holder !== undefined && data.userId !== holder) throw codeNotFound(code);
  return data as CodeRecord;
}

/**
 * What lock, unlock and redeem start from: any role may call them, a user
 * only for itself; the code must be held by the caller (or the named user),
 * and its book comes from the hot path's cache.
 */
export async function loadHeldCodeWithBook(
  ctx: CoreContext,
  actor: Actor,
  code: string,
  userId: string | undefined,
): Promise<{ current: CodeRecord; book: BookRecord }> {
  requireRole(actor, 'admin', 'service', 'user');
  const named = resolveUserId(actor, userId, { required: false });
  const current = await loadHeldCode(ctx, actor, code, named);
  return { current, book: await loadBookCached(ctx, actor.tenant, current.bookId) };
}
