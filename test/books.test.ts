import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { admin, answer, bookWithCodes, createBook, expectError, service, startTestApi, uniqueCode, user, type JsonOf, type TestApi, type TestClient } from './support/harness.ts';
import { expectInvariants } from './support/invariants.ts';

// Books over real HTTP against DynamoDB Local: create, list, read with live
// stats, rename / re-window / pause / resume, and who may do any of it.
let api: TestApi;
beforeAll(async () => {
  api = await startTestApi('books');
});
afterAll(() => api.close());


const iso = (ms: number) => new Date(ms).toISOString();
const DAY = 24 * 3600 * 1000;

describe('POST /coupons', () => {
  it('creates a book with the documented defaults (201)', async () => {
    const before = Date.now();
    const r = await answer(api.client(await admin()).coupons.$post({ json: { name: 'Spring sale' } }));
    expect(r.status).toBe(201);
    expect(r.json).toMatchObject({
      id: expect.any(String),
      name: 'Spring sale',
      status: 'active',
      maxRedemptionsPerUser: 1,
      lockTtlSeconds: 300,
      createdAt: expect.any(String),
    });
    expect(r.json.id.length).toBeGreaterThan(0);
    // No cap unless asked for; optional fields stay absent.
    expect(r.json).not.toHaveProperty('maxCodesPerUser');
    expect(r.json).not.toHaveProperty('validFrom');
    expect(r.json).not.toHaveProperty('validUntil');
    expect(r.json).not.toHaveProperty('discount');
    // Internal fields never leak.
    expect(r.json).not.toHaveProperty('tenant');
    expect(r.json).not.toHaveProperty('poolShards');
    expect(r.json).not.toHaveProperty('bookId');
    const created = Date.parse(r.json.createdAt);
    expect(created).toBeGreaterThanOrEqual(before - 1000);
    expect(created).toBeLessThanOrEqual(Date.now() + 1000);

    const got = await answer(api.client(await admin()).coupons[':bookId'].$get({ param: { bookId: r.json.id } }));
    expect(got.status).toBe(200);
    expect(got.json).toMatchObject({ id: r.json.id, name: 'Spring sale', status: 'active', maxRedemptionsPerUser: 1, lockTtlSeconds: 300 });
    await expectInvariants(api);
  });

  it('keeps every optional field it is given, and upper-cases the code pattern', async () => {
    const body: JsonOf<TestClient['coupons']['$post']> = {
      name: 'Black Friday',
      description: 'One per customer',
      validFrom: '2020-01-01T00:00:00.000Z',
      validUntil: '2099-12-31T23:59:59.000Z',
      maxRedemptionsPerUser: 3,
      maxCodesPerUser: 2,
      lockTtlSeconds: 120,
      discount: { type: 'fixed', value: 5, currency: 'EUR' },
      codePattern: 'bf-####',
      metadata: { campaign: 'bf-2026', channel: ['app', 'web'] },
    };
    const r = await answer(api.client(await admin()).coupons.$post({ json: body }));
    expect(r.status).toBe(201);
    expect(r.json).toMatchObject({ ...body, codePattern: 'BF-####', status: 'active' });
  });

  it('refuses bad input with 400 VALIDATION_FAILED naming the field', async () => {
    const token = await admin();
    const cases: Record<string, unknown>[] = [
      {},
      { name: '' },
      { name: 'x', validFrom: '2030-01-02T00:00:00Z', validUntil: '2030-01-01T00:00:00Z' },
      { name: 'x', validFrom: '2030-01-01T00:00:00Z', validUntil: '2030-01-01T00:00:00Z' },
      { name: 'x', maxRedemptionsPerUser: 0 },
      { name: 'x', lockTtlSeconds: 86_401 },
      { name: 'x', discount: { type: 'percentage', value: 120 } },
      { name: 'x', codePattern: 'NO-PLACEHOLDERS' },
      { name: 'x', unknownField: true },
    ];
    // Raw: half of these are not even the body's type.
    for (const body of cases) {
      const r = await api.call('POST', '/coupons', { token, body });
      expectError(r, 400, 'VALIDATION_FAILED');
      expect(Array.isArray(r.json.error.details), JSON.stringify(body)).toBe(true);
    }
    const window = await api.call('POST', '/coupons', { token, body: cases[2] });
    expect(window.json.error.details).toEqual([expect.objectContaining({ field: 'validUntil' })]);
  });

  it('only an admin may create a book (403 FORBIDDEN for service and user)', async () => {
    for (const token of [await service(), await user('u-create')]) {
      const r = await answer(api.client(token).coupons.$post({ json: { name: 'Not mine to make' } }));
      expectError(r, 403, 'FORBIDDEN');
    }
    expectError(await answer(api.client().coupons.$post({ json: { name: 'anonymous' } })), 401, 'UNAUTHENTICATED');
  });
});

describe('GET /coupons', () => {
  it('lists the tenant’s books newest first, one page at a time with limit=1 and cursor', async () => {
    const tenant = 'books-list';
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      ids.push((await createBook(api, { name: `Book ${i}` }, tenant)).id);
      await sleep(5); // distinct createdAt, so "newest first" has one answer
    }
    const token = await admin(tenant);
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const r = await answer(api.client(token).coupons.$get({ query: { limit: '1', ...(cursor ? { cursor } : {}) } }));
      expect(r.status).toBe(200);
      expect(r.json.items.length).toBeLessThanOrEqual(1);
      seen.push(...r.json.items.map((b: any) => b.id));
      cursor = r.json.nextCursor;
      pages++;
      expect(pages).toBeLessThan(10);
    } while (cursor);
    expect(seen).toEqual([...ids].reverse());

    const all = await answer(api.client(token).coupons.$get({ query: {} }));
    expect(all.status).toBe(200);
    expect(all.json.items.map((b: any) => b.id)).toEqual([...ids].reverse());
    expect(all.json.nextCursor).toBeNull();
    for (const b of all.json.items) expect(b).not.toHaveProperty('tenant');

    // Another tenant sees none of them.
    const other = await answer(api.client(await admin('books-list-other')).coupons.$get({ query: {} }));
    expect(other.status).toBe(200);
    expect(other.json.items).toEqual([]);
  });

  it('refuses limits outside 1..100 with 400', async () => {
    const token = await admin();
    expectError(await answer(api.client(token).coupons.$get({ query: { limit: '0' } })), 400, 'VALIDATION_FAILED');
    expectError(await answer(api.client(token).coupons.$get({ query: { limit: '101' } })), 400, 'VALIDATION_FAILED');
  });

  it('a cursor that is not one of ours is 400 VALIDATION_FAILED, not 500', async () => {
    const token = await admin();
    const forged = Buffer.from(JSON.stringify({ pk: 'x', sk: 'y' })).toString('base64url');
    for (const cursor of ['garbage', forged]) {
      const r = await answer(api.client(token).coupons.$get({ query: { cursor } }));
      expectError(r, 400, 'VALIDATION_FAILED');
    }
  });

  it('only an admin may list books', async () => {
    for (const token of [await service(), await user('u-list')]) expectError(await answer(api.client(token).coupons.$get({ query: {} })), 403, 'FORBIDDEN');
  });
});

describe('GET /coupons/{bookId}', () => {
  it('reports live stats: zeros when empty, then what was uploaded, assigned and redeemed', async () => {
    const token = await admin();
    const book = await createBook(api, { name: 'Stats' });
    const empty = await answer(api.client(token).coupons[':bookId'].$get({ param: { bookId: book.id } }));
    expect(empty.status).toBe(200);
    expect(empty.json.stats).toEqual({ codes: 0, available: 0, assigned: 0, redeemed: 0 });

    const codes = Array.from({ length: 25 }, () => uniqueCode('ST'));
    const up = await answer(api.client(token).coupons.codes.$post({ json: { bookId: book.id, codes } }));
    expect(up.status).toBe(200);
    expect(up.json.inserted).toBe(25);
    const filled = await answer(api.client(token).coupons[':bookId'].$get({ param: { bookId: book.id } }));
    expect(filled.json.stats).toEqual({ codes: 25, available: 25, assigned: 0, redeemed: 0 });

    const svc = await service();
    const a1 = await answer(api.client(svc).coupons.assign.$post({ json: { bookId: book.id, userId: 'stats-u1' } }));
    const a2 = await answer(api.client(svc).coupons.assign.$post({ json: { bookId: book.id, userId: 'stats-u2' } }));
    expect([a1.status, a2.status]).toEqual([201, 201]);
    const red = await answer(api.client(svc).coupons.redeem[':code'].$post({ param: { code: a1.json.code }, json: { orderId: 'o-1' } }));
    expect(red.status).toBe(200);
    const after = await answer(api.client(token).coupons[':bookId'].$get({ param: { bookId: book.id } }));
    expect(after.json.stats).toEqual({ codes: 25, available: 23, assigned: 2, redeemed: 1 });
    await expectInvariants(api);
  });

  it('an unknown book, or another tenant’s, is 404 BOOK_NOT_FOUND', async () => {
    const book = await createBook(api, { name: 'Tenant one only' });
    expectError(await answer(api.client(await admin()).coupons[':bookId'].$get({ param: { bookId: 'no-such-book' } })), 404, 'BOOK_NOT_FOUND');
    expectError(await answer(api.client(await admin('t2')).coupons[':bookId'].$get({ param: { bookId: book.id } })), 404, 'BOOK_NOT_FOUND');
  });

  it('only an admin may read a book', async () => {
    const book = await createBook(api, { name: 'Admin eyes only' });
    for (const token of [await service(), await user('u-read')]) {
      expectError(await answer(api.client(token).coupons[':bookId'].$get({ param: { bookId: book.id } })), 403, 'FORBIDDEN');
    }
  });
});

describe('PATCH /coupons/{bookId}', () => {
  it('renames, changes and clears the description, and the change is what GET returns', async () => {
    const token = await admin();
    const book = await createBook(api, { name: 'Old name', description: 'old' });
    const r = await answer(api.client(token).coupons[':bookId'].$patch({ param: { bookId: book.id }, header: {}, json: { name: 'New name' } }));
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ id: book.id, name: 'New name', description: 'old', status: 'active', createdAt: book.createdAt });
    expect(Date.parse(r.json.updatedAt)).toBeGreaterThanOrEqual(Date.parse(book.updatedAt));

    const cleared = await answer(api.client(token).coupons[':bookId'].$patch({ param: { bookId: book.id }, header: {}, json: { description: null } }));
    expect(cleared.status).toBe(200);
    expect(cleared.json).not.toHaveProperty('description');

    const got = await answer(api.client(token).coupons[':bookId'].$get({ param: { bookId: book.id } }));
    expect(got.json.name).toBe('New name');
    expect(got.json).not.toHaveProperty('description');
    expect(got.json.stats).toEqual({ codes: 0, available: 0, assigned: 0, redeemed: 0 });
    await expectInvariants(api);
  });

  it('changes and clears the validity window', async () => {
    const token = await admin();
    const book = await createBook(api, { name: 'Window' });
    const validFrom = iso(Date.now() - DAY);
    const validUntil = iso(Date.now() + 30 * DAY);
    const r = await answer(api.client(token).coupons[':bookId'].$patch({ param: { bookId: book.id }, header: {}, json: { validFrom, validUntil } }));
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ validFrom, validUntil });
    expect((await answer(api.client(token).coupons[':bookId'].$get({ param: { bookId: book.id } }))).json).toMatchObject({ validFrom, validUntil });

    const cleared = await answer(api.client(token).coupons[':bookId'].$patch({ param: { bookId: book.id }, header: {}, json: { validUntil: null } }));
    expect(cleared.status).toBe(200);
    expect(cleared.json.validFrom).toBe(validFrom);
    expect(cleared.json).not.toHaveProperty('validUntil');
    const got = await answer(api.client(token).coupons[':bookId'].$get({ param: { bookId: book.id } }));
    expect(got.json).not.toHaveProperty('validUntil');
    await expectInvariants(api);
  });

  it('pausing makes assignment answer 409 BOOK_NOT_ACTIVE; resuming allows it again', async () => {
    const token = await admin();
    const { book } = await bookWithCodes(api, 3, { name: 'Pausable' });
    const paused = await answer(api.client(token).coupons[':bookId'].$patch({ param: { bookId: book.id }, header: {}, json: { status: 'paused' } }));
    expect(paused.status).toBe(200);
    expect(paused.json.status).toBe('paused');
    expect((await answer(api.client(token).coupons[':bookId'].$get({ param: { bookId: book.id } }))).json.status).toBe('paused');

    const userToken = await user('pause-u');
    expectError(await answer(api.client(userToken).coupons.assign.$post({ json: { bookId: book.id } })), 409, 'BOOK_NOT_ACTIVE');
    expectError(
      await answer(api.client(await service()).coupons.assign.$post({ json: { bookId: book.id, userId: 'pause-u2' } })),
      409,
      'BOOK_NOT_ACTIVE',
    );
    // Nothing moved while paused.
    expect((await answer(api.client(token).coupons[':bookId'].$get({ param: { bookId: book.id } }))).json.stats).toEqual({ codes: 3, available: 3, assigned: 0, redeemed: 0 });

    const resumed = await answer(api.client(token).coupons[':bookId'].$patch({ param: { bookId: book.id }, header: {}, json: { status: 'active' } }));
    expect(resumed.status).toBe(200);
    expect(resumed.json.status).toBe('active');
    const claim = await answer(api.client(userToken).coupons.assign.$post({ json: { bookId: book.id } }));
    expect(claim.status).toBe(201);
    expect(claim.json).toMatchObject({ bookId: book.id, userId: 'pause-u', status: 'active' });
    expect((await answer(api.client(token).coupons[':bookId'].$get({ param: { bookId: book.id } }))).json.stats).toEqual({ codes: 3, available: 2, assigned: 1, redeemed: 0 });
    await expectInvariants(api);
  });

  it('validFrom >= validUntil is 400 VALIDATION_FAILED, including against the stored window, and changes nothing', async () => {
    const token = await admin();
    const validUntil = iso(Date.now() + DAY);
    const book = await createBook(api, { name: 'Bad window', validUntil });
    const same = iso(Date.now() + 2 * DAY);
    expectError(await answer(api.client(token).coupons[':bookId'].$patch({ param: { bookId: book.id }, header: {}, json: { validFrom: same, validUntil: same } })), 400, 'VALIDATION_FAILED');
    expectError(
      await answer(api.client(token).coupons[':bookId'].$patch({ param: { bookId: book.id }, header: {}, json: { validFrom: iso(Date.now() + 3 * DAY), validUntil: same } })),
      400,
      'VALIDATION_FAILED',
    );
    // Only validFrom, but after the stored validUntil.
    const late = await answer(api.client(token).coupons[':bookId'].$patch({ param: { bookId: book.id }, header: {}, json: { validFrom: iso(Date.now() + 2 * DAY) } }));
    expectError(late, 400, 'VALIDATION_FAILED');
    expect(late.json.error.details).toEqual([expect.objectContaining({ field: 'validUntil' })]);

    const got = await answer(api.client(token).coupons[':bookId'].$get({ param: { bookId: book.id } }));
    expect(got.json.validUntil).toBe(validUntil);
    expect(got.json).not.toHaveProperty('validFrom');
    await expectInvariants(api);
  });

  it('refuses an empty or unknown change with 400', async () => {
    const token = await admin();
    const book = await createBook(api, { name: 'Strict' });
    expectError(await answer(api.client(token).coupons[':bookId'].$patch({ param: { bookId: book.id }, header: {}, json: {} })), 400, 'VALIDATION_FAILED');
    // Raw: a status and a field the body's type does not have.
    expectError(await api.call('PATCH', `/coupons/${book.id}`, { token, body: { status: 'archived' } }), 400, 'VALIDATION_FAILED');
    expectError(await api.call('PATCH', `/coupons/${book.id}`, { token, body: { maxCodesPerUser: 5 } }), 400, 'VALIDATION_FAILED');
  });

  it('an unknown book is 404 BOOK_NOT_FOUND and creates nothing', async () => {
    const before = (await api.scan()).length;
    expectError(await answer(api.client(await admin()).coupons[':bookId'].$patch({ param: { bookId: 'no-such-book' }, header: {}, json: { name: 'ghost' } })), 404, 'BOOK_NOT_FOUND');
    expectError(await answer(api.client(await admin()).coupons[':bookId'].$patch({ param: { bookId: 'no-such-book' }, header: {}, json: { status: 'paused' } })), 404, 'BOOK_NOT_FOUND');
    const items = await api.scan();
    expect(items.length).toBe(before);
    expect(items.some((i) => i.bookId === 'no-such-book')).toBe(false);
  });

  it('only an admin may change a book, and a refused change leaves it as it was', async () => {
    const book = await createBook(api, { name: 'Untouchable' });
    for (const token of [await service(), await user('u-patch')]) {
      expectError(await answer(api.client(token).coupons[':bookId'].$patch({ param: { bookId: book.id }, header: {}, json: { status: 'paused' } })), 403, 'FORBIDDEN');
    }
    const got = await answer(api.client(await admin()).coupons[':bookId'].$get({ param: { bookId: book.id } }));
    expect(got.json).toMatchObject({ name: 'Untouchable', status: 'active' });
    // And another tenant's admin cannot reach it either.
    expectError(await answer(api.client(await admin('t2')).coupons[':bookId'].$patch({ param: { bookId: book.id }, header: {}, json: { status: 'paused' } })), 404, 'BOOK_NOT_FOUND');
    expect((await answer(api.client(await admin()).coupons[':bookId'].$get({ param: { bookId: book.id } }))).json.status).toBe('active');
  });
});
