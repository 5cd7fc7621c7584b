import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { admin, bookWithCodes, expectError, service, startTestApi, user, type TestApi } from './support/harness.ts';

// Tenants never see each other; users never see or touch each other's codes,
// and a code that is not the caller's answers exactly as one that does not exist.
let api: TestApi;
let bookId: string;
let aliceCode: string;
let freeCode: string;

beforeAll(async () => {
  api = await startTestApi('isolation');
  const { book, codes } = await bookWithCodes(api, 4, { maxRedemptionsPerUser: 3 });
  bookId = book.id;
  const claim = await api.call('POST', '/coupons/assign', { token: await user('alice'), body: { bookId } });
  aliceCode = claim.json.code;
  freeCode = codes.find((c) => c !== aliceCode)!;
});
afterAll(() => api.close());

describe('tenant isolation', () => {
  it('another tenant sees none of the books, codes or users', async () => {
    const other = await admin('t2');
    expect((await api.call('GET', '/coupons', { token: other })).json.items).toEqual([]);
    expectError(await api.call('GET', `/coupons/${bookId}`, { token: other }), 404, 'BOOK_NOT_FOUND');
    expectError(await api.call('PATCH', `/coupons/${bookId}`, { token: other, body: { status: 'paused' } }), 404, 'BOOK_NOT_FOUND');
    expectError(await api.call('POST', '/coupons/codes', { token: other, body: { bookId, codes: ['ZZZ-1'] } }), 404, 'BOOK_NOT_FOUND');
    expectError(await api.call('POST', '/coupons/assign', { token: await user('alice', 't2'), body: { bookId } }), 404, 'BOOK_NOT_FOUND');
    expectError(await api.call('POST', `/coupons/assign/${freeCode}`, { token: await service('t2'), body: { userId: 'x' } }), 404, 'CODE_NOT_FOUND');
    expectError(await api.call('POST', `/coupons/lock/${aliceCode}`, { token: await user('alice', 't2'), body: {} }), 404, 'CODE_NOT_FOUND');
    expectError(await api.call('POST', `/coupons/redeem/${aliceCode}`, { token: await service('t2'), body: {} }), 404, 'CODE_NOT_FOUND');
    expect((await api.call('GET', '/users/alice/coupons', { token: await admin('t2') })).json.items).toEqual([]);
  });

  it('the same code may exist in two tenants without touching each other', async () => {
    const t2book = await api.call('POST', '/coupons', { token: await admin('t2'), body: { name: 'other tenant' } });
    const up = await api.call('POST', '/coupons/codes', { token: await admin('t2'), body: { bookId: t2book.json.id, codes: [aliceCode] } });
    expect(up.json).toMatchObject({ inserted: 1, duplicates: [] });
    const items = (await api.scan()).filter((i) => i.__edb_e__ === 'code' && i.code === aliceCode);
    expect(items.map((i) => [i.tenant, i.status]).sort()).toEqual([
      ['t1', 'assigned'],
      ['t2', 'available'],
    ]);
  });
});

describe('user isolation', () => {
  it("another user gets 404 on alice's code for lock, unlock and redeem, and the code is untouched", async () => {
    const bob = await user('bob');
    const before = (await api.scan()).find((i) => i.__edb_e__ === 'code' && i.tenant === 't1' && i.code === aliceCode);
    const unknown = await api.call('POST', '/coupons/lock/NO-SUCH-CODE', { token: bob, body: {} });
    for (const action of ['lock', 'unlock', 'redeem']) {
      const r = await api.call('POST', `/coupons/${action}/${aliceCode}`, { token: bob, body: {} });
      expectError(r, 404, 'CODE_NOT_FOUND');
      // Indistinguishable from a code that does not exist, message aside from the code itself.
      expect(r.json.error.message.replace(aliceCode, 'X')).toBe(unknown.json.error.message.replace('NO-SUCH-CODE', 'X'));
    }
    const after = (await api.scan()).find((i) => i.__edb_e__ === 'code' && i.tenant === 't1' && i.code === aliceCode);
    expect(after).toEqual(before);
  });

  it("a user cannot list another user's coupons, nor claim for another user", async () => {
    const bob = await user('bob');
    expectError(await api.call('GET', '/users/alice/coupons', { token: bob }), 403, 'FORBIDDEN');
    expectError(await api.call('POST', '/coupons/assign', { token: bob, body: { bookId, userId: 'alice' } }), 403, 'FORBIDDEN');
    expectError(await api.call('POST', `/coupons/lock/${aliceCode}`, { token: bob, body: { userId: 'alice' } }), 403, 'FORBIDDEN');
  });

  it('a user may not manage books or name codes', async () => {
    const alice = await user('alice');
    expectError(await api.call('GET', '/coupons', { token: alice }), 403, 'FORBIDDEN');
    expectError(await api.call('GET', `/coupons/${bookId}`, { token: alice }), 403, 'FORBIDDEN');
    expectError(await api.call('POST', `/coupons/assign/${freeCode}`, { token: alice, body: { userId: 'alice' } }), 403, 'FORBIDDEN');
  });

  it('a service acts for any user of its tenant, but not on books', async () => {
    const svc = await service();
    const list = await api.call('GET', '/users/alice/coupons', { token: svc });
    expect(list.json.items.map((i: any) => i.code)).toEqual([aliceCode]);
    const lock = await api.call('POST', `/coupons/lock/${aliceCode}`, { token: svc, body: { userId: 'alice' } });
    expect(lock.status).toBe(200);
    const unlock = await api.call('POST', `/coupons/unlock/${aliceCode}`, { token: svc, body: { lockId: lock.json.lockId } });
    expect(unlock.json.status).toBe('active');
    expectError(await api.call('POST', '/coupons', { token: svc, body: { name: 'x' } }), 403, 'FORBIDDEN');
  });
});
