import { describe, it } from 'vitest';
import fc from 'fast-check';
import { where, type Cond } from '../db/condition.ts';
import { checkTransition, itemOrNone, maybe, offlineStore as store } from '../db/transition.test-support.ts';
import { revokeKey, storeKey, touchKey } from './api-key-transitions.ts';

// An API key's writes, held to the requests api-keys.ts and api-key-verifier.ts send: the
// expression ElectroDB renders, the condition as data and allows agree on generated items, and
// every refusal is declared.

const KEY = { tenant: 't1', keyId: 'k1' };
const HOUR_AGO = '2026-12-04T10:00:00.000Z';
const key = itemOrNone({
  keyId: fc.constant('k1'),
  revokedAt: maybe(fc.constant('2026-12-04T09:00:00.000Z')),
  lastUsedAt: maybe(fc.constantFrom('2026-12-04T09:59:59.999Z', HOUR_AGO, '2026-12-04T10:30:00.000Z')),
});
const record = { ...KEY, name: 'n', role: 'service' as const, prefix: 'cbk_t1_k1_abcd', secretHash: 'ab', createdAt: 'c', createdBy: 'admin' };

describe('API keys: the condition sent, the condition as data and allows agree; refusals are declared', () => {
  it('a key is stored once, never over another', () =>
    checkTransition(storeKey, key, fc.constant(undefined), () => store.apiKey.create(record).params()));
  it('a key is revoked once, and only one that is there', () =>
    checkTransition(revokeKey, key, fc.record({ keyId: fc.constant('k1') }), (cond: Cond) =>
      store.apiKey.patch(KEY).set({ revokedAt: 'now', revokedBy: 'admin' }).where(where(cond)).params(),
    ));
  it('lastUsedAt moves at most once an hour', () =>
    checkTransition(touchKey, key, fc.record({ hourAgo: fc.constant(HOUR_AGO) }), (cond: Cond) =>
      store.apiKey.patch(KEY).set({ lastUsedAt: 'now' }).where(where(cond)).params(),
    ));
});
