import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { where } from '../db/condition.ts';
import { checkTransition, itemOrNone, maybe, offlineStore as store } from '../db/transition.test-support.ts';
import { editAtVersion, regateShard } from './versions.ts';
import { updateBookRefusals } from './edit-book.ts';

// An edit's conditions, held to the transaction edit-book.ts sends: the book's patch at the
// version read, and each shard's gate rewrite at the gate version the book wrote.

const versions = maybe(fc.integer({ min: 1, max: 3 }));

describe("a book's edit: the condition sent, the condition as data and allows agree; refusals are declared", () => {
  it('the book is at the version read (absent: never versioned)', () =>
    checkTransition(editAtVersion, itemOrNone({ version: versions }), fc.record({ bookId: fc.constant('b1'), version: versions }), (cond) =>
      store.book.patch({ tenant: 't1', bookId: 'b1' }).set({ name: 'n', version: 4 }).where(where(cond)).params(),
    ));
  it("each shard's gate copy is the one the book wrote; anything else is no refusal but a broken invariant", () =>
    checkTransition(regateShard, itemOrNone({ gateVersion: versions }), fc.record({ bookId: fc.constant('b1'), gateVersion: versions }), (cond) =>
      store.bookStatsShard.patch({ tenant: 't1', bookId: 'b1', shard: 0 }).set({ bookStatus: 'paused', gateVersion: 4 }).where(where(cond)).params(),
    ));
  it('PATCH documents what an edit refuses; another edit getting in first is merged, not refused', () => {
    expect(updateBookRefusals.codes).toEqual(['BOOK_NOT_FOUND', 'PRECONDITION_FAILED']);
  });
});
