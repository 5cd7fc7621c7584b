import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unwrap, type InferRequestType } from '@coupons/client';
import { admin, answer, bookWithCodes, createBook, expectError, service, startTestApi, user, type TestApi, type TestClient } from './support/harness.ts';

// GET /coupons/{bookId}/codes over real HTTP and DynamoDB Local, with few shards so that pages
// cross shard boundaries. What a listing says is checked against the table's own items.
let api: TestApi;
const SHARDS = 3;
beforeAll(async () => {
  api = await startTestApi('book-codes');
});
afterAll(() => api.close());

type ListQuery = InferRequestType<TestClient['coupons'][':bookId']['codes']['$get']>['query'];
const list = async (bookId: string, query: ListQuery = {}, token?: string) =>
  answer(api.client(token ?? (await admin())).coupons[':bookId'].codes.$get({ param: { bookId }, query }));
/** Raw, for query strings the typed client refuses to build (a status that does not exist). */
const listRaw = async (bookId: string, query: string) => api.call('GET', `/coupons/${bookId}/codes${query}`, { token: await admin() });

/** Every page of a listing, in order. */
async function allPages(bookId: string, params: ListQuery = {}) {
  const pages: { items: any[]; nextCursor: string | null }[] = [];
  let cursor: string | null = null;
  do {
    const r = await list(bookId, { ...params, ...(cursor ? { cursor } : {}) });
    expect(r.status, r.text).toBe(200);
    pages.push(r.json);
    cursor = r.json.nextCursor;
  } while (cursor && pages.length < 1000);
  return pages;
}

const codeItems = async (bookId: string) => (await api.scan()).filter((i) => i.__edb_e__ === 'code' && i.bookId === bookId);

/** A book of `n` codes: two assigned (one of them locked), one redeemed to its cap, one redeemed once of two. */
async function bookInUse(n: number) {
  const { book, codes } = await bookWithCodes(api, n, { shards: SHARDS, maxRedemptionsPerUser: 2 });
  const [a, b, c, d] = codes;
  const asAdmin = api.client(await admin());
  for (const [code, userId] of [[a, 'ann'], [b, 'bob'], [c, 'cy'], [d, 'di']] as const) {
    await unwrap(asAdmin.coupons.assign[':code'].$post({ param: { code: code! }, json: { userId } }));
  }
  await unwrap(asAdmin.coupons.lock[':code'].$post({ param: { code: b! }, json: { userId: 'bob' } }));
  for (let i = 0; i < 2; i++) await unwrap(asAdmin.coupons.redeem[':code'].$post({ param: { code: c! }, json: { userId: 'cy' } }));
  await unwrap(asAdmin.coupons.redeem[':code'].$post({ param: { code: d! }, json: { userId: 'di' } }));
  return { book, codes, assigned: [a!, b!, d!], redeemed: [c!], locked: b!, available: codes.slice(4) };
}

describe('GET /coupons/{bookId}/codes', () => {
  it('pages through every code exactly once, shard by shard, with state, holder and redemptions', async () => {
    const { book, codes, locked } = await bookInUse(11);
    const pages = await allPages(book.id, { limit: '2' });
    const rows = pages.flatMap((p) => p.items);
    expect(rows.map((r) => r.code).sort()).toEqual([...codes].sort());
    expect(pages.at(-1)!.nextCursor).toBeNull();
    expect(pages.slice(0, -1).every((p) => p.items.length === 2 && p.nextCursor)).toBe(true);

    // Shard by shard, each shard's codes in code order: the index's order, not the table's.
    const items = await codeItems(book.id);
    const shardOf = new Map(items.map((i) => [i.code, i.shard as number]));
    const expectedOrder = [...items].sort((x, y) => x.shard - y.shard || (x.code < y.code ? -1 : 1)).map((i) => i.code);
    expect(rows.map((r) => r.code)).toEqual(expectedOrder);
    expect(new Set(shardOf.values()).size).toBe(SHARDS);

    // Each row says what the item says.
    for (const row of rows) {
      const item = items.find((i) => i.code === row.code)!;
      if (item.status === 'available') {
        expect(row).toEqual({ code: row.code, status: 'available', userId: null, assignedAt: null, redemptionCount: 0, maxRedemptions: 2 });
        continue;
      }
      expect(row).toMatchObject({ userId: item.userId, assignedAt: item.assignedAt, redemptionCount: item.redemptionCount, maxRedemptions: 2 });
      expect(row.status).toBe(item.redemptionCount >= 2 ? 'redeemed' : 'assigned');
      if (row.code === locked) expect(Date.parse(row.lockExpiresAt)).toBe(item.lockExpiresAt);
      else expect(row.lockExpiresAt).toBeUndefined();
    }
  });

  it('a last page that ends exactly at the limit answers nextCursor null, whatever the page size', async () => {
    const { book, codes } = await bookWithCodes(api, 9, { shards: SHARDS });
    for (const limit of [1, 3, 9]) {
      const pages = await allPages(book.id, { limit: String(limit) });
      expect(pages.map((p) => p.items.length)).toEqual(Array(9 / limit).fill(limit));
      expect(pages.at(-1)!.nextCursor).toBeNull();
      expect(pages.flatMap((p) => p.items.map((i) => i.code)).sort()).toEqual([...codes].sort());
    }
    const whole = await list(book.id, { limit: '10' });
    expect(whole.json.items).toHaveLength(9);
    expect(whole.json.nextCursor).toBeNull();
  });

  it('filters by status: available from the pool, assigned and redeemed from the book index', async () => {
    const { book, assigned, redeemed, available } = await bookInUse(9);
    const codesOf = async (status: 'available' | 'assigned' | 'redeemed', limit: string) => {
      const pages = await allPages(book.id, { status, limit });
      expect(pages.at(-1)!.nextCursor).toBeNull();
      return pages.flatMap((p) => p.items.map((i) => { expect(i.status).toBe(status); return i.code; })).sort();
    };
    for (const limit of ['1', '2', '100']) {
      expect(await codesOf('available', limit)).toEqual([...available].sort());
      expect(await codesOf('assigned', limit)).toEqual([...assigned].sort());
      expect(await codesOf('redeemed', limit)).toEqual([...redeemed].sort());
    }
  });

  it('an empty book answers no items and no cursor', async () => {
    const book = await createBook(api, { shards: SHARDS });
    for (const q of [{}, { status: 'available' }, { status: 'assigned' }] as const) {
      const r = await list(book.id, q);
      expect(r.status).toBe(200);
      expect(r.json).toEqual({ items: [], nextCursor: null });
    }
  });

  // 1,100 codes and a dozen 1,000-row pages: minutes on a loaded machine's DynamoDB Local.
  it('a filtered page reads at most 1,000 keys: it may come back short, even empty, with a cursor, until the end', { timeout: 240_000 }, async () => {
    const { book, codes } = await bookWithCodes(api, 1100, { shards: SHARDS });
    const pages = await allPages(book.id, { status: 'redeemed', limit: '1000' });
    expect(pages.length).toBeGreaterThanOrEqual(2);
    expect(pages.flatMap((p) => p.items)).toEqual([]);
    expect(pages.at(-1)!.nextCursor).toBeNull();
    const all = await allPages(book.id, { limit: '1000' });
    expect(all.map((p) => p.items.length)).toEqual([1000, 100]);
    expect(all.flatMap((p) => p.items.map((i) => i.code)).sort()).toEqual([...codes].sort());
  });

  it('admin only: a service or user token is 403', async () => {
    const { book } = await bookWithCodes(api, 1, { shards: SHARDS });
    expectError(await list(book.id, {}, await service()), 403, 'FORBIDDEN');
    expectError(await list(book.id, {}, await user('u1')), 403, 'FORBIDDEN');
  });

  it("an unknown book or another tenant's book is 404 BOOK_NOT_FOUND", async () => {
    const { book } = await bookWithCodes(api, 1, { shards: SHARDS }, 't2');
    expectError(await list(book.id), 404, 'BOOK_NOT_FOUND');
    expectError(await list('no-such-book'), 404, 'BOOK_NOT_FOUND');
    expect((await list(book.id, {}, await admin('t2'))).json.items).toHaveLength(1);
  });

  it('a bad status, limit or cursor is 400 VALIDATION_FAILED naming the field, and writes nothing', async () => {
    const { book } = await bookWithCodes(api, 4, { shards: SHARDS });
    const first = await list(book.id, { limit: '1' });
    const before = await api.scanState();
    const field = async (query: string, name: string) => {
      const r = await listRaw(book.id, query);
      expectError(r, 400, 'VALIDATION_FAILED');
      expect(r.json.error.details.map((d: any) => d.field)).toContain(name);
    };
    await field('?status=locked', 'status');
    await field('?status=', 'status');
    await field('?limit=0', 'limit');
    await field('?limit=1001', 'limit');
    await field('?limit=ten', 'limit');
    await field('?limit=1.5', 'limit');
    await field('?cursor=garbage', 'cursor');
    await field(`?cursor=${b64({ v: 1, f: '', s: SHARDS })}`, 'cursor');
    await field(`?cursor=${b64({ v: 1, f: '', s: -1 })}`, 'cursor');
    await field(`?cursor=${b64({ v: 1, f: '', s: 0, a: 'X', extra: 1 })}`, 'cursor');
    // A cursor belongs to the listing it came from: another status filter reads another index.
    await field(`?status=available&cursor=${first.json.nextCursor}`, 'cursor');
    expect(await api.scanState()).toEqual(before);
  });

  it('a forged cursor moves only within the caller’s own book', async () => {
    const { book } = await bookWithCodes(api, 3, { shards: SHARDS });
    const { codes: other } = await bookWithCodes(api, 3, { shards: SHARDS });
    const r = await list(book.id, { cursor: b64({ v: 1, f: '', s: 0, a: `${other[0]}` }) });
    expect(r.status).toBe(200);
    expect(r.json.items.every((i: any) => !other.includes(i.code))).toBe(true);
  });
});

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
