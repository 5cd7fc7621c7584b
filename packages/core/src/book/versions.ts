import { AppError } from '../errors.ts';
import { isAt } from '../db/condition.ts';
import { BrokenInvariant, Refused, transition, type Item } from '../db/transition.ts';

/**
 * An edit's two conditions (db/transition.ts): the book is at the version the
 * edit was merged onto, and each stats shard's gate copy is the one the book
 * says it wrote. An absent version was never written: a book from before
 * versions, or shards never re-gated.
 */

/** The book is still at the version read. Refused: it is gone, or another edit got in first (the item says which version won). */
export const editAtVersion = transition({
  refusals: ['BOOK_NOT_FOUND', 'moved'],
  condition: ({ version }: { bookId: string; version: number | undefined }) => isAt('version', version),
  refusal: (item: Item | null, { bookId }) =>
    item ? new Refused('moved', `book ${bookId} is at version ${item.version} now`, item) : new AppError('BOOK_NOT_FOUND', `No book ${bookId}.`),
});

/** A shard's gate copy is rewritten only from the copy the book wrote; any other is a broken invariant, never a refusal. */
export const regateShard = transition({
  refusals: [],
  condition: ({ gateVersion }: { bookId: string; gateVersion: number | undefined }) => isAt('gateVersion', gateVersion),
  refusal: (_item, { bookId }) => new BrokenInvariant(`book ${bookId}: a stats shard's gate copy is not the one the book wrote`),
});
