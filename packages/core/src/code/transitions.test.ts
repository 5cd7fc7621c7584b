import { describe, expect, expectTypeOf, it } from 'vitest';
import fc from 'fast-check';
import { AppError } from '../errors.ts';
import { always, where, type Cond } from '../db/condition.ts';
import { claimGate, heldCodeGate } from '../book/gate.ts';
import { assign, changeTime, holdUnderCap, lock, marked, redeem, rollBack, rollBackRecord, unlock } from './transitions.ts';
import { applied, Refused, refusedBy, transition, type BrokenInvariant, type Refusal } from '../db/transition.ts';
import { checkTransition, itemOrNone, maybe, offlineStore as store } from '../db/transition.test-support.ts';
import { codeOfRedemptionId, newRedemptionId } from './redemption-id.ts';
import { CODE_STATUSES, codeStatus, hasRedemptionsLeft, isLockHeld, maxRedemptionsOf, type CodeRecord } from './state.ts';
import { assignNamedCodeRefusals, assignRandomCodeRefusals } from './claim.ts';
import { lockCodeRefusals, unlockCodeRefusals } from './lock.ts';
import { redeemCodeRefusals } from './redeem.ts';
import { rollbackRedemptionRefusals } from './rollback.ts';

// No DynamoDB here: ElectroDB renders each transition's condition into the
// request it would send (`.params()`), and that expression is evaluated on
// generated items next to the condition as data and `allows` (derived from
// it). All must agree on every item, and every refusal must be declared.

const NOW = 1_800_000_000_000;
const KEY = { tenant: 't1', code: 'CODE-1' };

/** The condition as DynamoDB would receive it on the code item (a patch adds "the item exists"). */
const sentOnCode = (cond: Cond) => store.code.patch(KEY).set({ lockId: 'x' }).where(where(cond)).params();
const sentOnShard = (cond: Cond) =>
  store.bookStatsShard.patch({ tenant: 't1', bookId: 'b1', shard: 0 }).add({ redeemed: 1 }).where(where(cond)).params();
const sentOnRecord = (cond: Cond) => store.redemption.patch({ ...KEY, redemptionId: 'r1' }).set({ rolledBackAt: 'now' }).where(where(cond)).params();
const sentOnHolding = (cond: Cond) => store.userBookHolding.upsert({ tenant: 't1', userId: 'u1', bookId: 'b1' }).add({ held: 1 }).where(where(cond)).params();

const lockTimes = fc.constantFrom(NOW - 1000, NOW - 1, NOW, NOW + 1, NOW + 60_000);
const codeItem = itemOrNone({
  status: maybe(fc.constantFrom('available', 'assigned')),
  bookId: maybe(fc.constantFrom('b1', 'b2')),
  userId: maybe(fc.constantFrom('u1', 'u2')),
  redemptionCount: maybe(fc.integer({ min: 0, max: 3 })),
  maxRedemptions: maybe(fc.integer({ min: 1, max: 3 })),
  lockId: maybe(fc.constantFrom('L1', 'L2')),
  lockExpiresAt: maybe(lockTimes),
  changeSeq: maybe(fc.integer({ min: 1, max: 2 })),
  locksSinceRedemption: maybe(fc.integer({ min: 0, max: 3 })),
});
/** The code's changeSeq a write was built from (code/transitions.ts `fromRead`). */
const seq = maybe(fc.integer({ min: 1, max: 2 }));
const heldInput = fc.record({
  code: fc.constant('CODE-1'),
  userId: fc.constantFrom('u1', 'u2'),
  maxRedemptions: fc.integer({ min: 1, max: 3 }),
  now: fc.constant(NOW),
  seq,
});
const gateItem = itemOrNone({
  bookStatus: fc.constantFrom('active', 'paused'),
  validFromMs: maybe(fc.constantFrom(NOW - 1, NOW, NOW + 1)),
  validUntilMs: maybe(fc.constantFrom(NOW - 1, NOW, NOW + 1)),
});

describe('each transition: the condition DynamoDB receives, the condition as data and allows agree; refusals are declared', () => {
  it('assign', () => checkTransition(assign, codeItem, fc.record({ code: fc.constant('CODE-1'), bookId: fc.constantFrom('b1', 'b2') }), sentOnCode));
  it('lock', () => checkTransition(lock, codeItem, heldInput.map((h) => ({ ...h, maxLocks: 2 })), sentOnCode));
  it('unlock', () =>
    checkTransition(
      unlock,
      codeItem,
      fc.record({ code: fc.constant('CODE-1'), userId: fc.constantFrom('u1', 'u2'), lockId: fc.constantFrom('L1', 'L2'), now: fc.constant(NOW), seq }),
      sentOnCode,
    ));
  it('redeem, with and without a presented lock', () =>
    checkTransition(redeem, codeItem, heldInput.chain((h) => fc.record({ lockId: maybe(fc.constantFrom('L1', 'L2')) }).map((l) => ({ ...h, ...l }))), sentOnCode));
  it('roll back (the code)', () =>
    checkTransition(rollBack, codeItem, fc.record({ code: fc.constant('CODE-1'), redemptionId: fc.constant('CODE-1.r'), seq }), sentOnCode));
  it('roll back (the redemption record)', () =>
    checkTransition(
      rollBackRecord,
      itemOrNone({ redemptionId: fc.constant('r1'), rolledBackAt: maybe(fc.constant('2026-01-01T00:00:00.000Z')) }),
      fc.record({ redemptionId: fc.constant('r1') }),
      sentOnRecord,
    ));
  it('the book gate on a stats shard, for claims and for held codes', () => {
    checkTransition(claimGate, gateItem, fc.record({ now: fc.constant(NOW) }), sentOnShard);
    checkTransition(heldCodeGate, gateItem, fc.record({ now: fc.constant(NOW) }), sentOnShard);
  });
  it('the holding cap (an upsert: a missing holding is under any cap)', () =>
    checkTransition(holdUnderCap, itemOrNone({ held: fc.integer({ min: 0, max: 4 }) }), fc.record({ cap: fc.integer({ min: 1, max: 3 }) }), sentOnHolding));
});

// The agreement above holds whatever the condition says, since both sides come from it. What it
// must say is the life table's: each transition leaves exactly from the states state.ts derives.
describe('each transition leaves from the states of the life table (state.ts)', () => {
  const stored = (raw: Record<string, unknown>) => Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== undefined)) as any;
  const heldItem = codeItem.filter((i) => i !== null).map(stored);
  const by = (item: any, userId: string) => item.status === 'assigned' && item.userId === userId;
  // Built from the item as read: the write's own changeSeq check holds, so what is left is the state.
  const at = (item: any, userId: string) => ({ code: 'CODE-1', userId, maxRedemptions: maxRedemptionsOf(item), now: NOW, seq: item.changeSeq });
  const users = fc.constantFrom('u1', 'u2');
  const locks = fc.constantFrom('L1', 'L2');
  const property = (...args: unknown[]) => {
    const check = args.pop() as (...v: unknown[]) => void;
    fc.assert((fc.property as any)(...args, (...v: unknown[]) => void check(...v)), { numRuns: 400 });
  };

  it('assign: an available code of the book', () =>
    property(heldItem, fc.constantFrom('b1', 'b2'), (item: any, bookId: string) =>
      expect(assign.allows(item, { code: 'CODE-1', bookId })).toBe(item.status === 'available' && item.bookId === bookId)));
  it('lock: an active code, by its holder, locked fewer times than the bound since its last redemption', () =>
    property(heldItem, users, (item: any, userId: string) =>
      expect(lock.allows(item, { ...at(item, userId), maxLocks: 2 })).toBe(
        by(item, userId) && codeStatus(item, undefined, NOW) === 'active' && (item.locksSinceRedemption ?? 0) < 2,
      )));
  it('unlock: a code under an unexpired lock, by its holder naming that lock', () =>
    property(heldItem, users, locks, (item: any, userId: string, lockId: string) =>
      expect(unlock.allows(item, { code: 'CODE-1', userId, lockId, now: NOW, seq: item.changeSeq })).toBe(by(item, userId) && isLockHeld(item, NOW) && item.lockId === lockId)));
  it('redeem: a code with redemptions left, unlocked or under the lock presented', () =>
    property(heldItem, users, fc.option(locks, { nil: undefined }), (item: any, userId: string, lockId: string | undefined) =>
      expect(redeem.allows(item, { ...at(item, userId), lockId })).toBe(
        by(item, userId) && hasRedemptionsLeft(item) && (!isLockHeld(item, NOW) || (lockId !== undefined && item.lockId === lockId)),
      )));
  it('roll back: a held code with a redemption to give back', () =>
    property(heldItem, (item: any) =>
      expect(rollBack.allows(item, { code: 'CODE-1', redemptionId: 'r', seq: item.changeSeq })).toBe(item.status === 'assigned' && item.redemptionCount > 0)));
});

describe('a refusal can only be one its transition declares', () => {
  it('is checked by the type: a refusal outside the list does not compile', () => {
    transition({
      refusals: ['CODE_NOT_FOUND'],
      condition: () => always,
      // @ts-expect-error CODE_LOCKED is not declared
      refusal: () => new AppError('CODE_LOCKED', 'locked'),
    });
    expectTypeOf(lock.refusal).returns.toEqualTypeOf<
      Refusal<'CODE_NOT_FOUND' | 'REDEMPTION_LIMIT_REACHED' | 'CODE_LOCKED' | 'CODE_NOT_LOCKED' | 'LOCK_LIMIT_REACHED' | 'moved'> | BrokenInvariant
    >();
  });
});

describe('a refusal the domain answers itself is known by the transition that gave it', () => {
  it('even where two transitions share its code', () => {
    const a = transition({ refusals: ['moved'], condition: () => always, refusal: () => new Refused('moved', 'a') });
    const b = transition({ refusals: ['moved'], condition: () => always, refusal: () => new Refused('moved', 'b') });
    const refused = a.refusal(null, undefined);
    expect(refusedBy(a, refused)).toBe(refused);
    expect(refusedBy(b, refused)).toBeUndefined();
    expect(refusedBy(a, new Refused('moved', 'made by hand'))).toBeUndefined();
  });
});

describe('a use case refuses what its transitions refuse', () => {
  it('each route documents exactly these, in the error table order', () => {
    expect(assignRandomCodeRefusals.codes).toEqual(['BOOK_NOT_FOUND', 'BOOK_EXHAUSTED', 'BOOK_NOT_ACTIVE', 'USER_CODE_LIMIT_REACHED']);
    expect(assignNamedCodeRefusals.codes).toEqual(['CODE_NOT_FOUND', 'BOOK_NOT_ACTIVE', 'USER_CODE_LIMIT_REACHED', 'CODE_ALREADY_ASSIGNED']);
    expect(lockCodeRefusals.codes).toEqual([
      'CODE_NOT_FOUND',
      'BOOK_NOT_ACTIVE',
      'CODE_LOCKED',
      'CODE_NOT_LOCKED',
      'REDEMPTION_LIMIT_REACHED',
      'LOCK_LIMIT_REACHED',
      'CODE_EXPIRED',
    ]);
    expect(unlockCodeRefusals.codes).toEqual(['CODE_NOT_FOUND', 'CODE_LOCKED', 'CODE_NOT_LOCKED']);
    expect(redeemCodeRefusals.codes).toEqual(lockCodeRefusals.codes.filter((c) => c !== 'LOCK_LIMIT_REACHED'));
    expect(rollbackRedemptionRefusals.codes).toEqual(['REDEMPTION_NOT_FOUND', 'REDEMPTION_ALREADY_ROLLED_BACK']);
  });
  it('a copy of a keyed request can meet only the state its first one left', () => {
    expect(assignRandomCodeRefusals.ofACopy).toEqual(['BOOK_EXHAUSTED', 'USER_CODE_LIMIT_REACHED']);
    expect(assignNamedCodeRefusals.ofACopy).toEqual(['USER_CODE_LIMIT_REACHED', 'CODE_ALREADY_ASSIGNED']);
    expect(lockCodeRefusals.ofACopy).toEqual(['CODE_LOCKED']);
    expect(unlockCodeRefusals.ofACopy).toEqual(['CODE_NOT_LOCKED']);
    expect(redeemCodeRefusals.ofACopy).toEqual(['REDEMPTION_LIMIT_REACHED']);
    expect(rollbackRedemptionRefusals.ofACopy).toEqual(['REDEMPTION_ALREADY_ROLLED_BACK']);
  });
});

const held = { tenant: 't1', code: 'CODE-1', bookId: 'b1', shard: 0, poolSlot: 'a', status: 'assigned' as const, userId: 'u1', redemptionCount: 0, maxRedemptions: 2 };
const codeOf = (e: Error) => (e instanceof AppError ? e.code : e.message);

describe('each refusal names the state that refused it', () => {
  const rule = { code: 'CODE-1', userId: 'u1', maxRedemptions: 2, now: NOW, seq: undefined, maxLocks: 50 };
  it.each([
    ['missing', null, 'CODE_NOT_FOUND'],
    ['available', { ...held, status: 'available', userId: undefined }, 'CODE_NOT_FOUND'],
    ["another user's", { ...held, userId: 'u2' }, 'CODE_NOT_FOUND'],
    ['used up', { ...held, redemptionCount: 2 }, 'REDEMPTION_LIMIT_REACHED'],
    ['locked by another checkout', { ...held, lockId: 'L2', lockExpiresAt: NOW + 1 }, 'CODE_LOCKED'],
  ])('lock and redeem of a %s code', (_name, item, expected) => {
    expect(codeOf(lock.refusal(item as any, rule))).toBe(expected);
    expect(codeOf(redeem.refusal(item as any, { ...rule, lockId: 'L1' }))).toBe(expected);
  });
  it('lock of a code locked as many times as the bound since its last redemption is LOCK_LIMIT_REACHED', () => {
    expect(codeOf(lock.refusal({ ...held, locksSinceRedemption: 50 }, rule))).toBe('LOCK_LIMIT_REACHED');
    expect(lock.allows({ ...held, locksSinceRedemption: 49 }, rule)).toBe(true);
    expect(lock.allows({ ...held }, rule)).toBe(true);
  });
  it('unlock: someone else’s lock is CODE_LOCKED, a lapsed one CODE_NOT_LOCKED', () => {
    const u = { code: 'CODE-1', userId: 'u1', lockId: 'L1', now: NOW, seq: undefined };
    expect(codeOf(unlock.refusal({ ...held, lockId: 'L2', lockExpiresAt: NOW + 1 }, u))).toBe('CODE_LOCKED');
    expect(codeOf(unlock.refusal({ ...held, lockId: 'L1', lockExpiresAt: NOW }, u))).toBe('CODE_NOT_LOCKED');
    expect(codeOf(unlock.refusal(null, u))).toBe('CODE_NOT_FOUND');
  });
  it('a write built from an older read of a code it would still allow is `moved`, carrying the code as it now is', () => {
    const now = { ...held, changeSeq: 3 };
    const refused = lock.refusal(now, { ...rule, seq: 2 });
    expect(refusedBy(lock, refused)).toMatchObject({ code: 'moved', item: now });
    // A code it would not allow anyway gets the transition's own refusal, whatever was read.
    expect(codeOf(lock.refusal({ ...now, redemptionCount: 2 }, { ...rule, seq: 2 }))).toBe('REDEMPTION_LIMIT_REACHED');
    expect(lock.allows(now, { ...rule, seq: 3 })).toBe(true);
  });
  it('assign: taken is CODE_ALREADY_ASSIGNED, another book’s is CODE_NOT_FOUND', () => {
    expect(codeOf(assign.refusal(held, { code: 'CODE-1', bookId: 'b1' }))).toBe('CODE_ALREADY_ASSIGNED');
    expect(codeOf(assign.refusal({ ...held, status: 'available' }, { code: 'CODE-1', bookId: 'b2' }))).toBe('CODE_NOT_FOUND');
  });
  it('roll back: a second time is REDEMPTION_ALREADY_ROLLED_BACK, an unknown one REDEMPTION_NOT_FOUND', () => {
    expect(codeOf(rollBackRecord.refusal({ redemptionId: 'r', rolledBackAt: 'x' }, { redemptionId: 'r' }))).toBe('REDEMPTION_ALREADY_ROLLED_BACK');
    expect(codeOf(rollBackRecord.refusal(null, { redemptionId: 'r' }))).toBe('REDEMPTION_NOT_FOUND');
  });
  it('the gate: ended is BOOK_NOT_ACTIVE for a claim and CODE_EXPIRED for a held code; paused and not yet started are BOOK_NOT_ACTIVE', () => {
    const ended = { bookStatus: 'active' as const, validUntilMs: NOW };
    expect(codeOf(claimGate.refusal(ended, { now: NOW }))).toBe('BOOK_NOT_ACTIVE');
    expect(codeOf(heldCodeGate.refusal(ended, { now: NOW }))).toBe('CODE_EXPIRED');
    expect(codeOf(claimGate.refusal({ bookStatus: 'paused' }, { now: NOW }))).toBe('BOOK_NOT_ACTIVE');
    expect(codeOf(heldCodeGate.refusal({ bookStatus: 'active', validFromMs: NOW + 1 }, { now: NOW }))).toBe('BOOK_NOT_ACTIVE');
  });
});

describe('the vocabulary the API is pinned to', () => {
  it('a held code’s status is always one of CODE_STATUSES, and each of them is some code’s', () => {
    const seen = new Set<string>();
    fc.assert(
      fc.property(codeItem.filter((i) => i !== null), maybe(fc.constantFrom(NOW - 1, NOW + 1)), (raw, until) => {
        const item = { ...held, ...Object.fromEntries(Object.entries(raw!).filter(([, v]) => v !== undefined)) } as CodeRecord;
        const status = codeStatus(item, until === undefined ? undefined : new Date(until).toISOString(), NOW);
        expect(CODE_STATUSES).toContain(status);
        seen.add(status);
      }),
      { numRuns: 400 },
    );
    expect([...seen].sort()).toEqual([...CODE_STATUSES].sort());
  });
});

describe('what a transition writes', () => {
  it('every transition counts itself and says what it did, in the same write', () => {
    const change = marked({ set: { lockId: 'L1', lockExpiresAt: NOW + 1 } }, 'locked', NOW, 'svc-1', { lockId: 'L1', orderId: undefined });
    expect(change.add).toEqual({ changeSeq: 1 });
    expect(change.set.lastChange).toEqual({ type: 'locked', at: new Date(NOW).toISOString(), by: 'svc-1', lockId: 'L1' });
    const after = applied({ ...held, changeSeq: 4 }, change);
    expect(after).toMatchObject({ lockId: 'L1', changeSeq: 5 });
    const params = store.code.patch(KEY).set(change.set).add(change.add!).params() as any;
    expect(params.UpdateExpression).toMatch(/ADD #changeSeq/);
  });
  it("a transition's time is the clock, never before the code's previous transition", () => {
    const last = { type: 'locked' as const, at: new Date(NOW).toISOString(), by: 'u1' };
    expect(changeTime({ lastChange: last }, NOW - 300)).toBe(NOW);
    expect(changeTime({ lastChange: last }, NOW + 5)).toBe(NOW + 5);
    expect(changeTime({}, NOW - 300)).toBe(NOW - 300);
    expect(changeTime(null, NOW)).toBe(NOW);
  });
  it('a redeem after a rollback: the count goes back and the code is active again', () => {
    const redeemed = applied(held, marked({ set: {}, add: { redemptionCount: 1 } }, 'redeemed', NOW, 'u1'));
    const twice = applied(redeemed, { set: {}, add: { redemptionCount: 1 } });
    expect(codeStatus(twice, undefined, NOW)).toBe('redeemed');
    const back = applied(twice, marked({ set: {}, add: { redemptionCount: -1 } }, 'rolledBack', NOW, 'svc'));
    expect(back.redemptionCount).toBe(1);
    expect(codeStatus(back, undefined, NOW)).toBe('active');
  });
  it('one default for codes stored without maxRedemptions', () => {
    expect(maxRedemptionsOf({})).toBe(1);
    expect(maxRedemptionsOf({ maxRedemptions: 3 })).toBe(3);
  });
  it('a redemption id names its code, and only ids this service made are read', () => {
    const id = newRedemptionId('SUMMER-7K2M_X');
    expect(codeOfRedemptionId(id)).toBe('SUMMER-7K2M_X');
    expect(codeOfRedemptionId('1b9d6bcd-bbfd-4b2d-9b5d-ab8dfbbd4bed')).toBeUndefined();
    expect(codeOfRedemptionId('lower.1b9d6bcd-bbfd-4b2d-9b5d-ab8dfbbd4bed')).toBeUndefined();
    expect(codeOfRedemptionId('AB.1b9d6bcd-bbfd-4b2d-9b5d-ab8dfbbd4bed')).toBeUndefined();
    expect(codeOfRedemptionId('CODE-1.not-a-uuid')).toBeUndefined();
  });
});
