import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { admin, answer, bookWithCodes, createBook, expectError, startTestApi, user, type JsonOf, type TestApi, type TestClient } from './support/harness.ts';
import { checkInvariants } from './support/invariants.ts';

// Concurrent edits of one book, over real HTTP against DynamoDB Local, checked
// against the table: the book and every shard's gate copy must agree, and two
// edits of different fields must both land (docs/edges.md, "Book edits").
let api: TestApi;
beforeAll(async () => {
  api = await startTestApi('book-edits');
});
afterAll(() => api.close());

const iso = (ms: number) => new Date(ms).toISOString();
/** Shards of every book here: a few gate copies to keep equal, chosen per book at creation. */
const SHARDS = 4;
const HOUR = 3600_000;

async function tableBook(bookId: string) {
  const items = await api.scan();
  const book = items.find((i) => i.__edb_e__ === 'book' && i.bookId === bookId)!;
  const shards = items.filter((i) => i.__edb_e__ === 'bookStatsShard' && i.bookId === bookId);
  return { book, shards, violations: checkInvariants(items).violations.filter((v) => v.includes(bookId)) };
}

const patch = async (bookId: string, json: JsonOf<TestClient['coupons'][':bookId']['$patch']>, ifMatch?: string) =>
  answer(api.client(await admin()).coupons[':bookId'].$patch({ param: { bookId }, header: ifMatch === undefined ? {} : { 'if-match': ifMatch }, json }));

describe('concurrent PATCH /coupons/{id}', () => {
  it('pause and a new validUntil at the same moment both apply, on the book and on every gate copy', async () => {
    for (let round = 0; round < 6; round++) {
      const book = await createBook(api, { shards: SHARDS, validFrom: iso(Date.now() - HOUR) });
      const until = iso(Date.now() + 5 * HOUR);
      const [a, b] = await Promise.all([patch(book.id, { status: 'paused' }), patch(book.id, { validUntil: until })]);
      expect([a.status, b.status]).toEqual([200, 200]);
      const { book: stored, shards, violations } = await tableBook(book.id);
      expect(violations).toEqual([]);
      expect(stored.status).toBe('paused');
      expect(stored.validUntil).toBe(until);
      expect(stored.version).toBe(2);
      expect(shards).toHaveLength(SHARDS);
      for (const s of shards) expect(s).toMatchObject({ bookStatus: 'paused', validUntilMs: Date.parse(until), gateVersion: 2 });
    }
  });

  it('an ended window and a resume at the same moment: redeem and claim obey the merged book', async () => {
    for (let round = 0; round < 4; round++) {
      const { book, codes } = await bookWithCodes(api, 2, { shards: SHARDS, validFrom: iso(Date.now() - 2 * HOUR), maxRedemptionsPerUser: 5 });
      const token = await user(`ender-${round}`);
      const held = await answer(api.client(await admin()).coupons.assign[':code'].$post({ param: { code: codes[0] }, json: { userId: `ender-${round}` } }));
      expect(held.status).toBe(201);
      await patch(book.id, { status: 'paused' });
      const ended = iso(Date.now() - HOUR);
      const [a, b] = await Promise.all([patch(book.id, { validUntil: ended }), patch(book.id, { status: 'active' })]);
      expect([a.status, b.status]).toEqual([200, 200]);
      const { book: stored, violations } = await tableBook(book.id);
      expect(violations).toEqual([]);
      expect(stored).toMatchObject({ status: 'active', validUntil: ended });
      expectError(await answer(api.client(token).coupons.redeem[':code'].$post({ param: { code: codes[0] }, json: {} })), 409, 'CODE_EXPIRED');
      expectError(await answer(api.client(await user(`late-${round}`)).coupons.assign.$post({ json: { bookId: book.id } })), 409, 'BOOK_NOT_ACTIVE');
    }
  });

  it('validFrom and validUntil that cross, sent at once: one applies, the other is 400, never a window that ends before it starts', async () => {
    for (let round = 0; round < 6; round++) {
      const book = await createBook(api, { shards: SHARDS, validFrom: iso(Date.now() - HOUR), validUntil: iso(Date.now() + 10 * HOUR) });
      const [a, b] = await Promise.all([
        patch(book.id, { validFrom: iso(Date.now() + 6 * HOUR) }),
        patch(book.id, { validUntil: iso(Date.now() + 3 * HOUR) }),
      ]);
      expect([a.status, b.status].sort()).toEqual([200, 400]);
      const loser = a.status === 400 ? a : b;
      expectError(loser, 400, 'VALIDATION_FAILED');
      const { book: stored, violations } = await tableBook(book.id);
      expect(violations).toEqual([]);
      expect(Date.parse(stored.validFrom)).toBeLessThan(Date.parse(stored.validUntil));
      expect(stored.version).toBe(1);
    }
  });

  it('ten edits of different fields at once all apply, each exactly once', async () => {
    const book = await createBook(api, { shards: SHARDS });
    const edits = [
      { name: 'renamed' },
      { description: 'described' },
      { validFrom: iso(Date.now() - HOUR) },
      { validUntil: iso(Date.now() + HOUR) },
      { status: 'paused' as const },
    ];
    const results = await Promise.all(edits.map((e) => patch(book.id, e)));
    expect(results.map((r) => r.status)).toEqual(edits.map(() => 200));
    const { book: stored, shards, violations } = await tableBook(book.id);
    expect(violations).toEqual([]);
    expect(stored).toMatchObject({ name: 'renamed', description: 'described', status: 'paused', version: 5 });
    expect(new Set(shards.map((s) => s.gateVersion)).size).toBe(1);
    expect(new Set(results.map((r) => r.json.version))).toEqual(new Set([1, 2, 3, 4, 5]));
  });
});

describe('ETag and If-Match', () => {
  it('GET and PATCH answer an ETag; a PATCH with a stale If-Match is 412 and changes nothing', async () => {
    const book = await createBook(api, { shards: SHARDS });
    const got = await answer(api.client(await admin()).coupons[':bookId'].$get({ param: { bookId: book.id } }));
    expect(got.headers.get('etag')).toBe('"0"');
    const first = await patch(book.id, { name: 'first' }, got.headers.get('etag')!);
    expect(first.status).toBe(200);
    expect(first.headers.get('etag')).toBe('"1"');
    expect(first.json.version).toBe(1);
    const before = await api.scanState();
    const stale = await patch(book.id, { name: 'second' }, got.headers.get('etag')!);
    expectError(stale, 412, 'PRECONDITION_FAILED');
    expect(await api.scanState()).toEqual(before);
    // A weak tag never matches under If-Match; `*` matches any existing book; a list matches any of its tags.
    expectError(await patch(book.id, { name: 'weak' }, 'W/"1"'), 412, 'PRECONDITION_FAILED');
    expect((await patch(book.id, { name: 'listed' }, '"7", "1"')).status).toBe(200);
    expect((await patch(book.id, { name: 'star' }, '*')).status).toBe(200);
    const now = await answer(api.client(await admin()).coupons[':bookId'].$get({ param: { bookId: book.id } }));
    expect(now.headers.get('etag')).toBe('"3"');
    expect(now.json.name).toBe('star');
  });

  it('two PATCHes with the same If-Match at once: exactly one applies, the other is 412', async () => {
    const book = await createBook(api, { shards: SHARDS });
    const [a, b] = await Promise.all([
      patch(book.id, { status: 'paused' }, '"0"'),
      patch(book.id, { validUntil: iso(Date.now() + HOUR) }, '"0"'),
    ]);
    expect([a.status, b.status].sort()).toEqual([200, 412]);
    const { book: stored, violations } = await tableBook(book.id);
    expect(violations).toEqual([]);
    expect(stored.version).toBe(1);
    const winner = a.status === 200 ? 'paused' : 'window';
    expect(stored.status === 'paused').toBe(winner === 'paused');
    expect(stored.validUntil === undefined).toBe(winner === 'paused');
  });

  it('compares tags character by character: "01" or "001" is not version 1, so the edit is 412 and changes nothing', async () => {
    const book = await createBook(api, { shards: SHARDS });
    expect((await patch(book.id, { name: 'v1' })).json.version).toBe(1);
    const before = await api.scanState();
    for (const tag of ['"01"', '"1.0"', '"+1"', '"001", "00"']) {
      expectError(await patch(book.id, { name: 'not this one' }, tag), 412, 'PRECONDITION_FAILED');
    }
    expect(await api.scanState()).toEqual(before);
    expect((await patch(book.id, { name: 'this one' }, '"1"')).status).toBe(200);
  });

  it('an If-Match that is not an entity tag is 400', async () => {
    const book = await createBook(api, { shards: SHARDS });
    expectError(await patch(book.id, { name: 'x' }, '3'), 400, 'VALIDATION_FAILED');
  });
});
