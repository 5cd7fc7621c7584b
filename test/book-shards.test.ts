import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_BOOK_SHARDS, MAX_BOOK_SHARDS, shardsForClaimRate } from '@coupons/core';
import { admin, answer, bookWithCodes, createBook, expectError, service, startTestApi, type TestApi } from './support/harness.ts';

// Each stats shard is its own partition key, and a book's shard count is chosen when it is created.
let api: TestApi;
beforeAll(async () => {
  api = await startTestApi('book-shards');
});
afterAll(() => api.close());

const statsItems = async (bookId: string) => (await api.scan()).filter((i) => i.__edb_e__ === 'bookStatsShard' && i.bookId === bookId);

describe('book shards', () => {
  it(`defaults to ${DEFAULT_BOOK_SHARDS} shards, each under its own partition key`, async () => {
    const book = await createBook(api);
    expect(book.shards).toBe(DEFAULT_BOOK_SHARDS);
    const items = await statsItems(book.id);
    expect(items).toHaveLength(DEFAULT_BOOK_SHARDS);
    expect(new Set(items.map((i) => i.pk)).size).toBe(DEFAULT_BOOK_SHARDS);
    for (const i of items) expect(i.pk).toBe(`T#t1#BOOK#${book.id}#STATS#${i.shard}`);
  });

  it('takes shards as given, or sizes them from expectedClaimsPerSecond', async () => {
    expect((await createBook(api, { shards: 3 })).shards).toBe(3);
    expect((await createBook(api, { expectedClaimsPerSecond: 1000 })).shards).toBe(shardsForClaimRate(1000));
    const flash = await createBook(api, { expectedClaimsPerSecond: 20_000 });
    expect(flash.shards).toBe(MAX_BOOK_SHARDS);
    expect(await statsItems(flash.id)).toHaveLength(MAX_BOOK_SHARDS);
    expect(shardsForClaimRate(1)).toBe(1);
  });

  it('refuses both, or values out of range, with 400 and writes nothing', async () => {
    const token = await admin();
    const before = (await api.scanState()).length;
    for (const body of [
      { name: 'x', shards: 4, expectedClaimsPerSecond: 100 },
      { name: 'x', shards: 0 },
      { name: 'x', shards: MAX_BOOK_SHARDS + 1 },
      { name: 'x', expectedClaimsPerSecond: 20_001 },
    ]) {
      expectError(await answer(api.client(token).coupons.$post({ json: body })), 400, 'VALIDATION_FAILED');
    }
    expect((await api.scanState()).length).toBe(before);
  });

  it('reads the stats of a 99-shard book in one request, spreads its codes over the shards, and pauses it in one transaction', async () => {
    const { book } = await bookWithCodes(api, 2 * MAX_BOOK_SHARDS, { shards: MAX_BOOK_SHARDS });
    const svc = await service();
    for (let i = 0; i < 5; i++) {
      expect((await answer(api.client(svc).coupons.assign.$post({ json: { bookId: book.id, userId: `s-${i}` } }))).status).toBe(201);
    }
    const r = await answer(api.client(await admin()).coupons[':bookId'].$get({ param: { bookId: book.id } }));
    expect(r.json.stats).toEqual({ codes: 2 * MAX_BOOK_SHARDS, available: 2 * MAX_BOOK_SHARDS - 5, assigned: 5, redeemed: 0 });
    const items = await statsItems(book.id);
    expect(items.map((i) => i.codes).every((n) => n === 2)).toBe(true);
    // The book and its 99 gate copies: 100 items, DynamoDB's most for one transaction.
    expect((await answer(api.client(await admin()).coupons[':bookId'].$patch({ param: { bookId: book.id }, header: {}, json: { status: 'paused' } }))).status).toBe(200);
    expect((await statsItems(book.id)).every((i) => i.bookStatus === 'paused')).toBe(true);
    expectError(await answer(api.client(svc).coupons.assign.$post({ json: { bookId: book.id, userId: 's-x' } })), 409, 'BOOK_NOT_ACTIVE');
  });
});
