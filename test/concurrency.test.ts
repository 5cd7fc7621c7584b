import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { answer, bookStats, bookWithCodes, service, startTestApi, user, type TestApi } from './support/harness.ts';
import { expectInvariants } from './support/invariants.ts';

// Real concurrent HTTP requests against DynamoDB Local; every scenario ends by
// checking the invariants (docs/testing.md) against a scan of the table itself.
let api: TestApi;
beforeAll(async () => {
  api = await startTestApi('concurrency');
});
afterAll(() => api.close());


describe('races', () => {
  it('60 users racing for 40 codes with a cap of one: 40 win, each a different code, 20 see BOOK_EXHAUSTED', async () => {
    const { book, codes } = await bookWithCodes(api, 40, { maxCodesPerUser: 1 });
    const tokens = await Promise.all(Array.from({ length: 60 }, (_, i) => user(`racer-${i}`)));
    const results = await Promise.all(tokens.map((token) => answer(api.client(token).coupons.assign.$post({ json: { bookId: book.id } }))));
    const won = results.filter((r) => r.status === 201);
    const lost = results.filter((r) => r.status !== 201);
    expect(won).toHaveLength(40);
    expect(new Set(won.map((r) => r.json.code)).size).toBe(40);
    for (const r of won) expect(codes).toContain(r.json.code);
    expect(lost.every((r) => r.status === 409 && r.json.error.code === 'BOOK_EXHAUSTED')).toBe(true);

    const items = await api.scan();
    const assigned = items.filter((i) => i.__edb_e__ === 'code' && i.bookId === book.id && i.status === 'assigned');
    expect(assigned).toHaveLength(40);
    expect(new Set(assigned.map((i) => i.userId)).size).toBe(40);
    const stats = await bookStats(api, book.id);
    expect(stats).toEqual({ codes: 40, available: 0, assigned: 40, redeemed: 0 });
    await expectInvariants(api);
  });

  it('12 simultaneous claims by one user capped at 3: exactly 3 succeed', async () => {
    const { book } = await bookWithCodes(api, 20, { maxCodesPerUser: 3 });
    const token = await user('greedy');
    const results = await Promise.all(Array.from({ length: 12 }, () => answer(api.client(token).coupons.assign.$post({ json: { bookId: book.id } }))));
    expect(results.filter((r) => r.status === 201)).toHaveLength(3);
    expect(results.filter((r) => r.status === 409).every((r) => r.json.error.code === 'USER_CODE_LIMIT_REACHED')).toBe(true);
    const held = (await api.scan()).filter((i) => i.__edb_e__ === 'code' && i.bookId === book.id && i.userId === 'greedy');
    expect(held).toHaveLength(3);
    await expectInvariants(api);
  });

  it('15 simultaneous locks of one code: exactly one lock is granted', async () => {
    const { book } = await bookWithCodes(api, 1);
    const token = await user('locker');
    const claim = await answer(api.client(token).coupons.assign.$post({ json: { bookId: book.id } }));
    const results = await Promise.all(
      Array.from({ length: 15 }, () => answer(api.client(token).coupons.lock[':code'].$post({ param: { code: claim.json.code }, json: {} }))),
    );
    const granted = results.filter((r) => r.status === 200);
    expect(granted).toHaveLength(1);
    expect(results.filter((r) => r.status === 409).every((r) => r.json.error.code === 'CODE_LOCKED')).toBe(true);
    const item = (await api.scan()).find((i) => i.__edb_e__ === 'code' && i.code === claim.json.code)!;
    expect(item.lockId).toBe(granted[0]!.json.lockId);
    await expectInvariants(api);
  });

  it('15 simultaneous redeems of one code with maxRedemptionsPerUser 2: exactly 2 succeed, 2 records', async () => {
    const { book } = await bookWithCodes(api, 1, { maxRedemptionsPerUser: 2 });
    const token = await service();
    const claim = await answer(api.client(token).coupons.assign.$post({ json: { bookId: book.id, userId: 'buyer' } }));
    const results = await Promise.all(
      Array.from({ length: 15 }, (_, i) => answer(api.client(token).coupons.redeem[':code'].$post({ param: { code: claim.json.code }, json: { orderId: `o-${i}` } }))),
    );
    expect(results.filter((r) => r.status === 200)).toHaveLength(2);
    expect(results.filter((r) => r.status === 409).every((r) => r.json.error.code === 'REDEMPTION_LIMIT_REACHED')).toBe(true);
    const records = (await api.scan()).filter((i) => i.__edb_e__ === 'redemption' && i.code === claim.json.code);
    expect(records).toHaveLength(2);
    await expectInvariants(api);
  });

  it('15 redeems racing against a held lock: none without the lockId, one with it', async () => {
    const { book } = await bookWithCodes(api, 1, { maxRedemptionsPerUser: 5 });
    const token = await user('checkout');
    const claim = await answer(api.client(token).coupons.assign.$post({ json: { bookId: book.id, lock: true } }));
    expect(claim.json.lockId).toBeTruthy();
    const strangers = await Promise.all(
      Array.from({ length: 14 }, () => answer(api.client(token).coupons.redeem[':code'].$post({ param: { code: claim.json.code }, json: {} }))),
    );
    expect(strangers.every((r) => r.status === 409 && r.json.error.code === 'CODE_LOCKED')).toBe(true);
    const holder = await answer(api.client(token).coupons.redeem[':code'].$post({ param: { code: claim.json.code }, json: { lockId: claim.json.lockId } }));
    expect(holder.status).toBe(200);
    expect(holder.json.redemptionCount).toBe(1);
    await expectInvariants(api);
  });

  it('claim-and-lock by 30 users for 10 codes: every winner holds a lock, no code twice', async () => {
    const { book } = await bookWithCodes(api, 10);
    const tokens = await Promise.all(Array.from({ length: 30 }, (_, i) => user(`cl-${i}`)));
    const results = await Promise.all(tokens.map((token) => answer(api.client(token).coupons.assign.$post({ json: { bookId: book.id, lock: true } }))));
    const won = results.filter((r) => r.status === 201);
    expect(won).toHaveLength(10);
    expect(new Set(won.map((r) => r.json.code)).size).toBe(10);
    for (const r of won) expect(r.json).toMatchObject({ status: 'locked', lockId: expect.any(String), lockExpiresAt: expect.any(String) });
    await expectInvariants(api);
  });
});
