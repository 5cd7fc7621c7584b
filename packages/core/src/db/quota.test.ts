import { describe, it } from 'vitest';
import fc from 'fast-check';
import { where } from './condition.ts';
import { checkTransition, itemOrNone, maybe, offlineStore as store } from './transition.test-support.ts';
import { countInPeriod, giveBack, startCount, stillUncounted, takeQuota } from './quota.ts';

// A tenant's counts (db/quota.ts), held to the writes that carry them: the expression ElectroDB
// renders, the condition as data and allows agree on generated counts, and every refusal is declared.
const KEY = { tenant: 't1', kind: 'webhooks' };
const count = itemOrNone({ used: maybe(fc.integer({ min: 0, max: 4 })) });
const quota = fc.record({ kind: fc.constant('webhooks'), cap: fc.integer({ min: 1, max: 3 }), what: fc.constant('webhook endpoints') });

describe('tenant counts: the condition sent, the condition as data and allows agree; refusals are declared', () => {
  it('one more is taken only under the cap, from a started count', () =>
    checkTransition(takeQuota, count, quota, (cond) => store.tenantQuota.patch(KEY).add({ used: 1 }).where(where(cond)).params()));
  it('a count is started only where none was', () =>
    checkTransition(startCount, count, quota, (cond) => store.tenantQuota.create({ ...KEY, used: 1 }).where(where(cond)).params()));
  it('one is given back only from a started count above zero', () =>
    checkTransition(giveBack, count, quota, (cond) =>
      store.tenantQuota.patch(KEY).add({ used: -1 }).where(where(cond)).params(),
    ));
  // A condition check in the transaction; rendered here on a write that demands nothing itself.
  it('nothing is given back to a count not started, only checked', () =>
    checkTransition(stillUncounted, count, quota, (cond) => store.tenantQuota.upsert({ ...KEY, expiresAt: 1 }).where(where(cond)).params()));
  it("a period's count starts at the first and stays under the cap", () =>
    checkTransition(countInPeriod, count, quota, (cond) => store.tenantQuota.upsert({ ...KEY, expiresAt: 1 }).add({ used: 1 }).where(where(cond)).params()));
});
