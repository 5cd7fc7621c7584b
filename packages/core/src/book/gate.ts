import { validationFailed } from '../errors.ts';

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

// The gate's condition, its in-memory twin and its refusals are one transition: `gateOpen` in code/gate.ts.
