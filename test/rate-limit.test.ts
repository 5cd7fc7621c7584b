import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bookWithCodes, expectError, service, startTestApi, user, type TestApi } from './support/harness.ts';

// Limits are counters in the table, so two API instances (two "Lambdas")
// over the same table share them.
const limits = { RATE_LIMIT_CALLER_PER_MINUTE: '5', RATE_LIMIT_TENANT_PER_MINUTE: '40', RATE_LIMIT_TENANT_SHARDS: '2', RATE_LIMIT_MISSES_PER_10_MINUTES: '3' };
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

describe('rate limits', () => {
  it('a caller over its limit gets 429 RATE_LIMITED with Retry-After, across instances; others are unaffected', async () => {
    const { book } = await bookWithCodes(one, 30);
    const token = await user('flooder');
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) {
      const api = i % 2 ? two : one;
      const r = await api.call('POST', `/coupons/assign`, { token, body: { bookId: book.id } });
      statuses.push(r.status);
      if (r.status === 429) {
        expectError(r, 429, 'RATE_LIMITED');
        const retryAfter = Number(r.headers.get('retry-after'));
        expect(retryAfter).toBeGreaterThanOrEqual(1);
        expect(retryAfter).toBeLessThanOrEqual(60);
      }
    }
    // Five within the limit (alternating instances), the sixth over it.
    expect(statuses.slice(0, 5).every((s) => s !== 429)).toBe(true);
    expect(statuses[5]).toBe(429);
    expect((await one.call('POST', '/coupons/assign', { token: await user('calm'), body: { bookId: book.id } })).status).toBe(201);
  });

  it('a tenant over its limit gets 429 even from fresh callers', async () => {
    const { book } = await bookWithCodes(one, 5, {}, 't-flood');
    let limited = 0;
    for (let i = 0; i < 60 && !limited; i++) {
      const r = await one.call('POST', '/coupons/assign', { token: await user(`many-${i}`, 't-flood'), body: { bookId: book.id } });
      if (r.status === 429) limited++;
    }
    expect(limited).toBe(1);
  });

  it('repeated CODE_NOT_FOUND trips a stricter limit: then even a real code is refused', async () => {
    const { book, codes } = await bookWithCodes(one, 1);
    const svc = await service('t1', 'guesser');
    for (let i = 0; i < 3; i++) {
      expectError(await one.call('POST', `/coupons/redeem/GUESS-${i}`, { token: svc, body: {} }), 404, 'CODE_NOT_FOUND');
    }
    const r = await two.call('POST', `/coupons/assign/${codes[0]}`, { token: svc, body: { userId: 'x', bookId: book.id } });
    expectError(r, 429, 'RATE_LIMITED');
    expect(Number(r.headers.get('retry-after'))).toBeGreaterThan(0);
  });

  it('counters carry a TTL: their life is bounded', async () => {
    const counters = (await one.scan()).filter((i) => i.__edb_e__ === 'rateCounter');
    expect(counters.length).toBeGreaterThan(0);
    for (const c of counters) expect(c.expiresAt).toBeGreaterThan(Date.now() / 1000);
  });
});
