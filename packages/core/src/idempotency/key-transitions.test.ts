import { describe, it } from 'vitest';
import fc from 'fast-check';
import { where, type Cond } from '../db/condition.ts';
import { checkTransition, itemOrNone, maybe, offlineStore as store } from '../db/transition.test-support.ts';
import { claimKey, pendingClaim } from './key-transitions.ts';

// The idempotency record's transitions, held to the requests the runner sends (run.ts): the
// create of a record, and the completion, takeover (patches) and release (a delete) of a claim.

const KEY = { tenant: 't1', scope: 's1' };
const T0 = '2026-01-01T00:00:00.000Z';
const T1 = '2026-01-01T00:02:01.000Z';
const record = itemOrNone({ state: maybe(fc.constantFrom('pending', 'done')), createdAt: maybe(fc.constantFrom(T0, T1)) });
const created = (cond: Cond) =>
  store.idempotencyRecord
    .create({ ...KEY, role: 'user', caller: 'u1', key: 'k', requestHash: 'h', state: 'pending', createdAt: T0, expiresAt: 1 })
    .where(where(cond))
    .params();

describe('idempotency records: the condition sent, the condition as data and allows agree; refusals are declared', () => {
  it('a record is created only under a key that has none', () => checkTransition(claimKey, record, fc.constant(undefined), created));
  it('a claim is completed or taken over only while it is the pending claim named', () =>
    checkTransition(pendingClaim, record, fc.record({ createdAt: fc.constantFrom(T0, T1) }), (cond) =>
      store.idempotencyRecord.patch(KEY).set({ createdAt: T1 }).where(where(cond)).params(),
    ));
  it('and released under the same condition (a delete, which demands no item by itself)', () =>
    checkTransition(pendingClaim, record, fc.record({ createdAt: fc.constantFrom(T0, T1) }), (cond) =>
      store.idempotencyRecord.delete(KEY).where(where(cond)).params(),
    ));
});
