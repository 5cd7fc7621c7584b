import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { admin, answer, bookStats, createBook, expectError, service, startTestApi, uniqueCode, user, type JsonOf, type TestApi, type TestClient } from './support/harness.ts';
import { expectInvariants } from './support/invariants.ts';

// Uploads and generation over real HTTP against DynamoDB Local. What the
// table holds afterwards (api.scan()) is the ground truth: no code is ever
// overwritten or moved, and the stats say what the items say.
let api: TestApi;
beforeAll(async () => {
  api = await startTestApi('codes');
});
afterAll(() => api.close());


const codeItems = async (tenant = 't1') => (await api.scan()).filter((i) => i.__edb_e__ === 'code' && i.tenant === tenant);
const codeItem = async (code: string, tenant = 't1') => (await codeItems(tenant)).find((i) => i.code === code);
const stats = (bookId: string, tenant = 't1') => bookStats(api, bookId, tenant);
const upload = async (bookId: string, codes: string[], tenant = 't1') =>
  answer(api.client(await admin(tenant)).coupons.codes.$post({ json: { bookId, codes } }));
const generate = async (json: JsonOf<TestClient['coupons']['codes']['generate']['$post']>, tenant = 't1') =>
  answer(api.client(await admin(tenant)).coupons.codes.generate.$post({ json }));

const DIGIT = '[23456789]';
const LETTER = '[ABCDEFGHJKMNPQRSTUVWXYZ]';
const EITHER = '[ABCDEFGHJKMNPQRSTUVWXYZ23456789]';
/** The regular expression a generation pattern's codes must match. */
function patternRegex(pattern: string): RegExp {
  const body = [...pattern.toUpperCase()]
    .map((ch) => (ch === '#' ? DIGIT : ch === '?' ? LETTER : ch === '*' ? EITHER : ch.replace(/[-_]/g, (c) => `\\${c}`)))
    .join('');
  return new RegExp(`^${body}$`);
}

describe('POST /coupons/codes (upload)', () => {
  it('reports inserted, duplicates and invalid exactly; a repeat inside one request is reported once', async () => {
    const book = await createBook(api, { name: 'Upload' });
    const a = uniqueCode('UP');
    const b = uniqueCode('UP');
    const c = uniqueCode('UP');
    const r = await upload(book.id, [a, b, a, c, a, 'x!', b]);
    expect(r.status).toBe(200);
    expect(r.json.inserted).toBe(3);
    expect([...r.json.duplicates].sort()).toEqual([a, b].sort());
    expect(r.json.invalid).toEqual([{ code: 'x!', reason: expect.any(String) }]);

    // The same list again: all already there, nothing inserted.
    const again = await upload(book.id, [a, b, c]);
    expect(again.status).toBe(200);
    expect(again.json).toEqual({ inserted: 0, duplicates: expect.arrayContaining([a, b, c]), invalid: [] });
    expect(again.json.duplicates).toHaveLength(3);

    const items = (await codeItems()).filter((i) => i.bookId === book.id);
    expect(items.map((i) => i.code).sort()).toEqual([a, b, c].sort());
    for (const i of items) expect(i).toMatchObject({ status: 'available', redemptionCount: 0, createdAt: expect.any(String) });
    for (const i of items) expect(i).not.toHaveProperty('expiresAt');
    expect(await stats(book.id)).toEqual({ codes: 3, available: 3, assigned: 0, redeemed: 0 });
    await expectInvariants(api);
  });

  it('a code already in another book of the tenant is a duplicate and stays where it is', async () => {
    const first = await createBook(api, { name: 'First home' });
    const second = await createBook(api, { name: 'Second home' });
    const shared = uniqueCode('MV');
    const own = uniqueCode('MV');
    expect((await upload(first.id, [shared])).json.inserted).toBe(1);
    const before = await codeItem(shared);
    expect(before?.bookId).toBe(first.id);

    const r = await upload(second.id, [shared, own]);
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ inserted: 1, duplicates: [shared], invalid: [] });
    const after = await codeItem(shared);
    expect(after).toEqual(before); // not moved, not touched at all
    expect((await codeItem(own))?.bookId).toBe(second.id);
    expect(await stats(first.id)).toEqual({ codes: 1, available: 1, assigned: 0, redeemed: 0 });
    expect(await stats(second.id)).toEqual({ codes: 1, available: 1, assigned: 0, redeemed: 0 });

    // An assigned code is not reset by an upload either.
    const claim = await answer(api.client(await service()).coupons.assign.$post({ json: { bookId: first.id, userId: 'keeper' } }));
    expect(claim.json.code).toBe(shared);
    const held = await codeItem(shared);
    const again = await upload(first.id, [shared]);
    expect(again.json).toEqual({ inserted: 0, duplicates: [shared], invalid: [] });
    expect(await codeItem(shared)).toEqual(held);
    expect(held).toMatchObject({ status: 'assigned', userId: 'keeper' });
    await expectInvariants(api);
  });

  it('codes are unique per tenant: another tenant may hold the same code', async () => {
    const mine = await createBook(api, { name: 'Mine' });
    const theirs = await createBook(api, { name: 'Theirs' }, 't2');
    const code = uniqueCode('TN');
    expect((await upload(mine.id, [code])).json.inserted).toBe(1);
    const r = await upload(theirs.id, [code], 't2');
    expect(r.json).toEqual({ inserted: 1, duplicates: [], invalid: [] });
    expect((await codeItem(code, 't1'))?.bookId).toBe(mine.id);
    expect((await codeItem(code, 't2'))?.bookId).toBe(theirs.id);
    // A tenant cannot upload into another tenant's book.
    expectError(await upload(mine.id, [uniqueCode('TN')], 't2'), 404, 'BOOK_NOT_FOUND');
    await expectInvariants(api);
  });

  it('trims and upper-cases input; a lower-case repeat of a code is the same code', async () => {
    const book = await createBook(api, { name: 'Normalize' });
    const base = uniqueCode('NM');
    const lower = base.toLowerCase();
    const r = await upload(book.id, [`  ${lower}  `, base, `\t${lower}\n`]);
    expect(r.json).toEqual({ inserted: 1, duplicates: [base], invalid: [] });
    const item = await codeItem(base);
    expect(item?.bookId).toBe(book.id);
    expect((await codeItems()).some((i) => i.code === lower || i.code.includes(' '))).toBe(false);
    // Found by its upper-case name from then on, whatever case the path uses.
    const claim = await answer(api.client(await service()).coupons.assign[':code'].$post({ param: { code: lower }, json: { userId: 'case-u' } }));
    expect(claim.status).toBe(201);
    expect(claim.json.code).toBe(base);
    await expectInvariants(api);
  });

  it('reports each invalid code with its reason and inserts the rest', async () => {
    const book = await createBook(api, { name: 'Invalid' });
    const good = uniqueCode('IV');
    const tooLong = 'A'.repeat(65);
    const r = await upload(book.id, ['AB', '', '   ', 'HAS SPACE', 'BAD!', 'ÉTÉ-2026', 'DOT.TED', tooLong, 'ABC', 'A'.repeat(64), good]);
    expect(r.status).toBe(200);
    expect(r.json.inserted).toBe(3); // ABC, 64 A's, good
    const reasons = Object.fromEntries(r.json.invalid.map((i: any) => [i.code, i.reason]));
    expect(Object.keys(reasons).sort()).toEqual(['', '   ', 'AB', 'BAD!', 'DOT.TED', 'HAS SPACE', 'ÉTÉ-2026', tooLong].sort());
    for (const short of ['AB', '', '   ']) expect(reasons[short]).toMatch(/3/);
    expect(reasons[tooLong]).toMatch(/64/);
    for (const bad of ['HAS SPACE', 'BAD!', 'ÉTÉ-2026', 'DOT.TED']) expect(reasons[bad]).toMatch(/A-Z/);
    expect(r.json.duplicates).toEqual([]);
    const inBook = (await codeItems()).filter((i) => i.bookId === book.id).map((i) => i.code);
    expect(inBook.sort()).toEqual(['A'.repeat(64), 'ABC', good].sort());
    await expectInvariants(api);
  });

  it('more than 5,000 codes in one request is 400 and inserts nothing', async () => {
    const book = await createBook(api, { name: 'Too many' });
    const codes = Array.from({ length: 5001 }, (_, i) => `BULK-${i}`);
    const r = await upload(book.id, codes);
    expectError(r, 400, 'VALIDATION_FAILED');
    expect(await stats(book.id)).toEqual({ codes: 0, available: 0, assigned: 0, redeemed: 0 });
    expect((await codeItems()).some((i) => i.bookId === book.id)).toBe(false);
    expectError(await upload(book.id, []), 400, 'VALIDATION_FAILED');
    // Raw: a code that is not a string.
    expectError(await api.call('POST', '/coupons/codes', { token: await admin(), body: { bookId: book.id, codes: [42] } }), 400, 'VALIDATION_FAILED');
  });

  it('an unknown book is 404 BOOK_NOT_FOUND and writes nothing', async () => {
    const code = uniqueCode('NB');
    expectError(await upload('no-such-book', [code]), 404, 'BOOK_NOT_FOUND');
    expect(await codeItem(code)).toBeUndefined();
  });

  it('only an admin may upload', async () => {
    const book = await createBook(api, { name: 'Admin uploads' });
    const code = uniqueCode('RO');
    for (const token of [await service(), await user('u-up')]) {
      expectError(await answer(api.client(token).coupons.codes.$post({ json: { bookId: book.id, codes: [code] } })), 403, 'FORBIDDEN');
    }
    expect(await codeItem(code)).toBeUndefined();
  });

  it('two overlapping uploads at once: each shared code inserted exactly once, none overwritten', async () => {
    const bookA = await createBook(api, { name: 'Race A' });
    const bookB = await createBook(api, { name: 'Race B' });
    const shared = Array.from({ length: 150 }, () => uniqueCode('SH'));
    const onlyA = Array.from({ length: 150 }, () => uniqueCode('OA'));
    const onlyB = Array.from({ length: 150 }, () => uniqueCode('OB'));
    // Interleave so the shared codes land in different transactions of each request.
    const listA = shared.flatMap((s, i) => [s, onlyA[i]!]);
    const listB = [...onlyB, ...shared].reverse();
    const [ra, rb] = await Promise.all([upload(bookA.id, listA), upload(bookB.id, listB)]);
    expect(ra.status).toBe(200);
    expect(rb.status).toBe(200);
    expect(ra.json.inserted + rb.json.inserted).toBe(450);
    expect(ra.json.invalid).toEqual([]);
    expect(rb.json.invalid).toEqual([]);
    // Every shared code is a duplicate for exactly one of the two requests.
    const dupA = new Set<string>(ra.json.duplicates);
    const dupB = new Set<string>(rb.json.duplicates);
    expect(dupA.size + dupB.size).toBe(150);
    for (const s of shared) expect(dupA.has(s) !== dupB.has(s)).toBe(true);
    for (const d of [...dupA, ...dupB]) expect(shared).toContain(d);
    expect(ra.json.inserted).toBe(300 - dupA.size);
    expect(rb.json.inserted).toBe(300 - dupB.size);

    // The table: each code in the book whose request inserted it, and each
    // book's codes all carry that request's createdAt (nothing rewritten).
    const items = (await codeItems()).filter((i) => i.bookId === bookA.id || i.bookId === bookB.id);
    expect(items).toHaveLength(450);
    const byCode = new Map(items.map((i) => [i.code, i]));
    for (const c of onlyA) expect(byCode.get(c)?.bookId).toBe(bookA.id);
    for (const c of onlyB) expect(byCode.get(c)?.bookId).toBe(bookB.id);
    for (const s of shared) expect(byCode.get(s)?.bookId).toBe(dupA.has(s) ? bookB.id : bookA.id);
    const createdAtA = new Set(items.filter((i) => i.bookId === bookA.id).map((i) => i.createdAt));
    const createdAtB = new Set(items.filter((i) => i.bookId === bookB.id).map((i) => i.createdAt));
    expect(createdAtA.size).toBe(1);
    expect(createdAtB.size).toBe(1);

    expect(await stats(bookA.id)).toEqual({ codes: ra.json.inserted, available: ra.json.inserted, assigned: 0, redeemed: 0 });
    expect(await stats(bookB.id)).toEqual({ codes: rb.json.inserted, available: rb.json.inserted, assigned: 0, redeemed: 0 });

    // A third upload of everything changes nothing at all.
    const snapshot = items.map((i) => JSON.stringify(i)).sort();
    const rc = await upload(bookA.id, [...shared, ...onlyA, ...onlyB]);
    expect(rc.json.inserted).toBe(0);
    expect(rc.json.duplicates).toHaveLength(450);
    const after = (await codeItems()).filter((i) => i.bookId === bookA.id || i.bookId === bookB.id);
    expect(after.map((i) => JSON.stringify(i)).sort()).toEqual(snapshot);
    await expectInvariants(api);
  });
});

describe('POST /coupons/codes/generate', () => {
  it('makes `count` new codes that match the pattern, with literals kept (201)', async () => {
    const book = await createBook(api, { name: 'Generated' });
    const pattern = 'GEN_#?*-##??**';
    const r = await generate({ bookId: book.id, count: 60, pattern });
    expect(r.status).toBe(201);
    expect(r.json.generated).toBe(60);
    expect(r.json.codes).toHaveLength(60);
    expect(new Set(r.json.codes).size).toBe(60);
    const re = patternRegex(pattern);
    for (const code of r.json.codes) {
      expect(code).toMatch(re);
      expect(code.slice(4)).not.toMatch(/[01OIL]/);
    }
    const inBook = (await codeItems()).filter((i) => i.bookId === book.id);
    expect(inBook.map((i) => i.code).sort()).toEqual([...r.json.codes].sort());
    for (const i of inBook) expect(i.status).toBe('available');
    expect(await stats(book.id)).toEqual({ codes: 60, available: 60, assigned: 0, redeemed: 0 });
    await expectInvariants(api);
  });

  it("uses the book's codePattern by default; a request's pattern wins; lower-case patterns are upper-cased", async () => {
    const book = await createBook(api, { name: 'Book pattern', codePattern: 'bk-***-###' });
    expect(book.codePattern).toBe('BK-***-###');
    const byDefault = await generate({ bookId: book.id, count: 20 });
    expect(byDefault.status).toBe(201);
    expect(byDefault.json.generated).toBe(20);
    for (const code of byDefault.json.codes) expect(code).toMatch(patternRegex('BK-***-###'));

    const own = await generate({ bookId: book.id, count: 10, pattern: 'own-????' });
    expect(own.status).toBe(201);
    for (const code of own.json.codes) expect(code).toMatch(patternRegex('OWN-????'));
    expect(await stats(book.id)).toEqual({ codes: 30, available: 30, assigned: 0, redeemed: 0 });
    await expectInvariants(api);
  });

  it('without a pattern in the request or the book it is 400 VALIDATION_FAILED naming the pattern', async () => {
    const book = await createBook(api, { name: 'No pattern' });
    const r = await generate({ bookId: book.id, count: 5 });
    expectError(r, 400, 'VALIDATION_FAILED');
    expect(r.json.error.details).toEqual([expect.objectContaining({ field: 'pattern' })]);
    expect(await stats(book.id)).toEqual({ codes: 0, available: 0, assigned: 0, redeemed: 0 });
  });

  it('refuses an invalid pattern or count with 400', async () => {
    const book = await createBook(api, { name: 'Bad patterns' });
    for (const pattern of ['NOPLACEHOLDER', 'AB!##', 'A#', `${'#'.repeat(65)}`, '  ##  ']) {
      expectError(await generate({ bookId: book.id, count: 1, pattern }), 400, 'VALIDATION_FAILED');
    }
    for (const count of [0, -1, 1.5]) {
      expectError(await generate({ bookId: book.id, count, pattern: 'OK-******' }), 400, 'VALIDATION_FAILED');
    }
    expect(await stats(book.id)).toEqual({ codes: 0, available: 0, assigned: 0, redeemed: 0 });
  });

  it('refuses a count too large for the pattern’s space with 400 that says the space size', async () => {
    const book = await createBook(api, { name: 'Crowded' });
    // 'AB-##' has 8 × 8 = 64 codes; 5% of that is 3.
    const r = await generate({ bookId: book.id, count: 100, pattern: 'AB-##' });
    expectError(r, 400, 'VALIDATION_FAILED');
    expect(r.json.error.message).toMatch(/\b64\b/);
    expect(await stats(book.id)).toEqual({ codes: 0, available: 0, assigned: 0, redeemed: 0 });

    // Up to the limit is fine; the codes already in the book count towards it.
    const ok = await generate({ bookId: book.id, count: 3, pattern: 'CD-##' });
    expect(ok.status).toBe(201);
    expect(ok.json.generated).toBe(3);
    const more = await generate({ bookId: book.id, count: 1, pattern: 'CD-##' });
    expectError(more, 400, 'VALIDATION_FAILED');
    expect(more.json.error.message).toMatch(/\b64\b/);
    expect(await stats(book.id)).toEqual({ codes: 3, available: 3, assigned: 0, redeemed: 0 });
    await expectInvariants(api);
  });

  it('never overwrites a code that already exists: the book gets exactly `count` new ones', async () => {
    const other = await createBook(api, { name: 'Occupier' });
    const book = await createBook(api, { name: 'Generator' });
    // Occupy about half of a small space ('#?#' = 8·23·8 = 1472 codes) in another
    // book: each generated code then collides about half the time. The capacity
    // check counts only this book's codes, so 10 more are allowed.
    const space = [...'23456789'].flatMap((d) => [...'ABCDEFGHJKMNPQRSTUVWXYZ'].flatMap((l) => [...'23456789'].map((e) => `${d}${l}${e}`)));
    expect(space).toHaveLength(1472);
    const occupied = space.filter((_, i) => i % 2 === 0);
    const up = await upload(other.id, occupied);
    expect(up.status).toBe(200);
    const before = new Map((await codeItems()).filter((i) => i.bookId === other.id).map((i) => [i.code, JSON.stringify(i)]));
    expect(before.size).toBe(up.json.inserted);

    const r = await generate({ bookId: book.id, count: 10, pattern: '#?#' });
    expect(r.status).toBe(201);
    expect(r.json.generated).toBe(10);
    for (const c of r.json.codes) expect(before.has(c)).toBe(false);
    const after = (await codeItems()).filter((i) => i.bookId === other.id);
    expect(new Map(after.map((i) => [i.code, JSON.stringify(i)]))).toEqual(before);
    expect((await codeItems()).filter((i) => i.bookId === book.id)).toHaveLength(10);
    await expectInvariants(api);
  });

  it('an unknown book is 404; only an admin may generate', async () => {
    expectError(await generate({ bookId: 'no-such-book', count: 1, pattern: 'X-****' }), 404, 'BOOK_NOT_FOUND');
    const book = await createBook(api, { name: 'Admin generates' });
    for (const token of [await service(), await user('u-gen')]) {
      const r = await answer(api.client(token).coupons.codes.generate.$post({ json: { bookId: book.id, count: 1, pattern: 'X-****' } }));
      expectError(r, 403, 'FORBIDDEN');
    }
    expect(await stats(book.id)).toEqual({ codes: 0, available: 0, assigned: 0, redeemed: 0 });
  });
});
