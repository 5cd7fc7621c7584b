import { describe, it } from 'vitest';
import fc from 'fast-check';
import { where, type Cond } from '../db/condition.ts';
import { checkTransition, itemOrNone, maybe, offlineStore as store } from '../db/transition.test-support.ts';
import { asRead, makeOnce } from './transitions.ts';

// The erasure's conditional writes, held to the requests they send: the expression ElectroDB renders,
// the condition as data and allows agree on generated items, and every refusal is declared.

const ids = fc.constantFrom('erin', 'erased-0123', 'bob');
const seqs = fc.constantFrom(1, 2, 3);

describe('erasure: the condition sent, the condition as data and allows agree; refusals are declared', () => {
  it("a code is rewritten only while it is as read (its changeSeq and holder): a transition since makes the write refuse", () =>
    checkTransition(
      asRead,
      itemOrNone({ changeSeq: maybe(seqs), userId: maybe(ids) }),
      fc.record({ changeSeq: maybe(seqs), userId: maybe(ids) }),
      (cond: Cond) => store.code.patch({ tenant: 't1', code: 'C1' }).set({ userId: 'erased-0123', ownerKey: 'T#t1#USER#erased-0123', ownerSort: 'BOOK#b#CODE#C1' }).where(where(cond)).params(),
    ));
  it('a history entry or redemption is rewritten only while the attributes naming the user are as read', () =>
    checkTransition(
      asRead,
      itemOrNone({ by: maybe(ids), userId: maybe(ids) }),
      fc.record({ by: maybe(ids), userId: maybe(ids) }),
      (cond: Cond) => store.codeHistory.patch({ tenant: 't1', code: 'C1', seq: 1 }).set({ by: 'erased-0123' }).where(where(cond)).params(),
    ));
  // A delete demands nothing of its own: the count read (always present on a holding) is what makes it refuse once the holding moved.
  it('a holding leaves the id only with the count it was read with', () =>
    checkTransition(asRead, itemOrNone({ held: maybe(fc.constantFrom(0, 1, 2)) }), fc.record({ held: fc.constantFrom(0, 1, 2) }), (cond: Cond) =>
      store.userBookHolding.delete({ tenant: 't1', userId: 'erin', bookId: 'b' }).where(where(cond)).params(),
    ));
  it("the pseudonym's holding, and the erased mark, are made once", () => {
    checkTransition(makeOnce, itemOrNone({ held: fc.constantFrom(1, 2) }), fc.constant(undefined), () =>
      store.userBookHolding.create({ tenant: 't1', userId: 'erased-0123', bookId: 'b', held: 1 }).params(),
    );
    checkTransition(makeOnce, itemOrNone({ erasedAt: fc.constant('2026-12-04T00:00:00.000Z') }), fc.constant(undefined), () =>
      store.erasedUser.create({ tenant: 't1', pseudonym: 'erased-0123', erasedAt: 'now' }).params(),
    );
  });
});
