import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { admin, answer, bookStats, bookWithCodes, createBook, expectError, service, startTestApi, uniqueCode, user, type TestApi } from './support/harness.ts';

// One rule for each kind of identifier, whichever route it enters by
// (docs/edges.md, "Identifiers"): user ids in tokens, bodies and paths; codes
// ASCII before case folding; metadata keys that JavaScript treats specially.
let api: TestApi;
beforeAll(async () => {
  api = await startTestApi('identifiers');
});
afterAll(() => api.close());

const fieldsOf = (r: { json: any }) => (r.json?.error?.details ?? []).map((d: any) => d.field);

describe('user ids', () => {
  it('a token whose sub is not a user id is refused (401) on every route, so no caller can claim what it can never list', async () => {
    const { book } = await bookWithCodes(api, 2);
    const token = await user('bob smith');
    expectError(await answer(api.client(token).coupons.assign.$post({ json: { bookId: book.id } })), 401, 'UNAUTHENTICATED');
    expectError(await answer(api.client(token).users[':userId'].coupons.$get({ param: { userId: 'bob smith' }, query: {} })), 401, 'UNAUTHENTICATED');
    expectError(await answer(api.client(await admin('t1', 'admin one')).coupons[':bookId'].$get({ param: { bookId: book.id } })), 401, 'UNAUTHENTICATED');
    // The same id in a body or a path is 400: the one rule, named.
    expectError(await answer(api.client(await service()).coupons.assign.$post({ json: { bookId: book.id, userId: 'bob smith' } })), 400, 'VALIDATION_FAILED');
    expectError(await answer(api.client(await admin()).users[':userId'].coupons.$get({ param: { userId: 'bob smith' }, query: {} })), 400, 'VALIDATION_FAILED');
    const stats = await bookStats(api, book.id);
    expect(stats.assigned).toBe(0);
  });

  it('an id the rule allows (an identity provider sub like auth0|5f7c:x@y.z) claims and lists its codes', async () => {
    const { book } = await bookWithCodes(api, 2);
    const sub = 'auth0|5f7c:x@y.z';
    const token = await user(sub);
    const claimed = await answer(api.client(token).coupons.assign.$post({ json: { bookId: book.id } }));
    expect(claimed.status).toBe(201);
    const listed = await answer(api.client(token).users[':userId'].coupons.$get({ param: { userId: sub }, query: {} }));
    expect(listed.status).toBe(200);
    expect(listed.json.items.map((i: any) => i.code)).toEqual([claimed.json.code]);
  });
});

describe('codes are ASCII before case folding, on every route', () => {
  const longS = (code: string) => `\u017f${code.slice(1).toLowerCase()}`; // 'ſ' upper-cases to 'S'

  it('assign, lock, unlock and redeem refuse "ſ…" (400 naming the code) where "S…" exists, and change nothing', async () => {
    const code = `S${uniqueCode('AL')}`;
    const book = await createBook(api);
    expect((await answer(api.client(await admin()).coupons.codes.$post({ json: { bookId: book.id, codes: [code] } }))).json.inserted).toBe(1);
    const before = await api.scanState();
    const path = encodeURIComponent(longS(code));
    for (const [route, body] of [
      ['assign', { userId: 'u-longs' }],
      ['lock', { userId: 'u-longs' }],
      ['unlock', { userId: 'u-longs' }],
      ['redeem', { userId: 'u-longs' }],
    ] as const) {
      const r = await api.call('POST', `/coupons/${route}/${path}`, { token: await service(), body });
      expectError(r, 400, 'VALIDATION_FAILED');
      expect(fieldsOf(r)).toEqual(['code']);
    }
    expect(await api.scanState()).toEqual(before);
    // Lower-case ASCII is still folded: the code is what was typed.
    expect((await answer(api.client(await service()).coupons.assign[':code'].$post({ param: { code: code.toLowerCase() }, json: { userId: 'u-longs' } }))).status).toBe(201);
  });

  it('an upload reports "ſ…" as invalid, and a pattern with "ſ" is refused for a book and for generation', async () => {
    const book = await createBook(api);
    const code = `S${uniqueCode('UP')}`;
    const r = await answer(api.client(await admin()).coupons.codes.$post({ json: { bookId: book.id, codes: [longS(code), ` ${code}\u00a0`] } }));
    expect(r.json.inserted).toBe(0);
    expect(r.json.invalid.map((i: any) => i.code)).toEqual([longS(code), ` ${code}\u00a0`]);
    const created = await answer(api.client(await admin()).coupons.$post({ json: { name: 'long s', codePattern: '\u017fALE-####' } }));
    expectError(created, 400, 'VALIDATION_FAILED');
    expect(fieldsOf(created)).toEqual(['codePattern']);
    const generated = await answer(api.client(await admin()).coupons.codes.generate.$post({ json: { bookId: book.id, count: 3, pattern: '\u017fALE-####' } }));
    expectError(generated, 400, 'VALIDATION_FAILED');
    expect((await bookStats(api, book.id)).codes).toBe(0);
  });
});

describe('metadata keys: one answer for __proto__, constructor and prototype, at any depth', () => {
  const cases = [
    ['top-level __proto__', '{"__proto__":{"polluted":true}}'],
    ['nested __proto__', '{"a":{"__proto__":{"polluted":true}}}'],
    ['top-level constructor', '{"constructor":{"prototype":{}}}'],
    ['nested prototype', '{"a":[{"prototype":1}]}'],
  ] as const;

  for (const [name, metadata] of cases) {
    it(`${name}: 400 VALIDATION_FAILED naming metadata (book) and context (redeem), nothing written`, async () => {
      const before = await api.scanState();
      const book = await api.call('POST', '/coupons', { token: await admin(), raw: `{"name":"meta","metadata":${metadata}}` });
      expectError(book, 400, 'VALIDATION_FAILED');
      expect(fieldsOf(book)).toEqual(['metadata']);
      const redeem = await api.call('POST', `/coupons/redeem/${uniqueCode('NOPE')}`, { token: await service(), raw: `{"userId":"u-1","context":${metadata}}` });
      expectError(redeem, 400, 'VALIDATION_FAILED');
      expect(fieldsOf(redeem)).toEqual(['context']);
      expect(await api.scanState()).toEqual(before);
    });
  }

  it('a body with a top-level __proto__ is refused as an unknown field', async () => {
    const r = await api.call('POST', '/coupons', { token: await admin(), raw: '{"name":"x","__proto__":{"metadata":{"a":1}}}' });
    expectError(r, 400, 'VALIDATION_FAILED');
  });
});
