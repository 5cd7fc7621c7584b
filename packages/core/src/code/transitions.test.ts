import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createStore } from '../entities/index.ts';
import { createDocumentClient, createDynamoDbClient } from '../db/client.ts';
import { AppError } from '../errors.ts';
import { holds, where, type Cond } from '../db/condition.ts';
import { gateOpen } from '../book/gate.ts';
import { assign, holdUnderCap, lock, marked, redeem, rollBack, rollBackRecord, unlock } from './transitions.ts';
import { applied, type Transition } from '../db/transition.ts';
import { evaluateCondition } from '../db/expression.test-support.ts';
import { codeOfRedemptionId, newRedemptionId } from './redemption-id.ts';
import { codeStatus, maxRedemptionsOf } from './state.ts';

// No DynamoDB here: ElectroDB renders each transition's condition into the
// request it would send (`.params()`), and that expression is evaluated on
// generated items next to the transition's in-memory predicate and the
// condition description both come from. All three must agree on every item.

const store = createStore(createDocumentClient(createDynamoDbClient({ AWS_REGION: 'us-east-1', DYNAMODB_ENDPOINT: 'http://127.0.0.1:9' })), 'unit');
const NOW = 1_800_000_000_000;
const KEY = { tenant: 't1', code: 'CODE-1' };

/** The condition as DynamoDB would receive it on the code item (a patch adds "the item exists"). */
function sentOnCode(cond: Cond) {
  return store.code.patch(KEY).set({ lockId: 'x' }).where(where(cond)).params() as any;
}
function sentOnShard(cond: Cond) {
  return store.bookStatsShard.patch({ tenant: 't1', bookId: 'b1', shard: 0 }).add({ redeemed: 1 }).where(where(cond)).params() as any;
}
function sentOnRecord(cond: Cond) {
  return store.redemption.patch({ ...KEY, redemptionId: 'r1' }).set({ rolledBackAt: 'now' }).where(where(cond)).params() as any;
}
function sentOnHolding(cond: Cond) {
  return store.userBookHolding.upsert({ tenant: 't1', userId: 'u1', bookId: 'b1' }).add({ held: 1 }).where(where(cond)).params() as any;
}

/** What DynamoDB decides: the item as stored, with its keys (absent item: no keys). */
function dynamoSays(params: any, item: Record<string, unknown> | null) {
  const stored = item ? { pk: 'PK', sk: 'SK', ...item } : null;
  return evaluateCondition(params.ConditionExpression, params.ExpressionAttributeNames, params.ExpressionAttributeValues, stored);
}

const maybe = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined });
const lockTimes = fc.constantFrom(NOW - 1000, NOW - 1, NOW, NOW + 1, NOW + 60_000);
const codeItem = fc.option(
  fc.record({
    status: maybe(fc.constantFrom('available', 'assigned')),
    bookId: maybe(fc.constantFrom('b1', 'b2')),
    userId: maybe(fc.constantFrom('u1', 'u2')),
    redemptionCount: maybe(fc.integer({ min: 0, max: 3 })),
    maxRedemptions: maybe(fc.integer({ min: 1, max: 3 })),
    lockId: maybe(fc.constantFrom('L1', 'L2')),
    lockExpiresAt: maybe(lockTimes),
  }),
  { nil: null },
);
const heldInput = fc.record({
  code: fc.constant('CODE-1'),
  userId: fc.constantFrom('u1', 'u2'),
  maxRedemptions: fc.integer({ min: 1, max: 3 }),
  now: fc.constant(NOW),
});

function agree<I>(t: Transition<I, any>, items: fc.Arbitrary<Record<string, any> | null>, inputs: fc.Arbitrary<I>, sent: (c: Cond) => any) {
  fc.assert(
    fc.property(items, inputs, (rawItem, input) => {
      // Generated records carry undefined for absent attributes; stored items simply lack them.
      const item = rawItem && Object.fromEntries(Object.entries(rawItem).filter(([, v]) => v !== undefined));
      const cond = t.condition(input);
      const predicate = t.allows(item as any, input);
      expect(holds(cond, item) && item !== null, 'description vs predicate').toBe(predicate);
      expect(dynamoSays(sent(cond), item), 'expression sent vs predicate').toBe(predicate);
      if (!predicate) expect(t.refusal(item as any, input)).toBeInstanceOf(Error);
    }),
    { numRuns: 400 },
  );
}

describe('each transition: the condition DynamoDB receives and the in-memory predicate agree', () => {
  it('assign', () => agree(assign, codeItem, fc.record({ code: fc.constant('CODE-1'), bookId: fc.constantFrom('b1', 'b2') }), sentOnCode));
  it('lock', () => agree(lock, codeItem, heldInput, sentOnCode));
  it('unlock', () => agree(unlock, codeItem, fc.record({ code: fc.constant('CODE-1'), userId: fc.constantFrom('u1', 'u2'), lockId: fc.constantFrom('L1', 'L2'), now: fc.constant(NOW) }), sentOnCode));
  it('redeem, with and without a presented lock', () =>
    agree(redeem, codeItem, fc.record({ code: fc.constant('CODE-1'), userId: fc.constantFrom('u1', 'u2'), maxRedemptions: fc.integer({ min: 1, max: 3 }), now: fc.constant(NOW), lockId: maybe(fc.constantFrom('L1', 'L2')) }), sentOnCode));
  it('roll back (the code)', () => agree(rollBack, codeItem, fc.record({ code: fc.constant('CODE-1'), redemptionId: fc.constant('CODE-1.r') }), sentOnCode));
  it('roll back (the redemption record)', () =>
    agree(
      rollBackRecord,
      fc.option(fc.record({ redemptionId: fc.constant('r1'), rolledBackAt: maybe(fc.constant('2026-01-01T00:00:00.000Z')) }), { nil: null }),
      fc.record({ redemptionId: fc.constant('r1') }),
      sentOnRecord,
    ));
  it('the book gate on a stats shard, for claims and for held codes', () =>
    agree(
      gateOpen,
      fc.option(
        fc.record({
          bookStatus: fc.constantFrom('active', 'paused'),
          validFromMs: maybe(fc.constantFrom(NOW - 1, NOW, NOW + 1)),
          validUntilMs: maybe(fc.constantFrom(NOW - 1, NOW, NOW + 1)),
        }),
        { nil: null },
      ),
      fc.record({ now: fc.constant(NOW), requireActive: fc.boolean() }),
      sentOnShard,
    ));
  it('the holding cap (an upsert: a missing holding is under any cap)', () => {
    fc.assert(
      fc.property(fc.option(fc.integer({ min: 0, max: 4 }), { nil: undefined }), fc.integer({ min: 1, max: 3 }), (held, cap) => {
        const item = held === undefined ? null : { held };
        const cond = holdUnderCap.condition({ cap });
        const predicate = holdUnderCap.allows(item, { cap });
        expect(holds(cond, item)).toBe(predicate);
        expect(dynamoSays(sentOnHolding(cond), item === null ? {} : item)).toBe(predicate);
      }),
    );
  });
});

const held = { tenant: 't1', code: 'CODE-1', bookId: 'b1', shard: 0, poolSlot: 'a', status: 'assigned' as const, userId: 'u1', redemptionCount: 0, maxRedemptions: 2 };
const codeOf = (e: Error) => (e instanceof AppError ? e.code : e.message);

describe('each refusal names the state that refused it', () => {
  const rule = { code: 'CODE-1', userId: 'u1', maxRedemptions: 2, now: NOW };
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
  it('unlock: someone else’s lock is CODE_LOCKED, a lapsed one CODE_NOT_LOCKED', () => {
    const u = { code: 'CODE-1', userId: 'u1', lockId: 'L1', now: NOW };
    expect(codeOf(unlock.refusal({ ...held, lockId: 'L2', lockExpiresAt: NOW + 1 }, u))).toBe('CODE_LOCKED');
    expect(codeOf(unlock.refusal({ ...held, lockId: 'L1', lockExpiresAt: NOW }, u))).toBe('CODE_NOT_LOCKED');
    expect(codeOf(unlock.refusal(null, u))).toBe('CODE_NOT_FOUND');
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
    const ended = { bookStatus: 'active', validUntilMs: NOW };
    expect(codeOf(gateOpen.refusal(ended, { now: NOW, requireActive: true }))).toBe('BOOK_NOT_ACTIVE');
    expect(codeOf(gateOpen.refusal(ended, { now: NOW, requireActive: false }))).toBe('CODE_EXPIRED');
    expect(codeOf(gateOpen.refusal({ bookStatus: 'paused' }, { now: NOW, requireActive: true }))).toBe('BOOK_NOT_ACTIVE');
    expect(codeOf(gateOpen.refusal({ bookStatus: 'active', validFromMs: NOW + 1 }, { now: NOW, requireActive: false }))).toBe('BOOK_NOT_ACTIVE');
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
