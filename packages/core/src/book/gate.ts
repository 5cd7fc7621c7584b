import { AppError, validationFailed } from '../errors.ts';
import { and, eq, gt, lte, notExists, or, type Cond } from '../db/condition.ts';
import { transition } from '../db/transition.ts';

/**
 * A book's gate: its status and validity window. The book holds it, and each
 * stats shard holds a copy that assignment, lock and redeem check in their own
 * write's condition (no hot read of the book). `docs/edges.md` explains how an
 * edit keeps the copies equal to the book.
 */
export interface GateSource {
  status: 'active' | 'paused';
  validFrom?: string | null;
  validUntil?: string | null;
}

const toMs = (iso: string | undefined | null) => (iso ? Date.parse(iso) : undefined);

/** A window must end after it starts; checked on every create and on the merged result of every edit. */
export function assertWindow(validFrom: string | undefined | null, validUntil: string | undefined | null) {
  const from = toMs(validFrom);
  const until = toMs(validUntil);
  if (from !== undefined && until !== undefined && from >= until) {
    throw validationFailed([{ field: 'validUntil', reason: 'must be after validFrom' }]);
  }
}

/**
 * The gate every shard carries: the book's status and validity window, in
 * epoch ms, and the book's `gateVersion` it was written at. A shard created
 * from `gateOf(book)` is therefore at the version the book's next edit expects.
 */
export const gateOf = (book: GateSource & { gateVersion?: number }) => ({
  bookStatus: book.status,
  validFromMs: toMs(book.validFrom),
  validUntilMs: toMs(book.validUntil),
  gateVersion: book.gateVersion,
});

/** The book's gate as every stats shard carries it: status and validity window in epoch ms (absent: open-ended). */
export interface Gate {
  bookStatus: 'active' | 'paused';
  validFromMs?: number;
  validUntilMs?: number;
}

const inWindow = (now: number): Cond => and(or(notExists('validFromMs'), lte('validFromMs', now)), or(notExists('validUntilMs'), gt('validUntilMs', now)));
const hasEnded = (gate: Gate | null, now: number) => gate?.validUntilMs !== undefined && gate.validUntilMs <= now;

function notActive(gate: Gate | null, now: number) {
  if (hasEnded(gate, now)) return new AppError('BOOK_NOT_ACTIVE', 'The book has ended.');
  if (gate?.validFromMs !== undefined && gate.validFromMs > now) return new AppError('BOOK_NOT_ACTIVE', 'The book has not started yet.');
  return new AppError('BOOK_NOT_ACTIVE', 'The book is paused.');
}

/** A claim: the book is active and `now` inside its window. */
export const claimGate = transition({
  refusals: ['BOOK_NOT_ACTIVE'],
  condition: ({ now }: { now: number }) => and(eq('bookStatus', 'active'), inWindow(now)),
  refusal: (gate: Gate | null, { now }) => notActive(gate, now),
});

/**
 * Lock and redeem of a held code: `now` inside the window only (a paused
 * book stops new claims, not the checkouts of codes already held). For a
 * held code the book's end is the code's: CODE_EXPIRED.
 */
export const heldCodeGate = transition({
  refusals: ['BOOK_NOT_ACTIVE', 'CODE_EXPIRED'],
  condition: ({ now }: { now: number }) => inWindow(now),
  refusal: (gate: Gate | null, { now }) =>
    hasEnded(gate, now) ? new AppError('CODE_EXPIRED', 'The book this code belongs to has ended.') : notActive(gate, now),
});
