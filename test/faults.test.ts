import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { installFaultInjection } from '@coupons/core';
import { answer, bookWithCodes, expectError, service, startTestApi, user, type TestApi } from './support/harness.ts';
import { expectInvariants } from './support/invariants.ts';

// DynamoDB Local never raises TransactionConflict or throttling: these are
// injected by an AWS SDK middleware that only tests switch on (the one mocked
// part, because it is AWS-only behaviour). Everything else is real.
let api: TestApi;
let faults: ReturnType<typeof installFaultInjection>;
beforeAll(async () => {
  api = await startTestApi('faults');
  faults = installFaultInjection(api.core.store.client);
});
afterEach(() => faults.clear());
afterAll(() => api.close());

const transactions = () => faults.seen.filter((c) => c === 'TransactWriteItemsCommand').length;

describe('transaction conflicts', () => {
  it('are retried with backoff until the write goes through', async () => {
    const { book } = await bookWithCodes(api, 3);
    faults.clear();
    faults.inject('TransactionConflict', 3, 'TransactWriteItemsCommand');
    const r = await answer(api.client(await user('patient')).coupons.assign.$post({ json: { bookId: book.id } }));
    expect(r.status).toBe(201);
    expect(transactions()).toBe(4); // three conflicts, then the commit
    await expectInvariants(api);
  });

  it('that never end answer 503 UNAVAILABLE with Retry-After after a bounded number of attempts, writing nothing', async () => {
    const { book } = await bookWithCodes(api, 3);
    const before = await api.scanState();
    faults.clear();
    faults.inject('TransactionConflict', 1000, 'TransactWriteItemsCommand');
    const r = await answer(api.client(await user('unlucky')).coupons.assign.$post({ json: { bookId: book.id } }));
    expectError(r, 503, 'UNAVAILABLE');
    expect(r.headers.get('retry-after')).toBe('1');
    expect(transactions()).toBeLessThanOrEqual(8); // db/transact.ts: eight attempts
    faults.clear();
    expect(await api.scanState()).toEqual(before);
  });
});

describe('throttling and timeouts', () => {
  it('a throttled transaction that outlasts the retries answers 503 and leaves no partial write', async () => {
    const { book } = await bookWithCodes(api, 2);
    const token = await service();
    const claim = await answer(api.client(token).coupons.assign.$post({ json: { bookId: book.id, userId: 'x' } }));
    const before = await api.scanState();
    faults.inject('Throttling', 1000, 'TransactWriteItemsCommand');
    const r = await answer(api.client(token).coupons.redeem[':code'].$post({ param: { code: claim.json.code }, json: { orderId: 'o' } }));
    expectError(r, 503, 'UNAVAILABLE');
    expect(r.headers.get('retry-after')).toBeTruthy();
    expect(r.text).not.toMatch(/Provisioned|Exception|Throughput/);
    faults.clear();
    expect(await api.scanState()).toEqual(before);
  });

  it('a throttled transaction that clears within the retries succeeds', async () => {
    const { book } = await bookWithCodes(api, 2);
    faults.inject('Throttling', 2, 'TransactWriteItemsCommand');
    const r = await answer(api.client(await user('t-ok')).coupons.assign.$post({ json: { bookId: book.id } }));
    expect(r.status).toBe(201);
  });

  it('a timed-out read answers 503, never a 500', async () => {
    const { book } = await bookWithCodes(api, 1);
    faults.inject('Timeout', 1000, 'GetItemCommand');
    const r = await answer(api.client(await user('t-read')).coupons.assign.$post({ json: { bookId: book.id } }));
    expectError(r, 503, 'UNAVAILABLE');
    expect(r.text).not.toMatch(/Timeout|ETIMEDOUT/);
  });
});
