import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { admin, answer, bookWithCodes, expectError, service, startTestApi, user, type TestApi } from './support/harness.ts';

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
  const claim = await answer(api.client(await user('alice')).coupons.assign.$post({ json: { bookId } }));
  aliceCode = claim.json.code;
  freeCode = codes.find((c) => c !== aliceCode)!;
});
afterAll(() => api.close());

describe('tenant isolation', () => {
  it('another tenant sees none of the books, codes or users', async () => {
    const other = await admin('t2');
    expect((await answer(api.client(other).coupons.$get({ query: {} }))).json.items).toEqual([]);
    expectError(await answer(api.client(other).coupons[':bookId'].$get({ param: { bookId } })), 404, 'BOOK_NOT_FOUND');
    expectError(await answer(api.client(other).coupons[':bookId'].$patch({ param: { bookId }, header: {}, json: { status: 'paused' } })), 404, 'BOOK_NOT_FOUND');
    expectError(await answer(api.client(other).coupons.codes.$post({ json: { bookId, codes: ['ZZZ-1'] } })), 404, 'BOOK_NOT_FOUND');
    expectError(await answer(api.client(await user('alice', 't2')).coupons.assign.$post({ json: { bookId } })), 404, 'BOOK_NOT_FOUND');
    expectError(await answer(api.client(await service('t2')).coupons.assign[':code'].$post({ param: { code: freeCode }, json: { userId: 'x' } })), 404, 'CODE_NOT_FOUND');
    expectError(await answer(api.client(await user('alice', 't2')).coupons.lock[':code'].$post({ param: { code: aliceCode }, json: {} })), 404, 'CODE_NOT_FOUND');
    expectError(await answer(api.client(await service('t2')).coupons.redeem[':code'].$post({ param: { code: aliceCode }, json: {} })), 404, 'CODE_NOT_FOUND');
    expect((await answer(api.client(await admin('t2')).users[':userId'].coupons.$get({ param: { userId: 'alice' }, query: {} }))).json.items).toEqual([]);
  });

  it('the same code may exist in two tenants without touching each other', async () => {
    const t2book = await answer(api.client(await admin('t2')).coupons.$post({ json: { name: 'other tenant' } }));
    const up = await answer(api.client(await admin('t2')).coupons.codes.$post({ json: { bookId: t2book.json.id, codes: [aliceCode] } }));
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
    const unknown = await answer(api.client(bob).coupons.lock[':code'].$post({ param: { code: 'NO-SUCH-CODE' }, json: {} }));
    const coupons = api.client(bob).coupons;
    for (const action of ['lock', 'unlock', 'redeem'] as const) {
      const r = await answer(coupons[action][':code'].$post({ param: { code: aliceCode }, json: {} }));
      expectError(r, 404, 'CODE_NOT_FOUND');
      // Indistinguishable from a code that does not exist, message aside from the code itself.
      expect(r.json.error.message.replace(aliceCode, 'X')).toBe(unknown.json.error.message.replace('NO-SUCH-CODE', 'X'));
    }
    const after = (await api.scan()).find((i) => i.__edb_e__ === 'code' && i.tenant === 't1' && i.code === aliceCode);
    expect(after).toEqual(before);
  });

  it("a user cannot list another user's coupons, nor claim for another user", async () => {
    const bob = await user('bob');
    expectError(await answer(api.client(bob).users[':userId'].coupons.$get({ param: { userId: 'alice' }, query: {} })), 403, 'FORBIDDEN');
    expectError(await answer(api.client(bob).coupons.assign.$post({ json: { bookId, userId: 'alice' } })), 403, 'FORBIDDEN');
    expectError(await answer(api.client(bob).coupons.lock[':code'].$post({ param: { code: aliceCode }, json: { userId: 'alice' } })), 403, 'FORBIDDEN');
  });

  it('a user may not manage books or name codes', async () => {
    const alice = await user('alice');
    expectError(await answer(api.client(alice).coupons.$get({ query: {} })), 403, 'FORBIDDEN');
    expectError(await answer(api.client(alice).coupons[':bookId'].$get({ param: { bookId } })), 403, 'FORBIDDEN');
    expectError(await answer(api.client(alice).coupons.assign[':code'].$post({ param: { code: freeCode }, json: { userId: 'alice' } })), 403, 'FORBIDDEN');
  });

  it('a service acts for any user of its tenant, but not on books', async () => {
    const svc = await service();
    const list = await answer(api.client(svc).users[':userId'].coupons.$get({ param: { userId: 'alice' }, query: {} }));
    expect(list.json.items.map((i: any) => i.code)).toEqual([aliceCode]);
    const lock = await answer(api.client(svc).coupons.lock[':code'].$post({ param: { code: aliceCode }, json: { userId: 'alice' } }));
    expect(lock.status).toBe(200);
    const unlock = await answer(api.client(svc).coupons.unlock[':code'].$post({ param: { code: aliceCode }, json: { lockId: lock.json.lockId } }));
    expect(unlock.json.status).toBe('active');
    expectError(await answer(api.client(svc).coupons.$post({ json: { name: 'x' } })), 403, 'FORBIDDEN');
  });
});
