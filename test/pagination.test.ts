import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unwrap } from '@coupons/client';
import { admin, bookWithCodes, createBook, service, startTestApi, user, type TestApi } from './support/harness.ts';

// Lists read one item beyond the page: a last page that holds exactly `limit` items says so
// (nextCursor: null) instead of sending the client for an empty page; a walk sees every item once.

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi('pagination');
});
afterAll(() => api.close());

describe('pagination', () => {
  it('books: a last page of exactly `limit` items has nextCursor null; a walk page by page sees each book once', async () => {
    const tenant = `pg-${randomUUID().slice(0, 8)}`;
    const created: string[] = [];
    for (let i = 0; i < 3; i++) created.push((await createBook(api, { name: `Book ${i}` }, tenant)).id);
    const asAdmin = api.client(await admin(tenant));

    const whole = await unwrap(asAdmin.coupons.$get({ query: { limit: '3' } }));
    expect(whole.items).toHaveLength(3);
    expect(whole.nextCursor).toBeNull();

    for (const limit of [1, 2]) {
      const seen: string[] = [];
      const cursors: (string | null)[] = [];
      let cursor: string | undefined;
      do {
        const page = await unwrap(asAdmin.coupons.$get({ query: { limit: String(limit), ...(cursor ? { cursor } : {}) } }));
        seen.push(...page.items.map((b) => b.id));
        cursors.push(page.nextCursor);
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
      // Newest first, each once, and no trailing empty page.
      expect(seen).toEqual([...created].reverse());
      expect(cursors).toHaveLength(Math.ceil(3 / limit));
    }
  });

  it("a user's coupons: exact pages end with null, a filtered page still carries the cursor of what it read", async () => {
    const { book } = await bookWithCodes(api, 4);
    const userId = `pg-u-${randomUUID().slice(0, 8)}`;
    const asService = api.client(await service());
    const held: string[] = [];
    for (let i = 0; i < 4; i++) held.push((await unwrap(asService.coupons.assign.$post({ json: { bookId: book.id, userId } }))).code);
    const asUser = api.client(await user(userId));
    const list = (query: Record<string, string>) => unwrap(asUser.users[':userId'].coupons.$get({ param: { userId }, query }));

    expect(await list({ limit: '4' })).toMatchObject({ nextCursor: null });
    expect((await list({ limit: '5' })).nextCursor).toBeNull();
    const first = await list({ limit: '2' });
    expect(first.items).toHaveLength(2);
    expect(first.nextCursor).toEqual(expect.any(String));
    const second = await list({ limit: '2', cursor: first.nextCursor! });
    expect(second.items).toHaveLength(2);
    expect(second.nextCursor).toBeNull();
    expect([...first.items, ...second.items].map((c) => c.code).sort()).toEqual([...held].sort());

    // Redeem one; a status filter narrows each page after reading it, so a page may be short
    // while more remain, and the walk still ends on null.
    await unwrap(asUser.coupons.redeem[':code'].$post({ param: { code: held[0]! }, json: {} }));
    const redeemed: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await list({ limit: '1', status: 'redeemed', ...(cursor ? { cursor } : {}) });
      redeemed.push(...page.items.map((c) => c.code));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    expect(redeemed).toEqual([held[0]]);
  });
});
