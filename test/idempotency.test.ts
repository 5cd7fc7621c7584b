import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { admin, answer, bookStats, bookWithCodes, createBook, expectError, service, startTestApi, uniqueCode, user, type TestApi } from './support/harness.ts';
import { expectInvariants } from './support/invariants.ts';

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi('idempotency');
});
afterAll(() => api.close());

const key = () => ({ 'idempotency-key': randomUUID() });
const records = async () => (await api.scan()).filter((i) => i.__edb_e__ === 'idempotencyRecord');

describe('Idempotency-Key', () => {
  it('a retried claim returns the first response and assigns nothing more', async () => {
    const { book } = await bookWithCodes(api, 5);
    const token = await user('retry-1');
    const headers = key();
    const first = await answer(api.client(token).coupons.assign.$post({ json: { bookId: book.id } }, { headers }));
    const again = await answer(api.client(token).coupons.assign.$post({ json: { bookId: book.id } }, { headers }));
    expect(first.status).toBe(201);
    expect(again.status).toBe(201);
    expect(again.json).toEqual(first.json);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    const stats = await bookStats(api, book.id);
    expect(stats.assigned).toBe(1);
  });

  it('20 concurrent retries with one key do the work once and all get the first response', async () => {
    const { book } = await bookWithCodes(api, 30, { maxRedemptionsPerUser: 1 });
    const token = await service();
    const headers = key();
    const results = await Promise.all(
      Array.from({ length: 20 }, () => answer(api.client(token).coupons.assign.$post({ json: { bookId: book.id, userId: 'once' } }, { headers }))),
    );
    expect(results.every((r) => r.status === 201)).toBe(true);
    expect(new Set(results.map((r) => r.json.code)).size).toBe(1);
    const held = (await api.scan()).filter((i) => i.__edb_e__ === 'code' && i.userId === 'once');
    expect(held).toHaveLength(1);
    await expectInvariants(api);
  });

  it('concurrent retried redeems make exactly one redemption record', async () => {
    const { book } = await bookWithCodes(api, 1, { maxRedemptionsPerUser: 5 });
    const token = await user('redeemer');
    const claim = await answer(api.client(token).coupons.assign.$post({ json: { bookId: book.id } }));
    const headers = key();
    const results = await Promise.all(
      Array.from({ length: 10 }, () => answer(api.client(token).coupons.redeem[':code'].$post({ param: { code: claim.json.code }, json: { orderId: 'o-1' } }, { headers }))),
    );
    expect(results.every((r) => r.status === 200)).toBe(true);
    expect(new Set(results.map((r) => r.json.redemptionId)).size).toBe(1);
    const redemptions = (await api.scan()).filter((i) => i.__edb_e__ === 'redemption' && i.code === claim.json.code);
    expect(redemptions).toHaveLength(1);
  });

  it('the same key with another body is 422 IDEMPOTENCY_KEY_REUSED and changes nothing', async () => {
    const token = await admin();
    const headers = key();
    const first = await answer(api.client(token).coupons.$post({ json: { name: 'one' } }, { headers }));
    expect(first.status).toBe(201);
    const before = await api.scanState();
    expectError(await answer(api.client(token).coupons.$post({ json: { name: 'two' } }, { headers })), 422, 'IDEMPOTENCY_KEY_REUSED');
    expect(await api.scanState()).toEqual(before);
    // Key order and whitespace do not make another body.
    // Raw: the same JSON written differently.
    const replay = await api.call('POST', '/coupons', { token, headers, raw: '{ "name" : "one" }' });
    expect(replay.json.id).toBe(first.json.id);
  });

  it('keys are scoped to the caller: another caller with the same key does its own work', async () => {
    const { book } = await bookWithCodes(api, 4);
    const headers = key();
    const a = await answer(api.client(await user('scope-a')).coupons.assign.$post({ json: { bookId: book.id } }, { headers }));
    const b = await answer(api.client(await user('scope-b')).coupons.assign.$post({ json: { bookId: book.id } }, { headers }));
    expect(a.status).toBe(201);
    expect(b.status).toBe(201);
    expect(b.json.code).not.toBe(a.json.code);
  });

  it('a retried upload answers the first report, not "all duplicates"; concurrent ones insert once', async () => {
    const book = await createBook(api);
    const token = await admin();
    const headers = key();
    const codes = [uniqueCode(), uniqueCode(), uniqueCode()];
    const results = await Promise.all(
      Array.from({ length: 4 }, () => answer(api.client(token).coupons.codes.$post({ json: { bookId: book.id, codes } }, { headers }))),
    );
    for (const r of results) expect(r.json).toEqual({ inserted: 3, duplicates: [], invalid: [] });
    const later = await answer(api.client(token).coupons.codes.$post({ json: { bookId: book.id, codes } }, { headers }));
    expect(later.json).toEqual({ inserted: 3, duplicates: [], invalid: [] });
    await expectInvariants(api);
  });

  it('a failed request writes no record, so its retry runs again', async () => {
    const book = await createBook(api);
    const token = await user('patient');
    const headers = key();
    expectError(await answer(api.client(token).coupons.assign.$post({ json: { bookId: book.id } }, { headers })), 409, 'BOOK_EXHAUSTED');
    await answer(api.client(await admin()).coupons.codes.$post({ json: { bookId: book.id, codes: [uniqueCode()] } }));
    expect((await answer(api.client(token).coupons.assign.$post({ json: { bookId: book.id } }, { headers }))).status).toBe(201);
  });

  it('records expire through TTL after 24 hours; codes never carry a TTL', async () => {
    const now = Date.now() / 1000;
    const recs = await records();
    expect(recs.length).toBeGreaterThan(0);
    for (const r of recs) {
      expect(r.expiresAt).toBeGreaterThan(now + 24 * 3600 - 600);
      expect(r.expiresAt).toBeLessThan(now + 24 * 3600 + 60);
      expect(r.pk).toMatch(/^T#t1#IDEM#/);
    }
    expect((await api.scan()).filter((i) => i.__edb_e__ === 'code' && i.expiresAt !== undefined)).toEqual([]);
  });

  it('a malformed key is refused', async () => {
    const r = await answer(api.client(await admin()).coupons.$post({ json: { name: 'x' } }, { headers: { 'idempotency-key': 'a'.repeat(201) } }));
    expectError(r, 400, 'VALIDATION_FAILED');
  });
});
