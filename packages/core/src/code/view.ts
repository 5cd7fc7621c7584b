import { codeStatus, isLockHeld, maxRedemptionsOf, type CodeRecord, type CodeStatus } from './state.ts';

interface BookFacts {
  validUntil?: string;
  discount?: unknown;
}

/** A held code as the API shows it. */
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
  discount?: any;
}

export function toCodeView(code: CodeRecord, book: BookFacts | undefined, now: number): CodeView {
  const view: CodeView = {
    code: code.code,
    bookId: code.bookId,
    userId: code.userId!,
    status: codeStatus(code, book?.validUntil, now),
    assignedAt: code.assignedAt!,
    redemptionCount: code.redemptionCount,
    maxRedemptions: maxRedemptionsOf(code),
  };
  if (isLockHeld(code, now)) view.lockExpiresAt = new Date(code.lockExpiresAt!).toISOString();
  if (book?.validUntil) view.validUntil = book.validUntil;
  if (book?.discount) view.discount = book.discount;
  return view;
}
