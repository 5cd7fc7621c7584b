import { AppError, validationFailed } from '../errors.ts';
import { and, eq, gt, lte, notExists, or, type Cond } from '../db/condition.ts';
import type { Transition } from '../db/transition.ts';

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

/**
 * `now` is inside the book's window and, for a claim, the book is active.
 * Claims need both; lock and redeem only the window (a paused book stops
 * new claims, not the checkouts of codes already held).
 */
export const gateOpen: Transition<{ now: number; requireActive: boolean }, Record<string, any>> = {
  condition: ({ now, requireActive }): Cond => {
    const window = and(or(notExists('validFromMs'), lte('validFromMs', now)), or(notExists('validUntilMs'), gt('validUntilMs', now)));
    return requireActive ? and(eq('bookStatus', 'active'), window) : window;
  },
  allows: (gate, { now, requireActive }) =>
    gate !== null &&
    (!requireActive || gate.bookStatus === 'active') &&
    (gate.validFromMs === undefined || gate.validFromMs <= now) &&
    (gate.validUntilMs === undefined || gate.validUntilMs > now),
  refusal: (gate, { now, requireActive }) => {
    const ended = gate?.validUntilMs !== undefined && gate.validUntilMs <= now;
    // For a held code the book's end is the code's: CODE_EXPIRED; a claim is refused because the book is closed.
    if (ended) return requireActive ? new AppError('BOOK_NOT_ACTIVE', 'The book has ended.') : new AppError('CODE_EXPIRED', 'The book this code belongs to has ended.');
    if (gate?.validFromMs !== undefined && gate.validFromMs > now) return new AppError('BOOK_NOT_ACTIVE', 'The book has not started yet.');
    return new AppError('BOOK_NOT_ACTIVE', 'The book is paused.');
  },
};
