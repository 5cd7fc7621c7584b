import { AppError } from '../errors.ts';
import { and, eq, gt, lte, notExists, or, type Cond } from '../db/condition.ts';
import type { Transition } from '../code/transitions.ts';
import { gateOf } from './gate.ts';

/** The book's gate as every stats shard carries it: status and validity window in epoch ms (absent: open-ended). */
export interface Gate {
  bookStatus: 'active' | 'paused';
  validFromMs?: number;
  validUntilMs?: number;
}

export { gateOf };

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
