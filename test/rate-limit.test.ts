import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { answer, bookWithCodes, expectError, service, startTestApi, user, type TestApi } from './support/harness.ts';

// Per-caller and per-tenant limits live in each instance's memory (two API
// instances here stand for two Lambdas); only the code-guessing trip is
// shared, through the table, and only a miss writes it.
const limits = { RATE_LIMIT_CALLER_PER_MINUTE: '5', RATE_LIMIT_TENANT_PER_SECOND: '8', RATE_LIMIT_MISSES_PER_10_MINUTES: '3' };
let one: TestApi;
let two: TestApi;

beforeAll(async () => {
  one = await startTestApi('rate-limit', limits);
  two = await startTestApi('rate-limit', { ...limits, TABLE_NAME: one.table });
});
afterAll(async () => {
  await one.close();
  await two.close();
});

const limiterItems = async () => (await one.scan()).filter((i) => i.__edb_e__ === 'rateCounter');

describe('rate limits', () => {
  it('a caller over its limit on an instance gets 429 RATE_LIMITED with Retry-After; others are unaffected', async () => {
    const { book } = await bookWithCodes(one, 30, {}, 't-caller');
    const token = await user('flooder', 't-caller');
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await answer(one.client(token).coupons.assign.$post({ json: { bookId: book.id } }))).status);
    // Five within the limit (the first a 201, then the cap of one code answers 409), the sixth over it.
    expect(statuses.every((s) => s !== 429)).toBe(true);
    const r = await answer(one.client(token).coupons.assign.$post({ json: { bookId: book.id } }));
    expectError(r, 429, 'RATE_LIMITED');
    // 5 per minute: the next token is at most 12 s away.
    expect(Number(r.headers.get('retry-after'))).toBeGreaterThanOrEqual(10);
    expect(Number(r.headers.get('retry-after'))).toBeLessThanOrEqual(12);
    expect((await answer(one.client(await user('calm', 't-caller')).coupons.assign.$post({ json: { bookId: book.id } }))).status).toBe(201);
    // The limit is per instance, as documented: another instance has its own allowance.
    expect((await answer(two.client(token).coupons.assign.$post({ json: { bookId: book.id } }))).status).not.toBe(429);
  });

  it('a tenant over its per-second limit gets 429 even from fresh callers', async () => {
    const { book } = await bookWithCodes(one, 20, {}, 't-flood');
    // An instance whose clock stands still: all 12 requests fall in the same instant.
    const frozen = await startTestApi('rate-limit', { ...limits, TABLE_NAME: one.table });
    const at = Date.now();
    frozen.core.now = () => at;
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 12; i++) {
        const r = await answer(frozen.client(await user(`many-${i}`, 't-flood')).coupons.assign.$post({ json: { bookId: book.id } }));
        if (r.status === 429) expectError(r, 429, 'RATE_LIMITED');
        statuses.push(r.status);
      }
      // A burst of 8 (one second's allowance) passes, the other 4 are refused.
      expect(statuses).toEqual([...Array(8).fill(201), ...Array(4).fill(429)]);
    } finally {
      await frozen.close();
    }
  });

  it('well-behaved claims, locks and redeems write nothing for the limiter', async () => {
    const { book } = await bookWithCodes(one, 3, {}, 't-calm');
    const before = (await limiterItems()).length;
    const token = await user('good', 't-calm');
    const claimed = await answer(one.client(token).coupons.assign.$post({ json: { bookId: book.id, lock: true } }));
    expect(claimed.status).toBe(201);
    expect((await answer(two.client(token).coupons.unlock[':code'].$post({ param: { code: claimed.json.code }, json: {} }))).status).toBe(200);
    expect((await answer(two.client(token).coupons.redeem[':code'].$post({ param: { code: claimed.json.code }, json: {} }))).status).toBe(200);
    expect((await limiterItems()).length).toBe(before);
  });

  it('repeated CODE_NOT_FOUND trips a stricter limit shared by every instance: then even a real code is refused', async () => {
    const { book, codes } = await bookWithCodes(one, 1);
    const svc = await service('t1', 'guesser');
    for (let i = 0; i < 3; i++) {
      expectError(await answer(one.client(svc).coupons.redeem[':code'].$post({ param: { code: `GUESS-${i}` }, json: {} })), 404, 'CODE_NOT_FOUND');
    }
    // Instance two never saw this caller, so it reads the misses from the table.
    const r = await answer(two.client(svc).coupons.assign[':code'].$post({ param: { code: codes[0] }, json: { userId: 'x', bookId: book.id } }));
    expectError(r, 429, 'RATE_LIMITED');
    expect(Number(r.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(Number(r.headers.get('retry-after'))).toBeLessThanOrEqual(600);
    // Instance one learned the trip from its own miss writes, without a read.
    expectError(await answer(one.client(svc).coupons.lock[':code'].$post({ param: { code: codes[0] }, json: { userId: 'x' } })), 429, 'RATE_LIMITED');
    // A random claim names no code: guessing is impossible there, so it is not refused for misses.
    expect((await answer(one.client(svc).coupons.assign.$post({ json: { userId: 'y', bookId: book.id } }))).status).not.toBe(429);
  });

  it('one item per guessing caller and window holds the misses, and it carries a TTL', async () => {
    const counters = await limiterItems();
    expect(counters).toHaveLength(1);
    expect(counters[0]!.misses).toBe(3);
    expect(counters[0]!.expiresAt).toBeGreaterThan(Date.now() / 1000);
  });
});
