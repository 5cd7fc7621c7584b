import { maxRedemptionsOf } from '../code/state.ts';
import type { BookRecord } from '../book/book.ts';
// The code's rules (the redemption cap's default, when a lock is held) stay where the code's life is kept.
import { codeStatus, isLockHeld, type CodeRecord } from '../code/state.ts';

export const BOOK_CODE_STATUSES = ['available', 'assigned', 'redeemed'] as const;

/** A code seen from its book: `assigned` has redemptions left, `redeemed` has none. */
export type BookCodeStatus = (typeof BOOK_CODE_STATUSES)[number];

export interface BookCodeRow {
  code: string;
  status: BookCodeStatus;
  /** The holder; null while available. */
  userId: string | null;
  assignedAt: string | null;
  redemptionCount: number;
  /** For an available code, what it will get when assigned (the book's `maxRedemptionsPerUser`). */
  maxRedemptions: number;
  /** Only while a lock is held. */
  lockExpiresAt?: string;
}

export function bookCodeStatus(code: CodeRecord, now: number): BookCodeStatus {
  if (code.status === 'available') return 'available';
  // No book passed: a book's validity is the book's, not a state of each code.
  return codeStatus(code, undefined, now) === 'redeemed' ? 'redeemed' : 'assigned';
}

export function toBookCodeRow(code: CodeRecord, book: Pick<BookRecord, 'maxRedemptionsPerUser'>, now: number): BookCodeRow {
  const status = bookCodeStatus(code, now);
  if (status === 'available') return availableRow(code.code, book);
  const row: BookCodeRow = {
    code: code.code,
    status,
    userId: code.userId ?? null,
    assignedAt: code.assignedAt ?? null,
    redemptionCount: code.redemptionCount,
    maxRedemptions: maxRedemptionsOf(code),
  };
  if (isLockHeld(code, now)) row.lockExpiresAt = new Date(code.lockExpiresAt!).toISOString();
  return row;
}

/** An available code has no holder, no redemptions and no lock: its row needs nothing but its name. */
export const availableRow = (code: string, book: Pick<BookRecord, 'maxRedemptionsPerUser'>): BookCodeRow => ({
  code,
  status: 'available',
  userId: null,
  assignedAt: null,
  redemptionCount: 0,
  maxRedemptions: book.maxRedemptionsPerUser,
});
