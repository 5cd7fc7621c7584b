import { AppError, validationFailed } from '../errors.ts';

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

/** The gate condition, as ElectroDB `where` text: the book is active and `now` is inside its window. */
export function gateCondition(now: number, { requireActive }: { requireActive: boolean }) {
  return (attr: any, op: any) => {
    const window = `(${op.notExists(attr.validFromMs)} OR ${op.lte(attr.validFromMs, now)}) AND (${op.notExists(attr.validUntilMs)} OR ${op.gt(attr.validUntilMs, now)})`;
    return requireActive ? `${op.eq(attr.bookStatus, 'active')} AND ${window}` : window;
  };
}

/** Why a gate condition failed, from the shard as it was. */
export function gateError(shard: Record<string, any> | null, now: number, { forAssignment }: { forAssignment: boolean }): AppError {
  if (shard?.validUntilMs !== undefined && shard.validUntilMs <= now && !forAssignment) {
    return new AppError('CODE_EXPIRED', 'The book this code belongs to has ended.');
  }
  if (shard?.validUntilMs !== undefined && shard.validUntilMs <= now) {
    return new AppError('BOOK_NOT_ACTIVE', 'The book has ended.');
  }
  if (shard?.validFromMs !== undefined && shard.validFromMs > now) {
    return new AppError('BOOK_NOT_ACTIVE', 'The book has not started yet.');
  }
  return new AppError('BOOK_NOT_ACTIVE', 'The book is paused.');
}
