import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { admin, answer, bookWithCodes, createBook, expectError, service, startTestApi, uniqueCode, user, type BookBody, type TestApi } from './support/harness.ts';
import { expectInvariants } from './support/invariants.ts';

// A code's life over real HTTP against DynamoDB Local: assign (random or by
// name), lock, unlock, redeem, expiry of locks and of books, and a user's
// list of codes. Every state-changing scenario ends with the invariants.
let api: TestApi;
beforeAll(async () => {
  api = await startTestApi('lifecycle');
});
afterAll(() => api.close());


const iso = (ms: number) => new Date(ms).toISOString();
const codeItem = async (code: string) => (await api.scan()).find((i) => i.__edb_e__ === 'code' && i.code === code);

/** A user holding one fresh code of a new book. */
async function heldCode(userId: string, bookBody: BookBody = {}, codes = 1) {
  const { book } = await bookWithCodes(api, codes, bookBody);
  const token = await user(userId);
  const claim = await answer(api.client(token).coupons.assign.$post({ json: { bookId: book.id } }));
  expect(claim.status).toBe(201);
  return { book, token, code: claim.json.code as string };
}

describe('locks between two redemptions are bounded', () => {
  // A small bound, so the test needs few requests; the default is 50 (MAX_LOCKS_PER_REDEMPTION).
  let small: TestApi;
  beforeAll(async () => {
    small = await startTestApi('lifecycle-locks', { MAX_LOCKS_PER_REDEMPTION: '3' });
  });
  afterAll(() => small.close());

  it('the holder cannot grow its code\'s history without end by locking and unlocking: the lock after the bound is 409 LOCK_LIMIT_REACHED until a redemption', async () => {
    const { book } = await bookWithCodes(small, 1, { maxRedemptionsPerUser: 2 });
    const token = await user('looper');
    const call = (path: string, body: unknown = {}) => small.call('POST', path, { token, body });
    // A claim with a lock is the first of the three.
    const claim = await call('/coupons/assign', { bookId: book.id, lock: true });
    expect(claim.status).toBe(201);
    const code = claim.json.code as string;
    expect((await call(`/coupons/unlock/${code}`)).status).toBe(200);
    for (let i = 0; i < 2; i++) {
      expect((await call(`/coupons/lock/${code}`)).status).toBe(200);
      expect((await call(`/coupons/unlock/${code}`)).status).toBe(200);
    }
    const before = (await small.scanState()).find((i) => i.__edb_e__ === 'code' && i.code === code);
    const refused = await call(`/coupons/lock/${code}`);
    expectError(refused, 409, 'LOCK_LIMIT_REACHED');
    expect((await small.scanState()).find((i) => i.__edb_e__ === 'code' && i.code === code)).toEqual(before);
    // A redemption starts the count again.
    expect((await call(`/coupons/redeem/${code}`)).status).toBe(200);
    expect((await call(`/coupons/lock/${code}`)).status).toBe(200);
    await expectInvariants(small);
  });
});

describe('assign', () => {
  it('a random assignment answers 201 with the full code view', async () => {
    const validUntil = '2099-06-30T23:59:59.000Z';
    const discount = { type: 'percentage', value: 15 } as const;
    const { book, codes } = await bookWithCodes(api, 5, { validUntil, discount, maxRedemptionsPerUser: 3 });
    const before = Date.now();
    const r = await answer(api.client(await user('alice')).coupons.assign.$post({ json: { bookId: book.id } }));
    expect(r.status).toBe(201);
    expect(r.json).toEqual({
      code: expect.any(String),
      bookId: book.id,
      userId: 'alice',
      status: 'active',
      assignedAt: expect.any(String),
      redemptionCount: 0,
      maxRedemptions: 3,
      validUntil,
      discount,
    });
    expect(codes).toContain(r.json.code);
    expect(Date.parse(r.json.assignedAt)).toBeGreaterThanOrEqual(before - 1000);
    expect(Date.parse(r.json.assignedAt)).toBeLessThanOrEqual(Date.now() + 1000);

    const item = await codeItem(r.json.code);
    expect(item).toMatchObject({ status: 'assigned', userId: 'alice', bookId: book.id });
    const stats = (await answer(api.client(await admin()).coupons[':bookId'].$get({ param: { bookId: book.id } }))).json.stats;
    expect(stats).toEqual({ codes: 5, available: 4, assigned: 1, redeemed: 0 });
    await expectInvariants(api);
  });

  it('a book without validity or discount gives a view without them', async () => {
    const { book } = await bookWithCodes(api, 1);
    const r = await answer(api.client(await service()).coupons.assign.$post({ json: { bookId: book.id, userId: 'bob' } }));
    expect(r.status).toBe(201);
    expect(r.json).toMatchObject({ userId: 'bob', status: 'active', redemptionCount: 0, maxRedemptions: 1 });
    expect(r.json).not.toHaveProperty('validUntil');
    expect(r.json).not.toHaveProperty('discount');
    expect(r.json).not.toHaveProperty('lockId');
    await expectInvariants(api);
  });

  it('"lock": true claims and locks in one step', async () => {
    const { book } = await bookWithCodes(api, 2, { lockTtlSeconds: 120 });
    const before = Date.now();
    const r = await answer(api.client(await user('quick')).coupons.assign.$post({ json: { bookId: book.id, lock: true } }));
    expect(r.status).toBe(201);
    expect(r.json).toMatchObject({ status: 'locked', lockId: expect.any(String), lockExpiresAt: expect.any(String) });
    const expires = Date.parse(r.json.lockExpiresAt);
    expect(expires).toBeGreaterThanOrEqual(before + 119_000);
    expect(expires).toBeLessThanOrEqual(Date.now() + 121_000);
    expect((await codeItem(r.json.code))?.lockId).toBe(r.json.lockId);
    await expectInvariants(api);
  });

  it('who may assign a random code, and for whom', async () => {
    const { book } = await bookWithCodes(api, 3);
    // Admin and service must name the user.
    expectError(await answer(api.client(await service()).coupons.assign.$post({ json: { bookId: book.id } })), 400, 'VALIDATION_FAILED');
    expectError(await answer(api.client(await admin()).coupons.assign.$post({ json: { bookId: book.id } })), 400, 'VALIDATION_FAILED');
    // A user may name only itself.
    expectError(await answer(api.client(await user('carol')).coupons.assign.$post({ json: { bookId: book.id, userId: 'mallory' } })), 403, 'FORBIDDEN');
    const self = await answer(api.client(await user('carol')).coupons.assign.$post({ json: { bookId: book.id, userId: 'carol' } }));
    expect(self.status).toBe(201);
    const byAdmin = await answer(api.client(await admin()).coupons.assign.$post({ json: { bookId: book.id, userId: 'dave' } }));
    expect(byAdmin.status).toBe(201);
    expect(byAdmin.json.userId).toBe('dave');
    expectError(await answer(api.client(await user('carol')).coupons.assign.$post({ json: { bookId: 'no-such-book' } })), 404, 'BOOK_NOT_FOUND');
    const stats = (await answer(api.client(await admin()).coupons[':bookId'].$get({ param: { bookId: book.id } }))).json.stats;
    expect(stats).toEqual({ codes: 3, available: 1, assigned: 2, redeemed: 0 });
    await expectInvariants(api);
  });

  it('assign by name: a service may (201), a user may not (403)', async () => {
    const { book, codes } = await bookWithCodes(api, 3);
    const [first, second] = codes as [string, string];
    const r = await answer(api.client(await service()).coupons.assign[':code'].$post({ param: { code: first }, json: { userId: 'erin' } }));
    expect(r.status).toBe(201);
    expect(r.json).toMatchObject({ code: first, bookId: book.id, userId: 'erin', status: 'active', redemptionCount: 0, maxRedemptions: 1 });
    expect(await codeItem(first)).toMatchObject({ status: 'assigned', userId: 'erin' });

    expectError(await answer(api.client(await user('frank')).coupons.assign[':code'].$post({ param: { code: second }, json: { userId: 'frank' } })), 403, 'FORBIDDEN');
    expect(await codeItem(second)).toMatchObject({ status: 'available' });
    expect((await codeItem(second))?.userId).toBeUndefined();

    // Naming a book the code is not in is a not-found, not an assignment elsewhere.
    const other = await createBook(api, { name: 'Elsewhere' });
    expectError(await answer(api.client(await service()).coupons.assign[':code'].$post({ param: { code: second }, json: { userId: 'gina', bookId: other.id } })), 404, 'CODE_NOT_FOUND');
    const stats = (await answer(api.client(await admin()).coupons[':bookId'].$get({ param: { bookId: book.id } }))).json.stats;
    expect(stats).toEqual({ codes: 3, available: 2, assigned: 1, redeemed: 0 });
    await expectInvariants(api);
  });

  it('a named code already assigned is 409 CODE_ALREADY_ASSIGNED and keeps its holder', async () => {
    const { codes } = await bookWithCodes(api, 1);
    const code = codes[0]!;
    expect((await answer(api.client(await service()).coupons.assign[':code'].$post({ param: { code }, json: { userId: 'first' } }))).status).toBe(201);
    const again = await answer(api.client(await admin()).coupons.assign[':code'].$post({ param: { code }, json: { userId: 'second' } }));
    expectError(again, 409, 'CODE_ALREADY_ASSIGNED');
    // Even to the same user.
    expectError(await answer(api.client(await service()).coupons.assign[':code'].$post({ param: { code }, json: { userId: 'first' } })), 409, 'CODE_ALREADY_ASSIGNED');
    expect(await codeItem(code)).toMatchObject({ status: 'assigned', userId: 'first' });
    await expectInvariants(api);
  });

  it('10 services naming the same code at once: one 201, nine 409 CODE_ALREADY_ASSIGNED', async () => {
    const { book, codes } = await bookWithCodes(api, 1);
    const svc = await service();
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => answer(api.client(svc).coupons.assign[':code'].$post({ param: { code: codes[0] }, json: { userId: `named-${i}` } }))));
    const won = results.filter((r) => r.status === 201);
    expect(won).toHaveLength(1);
    for (const r of results.filter((x) => x.status !== 201)) expectError(r, 409, 'CODE_ALREADY_ASSIGNED');
    expect(await codeItem(codes[0]!)).toMatchObject({ status: 'assigned', userId: won[0]!.json.userId });
    const stats = (await answer(api.client(await admin()).coupons[':bookId'].$get({ param: { bookId: book.id } }))).json.stats;
    expect(stats).toEqual({ codes: 1, available: 0, assigned: 1, redeemed: 0 });
    await expectInvariants(api);
  });

  it('assign by name respects maxCodesPerUser: 409 USER_CODE_LIMIT_REACHED and the code stays available', async () => {
    const { codes } = await bookWithCodes(api, 2, { maxCodesPerUser: 1 });
    const svc = await service();
    expect((await answer(api.client(svc).coupons.assign[':code'].$post({ param: { code: codes[0] }, json: { userId: 'capped' } }))).status).toBe(201);
    expectError(await answer(api.client(svc).coupons.assign[':code'].$post({ param: { code: codes[1] }, json: { userId: 'capped' } })), 409, 'USER_CODE_LIMIT_REACHED');
    expect(await codeItem(codes[1]!)).toMatchObject({ status: 'available' });
    expect((await answer(api.client(svc).coupons.assign[':code'].$post({ param: { code: codes[1] }, json: { userId: 'uncapped' } }))).status).toBe(201);
    await expectInvariants(api);
  });

  it('an unknown code is 404 CODE_NOT_FOUND', async () => {
    const code = uniqueCode('NONE');
    expectError(await answer(api.client(await service()).coupons.assign[':code'].$post({ param: { code }, json: { userId: 'nobody' } })), 404, 'CODE_NOT_FOUND');
    expect(await codeItem(code)).toBeUndefined();
    // Another tenant's code does not exist for this tenant.
    const { codes } = await bookWithCodes(api, 1, {}, 't2');
    expectError(await answer(api.client(await service()).coupons.assign[':code'].$post({ param: { code: codes[0] }, json: { userId: 'nobody' } })), 404, 'CODE_NOT_FOUND');
    expect(await codeItem(codes[0]!)).toMatchObject({ status: 'available' });
  });

  it('an empty book is 409 BOOK_EXHAUSTED', async () => {
    const { book, codes } = await bookWithCodes(api, 2);
    const svc = await service();
    const a = await answer(api.client(svc).coupons.assign.$post({ json: { bookId: book.id, userId: 'x1' } }));
    const b = await answer(api.client(svc).coupons.assign.$post({ json: { bookId: book.id, userId: 'x2' } }));
    expect([a.status, b.status]).toEqual([201, 201]);
    expect([a.json.code, b.json.code].sort()).toEqual([...codes].sort());
    expectError(await answer(api.client(svc).coupons.assign.$post({ json: { bookId: book.id, userId: 'x3' } })), 409, 'BOOK_EXHAUSTED');
    const never = await createBook(api, { name: 'Never filled' });
    expectError(await answer(api.client(svc).coupons.assign.$post({ json: { bookId: never.id, userId: 'x3' } })), 409, 'BOOK_EXHAUSTED');
    const stats = (await answer(api.client(await admin()).coupons[':bookId'].$get({ param: { bookId: book.id } }))).json.stats;
    expect(stats).toEqual({ codes: 2, available: 0, assigned: 2, redeemed: 0 });
    await expectInvariants(api);
  });
});

describe('validity windows', () => {
  it('a book that has not started yet refuses assignment with 409 BOOK_NOT_ACTIVE', async () => {
    const { book, codes } = await bookWithCodes(api, 2, { validFrom: iso(Date.now() + 24 * 3600 * 1000) });
    expectError(await answer(api.client(await user('early')).coupons.assign.$post({ json: { bookId: book.id } })), 409, 'BOOK_NOT_ACTIVE');
    expectError(await answer(api.client(await service()).coupons.assign[':code'].$post({ param: { code: codes[0] }, json: { userId: 'early' } })), 409, 'BOOK_NOT_ACTIVE');
    const stats = (await answer(api.client(await admin()).coupons[':bookId'].$get({ param: { bookId: book.id } }))).json.stats;
    expect(stats).toEqual({ codes: 2, available: 2, assigned: 0, redeemed: 0 });
    await expectInvariants(api);
  });

  it('a book whose validUntil has passed: assign 409 BOOK_NOT_ACTIVE, lock and redeem 409 CODE_EXPIRED, listed as expired', async () => {
    const { book, token, code } = await heldCode('late', {}, 3);
    const ended = iso(Date.now() - 1000);
    const patched = await answer(api.client(await admin()).coupons[':bookId'].$patch({ param: { bookId: book.id }, header: {}, json: { validUntil: ended } }));
    expect(patched.status).toBe(200);

    expectError(await answer(api.client(await user('later')).coupons.assign.$post({ json: { bookId: book.id } })), 409, 'BOOK_NOT_ACTIVE');
    expectError(await answer(api.client(token).coupons.lock[':code'].$post({ param: { code }, json: {} })), 409, 'CODE_EXPIRED');
    expectError(await answer(api.client(token).coupons.redeem[':code'].$post({ param: { code }, json: {} })), 409, 'CODE_EXPIRED');
    expectError(await answer(api.client(await service()).coupons.redeem[':code'].$post({ param: { code }, json: { orderId: 'o-late' } })), 409, 'CODE_EXPIRED');

    const list = await answer(api.client(token).users[':userId'].coupons.$get({ param: { userId: 'late' }, query: { bookId: book.id } }));
    expect(list.status).toBe(200);
    expect(list.json.items).toEqual([expect.objectContaining({ code, status: 'expired', validUntil: ended })]);
    const item = await codeItem(code);
    expect(item).toMatchObject({ redemptionCount: 0 });
    expect(item?.lockId).toBeUndefined();
    const stats = (await answer(api.client(await admin()).coupons[':bookId'].$get({ param: { bookId: book.id } }))).json.stats;
    expect(stats).toEqual({ codes: 3, available: 2, assigned: 1, redeemed: 0 });
    await expectInvariants(api);
  });

  it('a book that ends while a code is locked: the lock does not carry the redeem past validUntil', async () => {
    const validUntil = iso(Date.now() + 1500);
    const { book, token, code } = await heldCode('edge', { validUntil });
    const lock = await answer(api.client(token).coupons.lock[':code'].$post({ param: { code }, json: {} }));
    expect(lock.status).toBe(200);
    await sleep(Math.max(0, Date.parse(validUntil) - Date.now()) + 100);
    expectError(await answer(api.client(token).coupons.redeem[':code'].$post({ param: { code }, json: { lockId: lock.json.lockId } })), 409, 'CODE_EXPIRED');
    const list = await answer(api.client(token).users[':userId'].coupons.$get({ param: { userId: 'edge' }, query: {} }));
    expect(list.json.items).toEqual([expect.objectContaining({ code, bookId: book.id, status: 'expired' })]);
    expect((await codeItem(code))?.redemptionCount).toBe(0);
    await expectInvariants(api);
  });
});

describe('lock, unlock, redeem', () => {
  it('lock answers 200 {status locked, lockId, lockExpiresAt}; a second lock is 409 CODE_LOCKED', async () => {
    const { token, code } = await heldCode('locky', { lockTtlSeconds: 60 });
    const before = Date.now();
    const lock = await answer(api.client(token).coupons.lock[':code'].$post({ param: { code }, json: {} }));
    expect(lock.status).toBe(200);
    expect(lock.json).toMatchObject({ code, userId: 'locky', status: 'locked', lockId: expect.any(String), lockExpiresAt: expect.any(String) });
    const expires = Date.parse(lock.json.lockExpiresAt);
    expect(expires).toBeGreaterThanOrEqual(before + 59_000);
    expect(expires).toBeLessThanOrEqual(Date.now() + 61_000);

    expectError(await answer(api.client(token).coupons.lock[':code'].$post({ param: { code }, json: {} })), 409, 'CODE_LOCKED');
    expectError(await answer(api.client(await service()).coupons.lock[':code'].$post({ param: { code }, json: { userId: 'locky' } })), 409, 'CODE_LOCKED');
    expect((await codeItem(code))?.lockId).toBe(lock.json.lockId);

    // The list shows it locked, with the expiry.
    const list = await answer(api.client(token).users[':userId'].coupons.$get({ param: { userId: 'locky' }, query: {} }));
    expect(list.json.items).toEqual([expect.objectContaining({ code, status: 'locked', lockExpiresAt: lock.json.lockExpiresAt })]);
    await expectInvariants(api);
  });

  it('a lock request may set its own ttlSeconds and needs no body at all', async () => {
    const { token, code } = await heldCode('ttl-own');
    const before = Date.now();
    const r = await answer(api.client(token).coupons.lock[':code'].$post({ param: { code }, json: { ttlSeconds: 30 } }));
    expect(r.status).toBe(200);
    expect(Date.parse(r.json.lockExpiresAt)).toBeLessThanOrEqual(Date.now() + 31_000);
    expect(Date.parse(r.json.lockExpiresAt)).toBeGreaterThanOrEqual(before + 29_000);
    expect((await answer(api.client(token).coupons.unlock[':code'].$post({ param: { code }, json: {} }))).status).toBe(200);
    // Raw: the typed client always sends a body.
    const bare = await api.call('POST', `/coupons/lock/${code}`, { token });
    expect(bare.status).toBe(200);
    expect(bare.json.status).toBe('locked');
    expectError(await answer(api.client(token).coupons.lock[':code'].$post({ param: { code }, json: { ttlSeconds: 0 } })), 400, 'VALIDATION_FAILED');
    expectError(await answer(api.client(token).coupons.lock[':code'].$post({ param: { code }, json: { ttlSeconds: 86_401 } })), 400, 'VALIDATION_FAILED');
    await expectInvariants(api);
  });

  it('unlock: 200 active; not locked 409 CODE_NOT_LOCKED; a wrong lockId 409 and the lock stays', async () => {
    const { token, code } = await heldCode('unlocky');
    expectError(await answer(api.client(token).coupons.unlock[':code'].$post({ param: { code }, json: {} })), 409, 'CODE_NOT_LOCKED');

    const lock = await answer(api.client(token).coupons.lock[':code'].$post({ param: { code }, json: {} }));
    expect(lock.status).toBe(200);
    const wrong = await answer(api.client(token).coupons.unlock[':code'].$post({ param: { code }, json: { lockId: '00000000-0000-4000-8000-000000000000' } }));
    expect(wrong.status).toBe(409);
    expect(['CODE_LOCKED', 'CODE_NOT_LOCKED']).toContain(wrong.json.error.code);
    expect((await codeItem(code))?.lockId).toBe(lock.json.lockId);

    const ok = await answer(api.client(token).coupons.unlock[':code'].$post({ param: { code }, json: { lockId: lock.json.lockId } }));
    expect(ok.status).toBe(200);
    expect(ok.json).toMatchObject({ code, userId: 'unlocky', status: 'active', redemptionCount: 0 });
    expect(ok.json).not.toHaveProperty('lockExpiresAt');
    const item = await codeItem(code);
    expect(item?.lockId).toBeUndefined();
    expect(item?.lockExpiresAt).toBeUndefined();
    expectError(await answer(api.client(token).coupons.unlock[':code'].$post({ param: { code }, json: { lockId: lock.json.lockId } })), 409, 'CODE_NOT_LOCKED');

    // A holder may release whatever lock is on its code without naming it.
    expect((await answer(api.client(token).coupons.lock[':code'].$post({ param: { code }, json: {} }))).status).toBe(200);
    const plain = await answer(api.client(token).coupons.unlock[':code'].$post({ param: { code }, json: {} }));
    expect(plain.status).toBe(200);
    expect(plain.json.status).toBe('active');
    // And after an unlock the code can be locked again.
    expect((await answer(api.client(token).coupons.lock[':code'].$post({ param: { code }, json: {} }))).status).toBe(200);
    await expectInvariants(api);
  });

  it('redeem under a lock needs its lockId; then 200 redeemed; again 409 REDEMPTION_LIMIT_REACHED', async () => {
    const { book, token, code } = await heldCode('payer');
    const lock = await answer(api.client(token).coupons.lock[':code'].$post({ param: { code }, json: {} }));
    expect(lock.status).toBe(200);
    expectError(await answer(api.client(token).coupons.redeem[':code'].$post({ param: { code }, json: {} })), 409, 'CODE_LOCKED');
    expectError(await answer(api.client(token).coupons.redeem[':code'].$post({ param: { code }, json: { lockId: '00000000-0000-4000-8000-000000000000' } })), 409, 'CODE_LOCKED');
    expect((await codeItem(code))?.redemptionCount).toBe(0);

    const r = await answer(api.client(token).coupons.redeem[':code'].$post({ param: { code }, json: { lockId: lock.json.lockId, orderId: 'order-77' } }));
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ code, bookId: book.id, userId: 'payer', status: 'redeemed', redemptionCount: 1, maxRedemptions: 1, redemptionId: expect.any(String) });
    expect(r.json).not.toHaveProperty('lockExpiresAt');
    const item = await codeItem(code);
    expect(item?.lockId).toBeUndefined();
    expect(item?.redemptionCount).toBe(1);
    const records = (await api.scan()).filter((i) => i.__edb_e__ === 'redemption' && i.code === code);
    expect(records).toEqual([expect.objectContaining({ redemptionId: r.json.redemptionId, userId: 'payer', orderId: 'order-77', bookId: book.id })]);

    expectError(await answer(api.client(token).coupons.redeem[':code'].$post({ param: { code }, json: {} })), 409, 'REDEMPTION_LIMIT_REACHED');
    expectError(await answer(api.client(token).coupons.redeem[':code'].$post({ param: { code }, json: { lockId: lock.json.lockId } })), 409, 'REDEMPTION_LIMIT_REACHED');
    expectError(await answer(api.client(token).coupons.lock[':code'].$post({ param: { code }, json: {} })), 409, 'REDEMPTION_LIMIT_REACHED');
    const stats = (await answer(api.client(await admin()).coupons[':bookId'].$get({ param: { bookId: book.id } }))).json.stats;
    expect(stats).toEqual({ codes: 1, available: 0, assigned: 1, redeemed: 1 });
    await expectInvariants(api);
  });

  it('an unlocked code is redeemed in one step; maxRedemptionsPerUser counts the uses', async () => {
    const { token, code } = await heldCode('oneshot', { maxRedemptionsPerUser: 2 });
    const first = await answer(api.client(token).coupons.redeem[':code'].$post({ param: { code }, json: { orderId: 'a' } }));
    expect(first.status).toBe(200);
    expect(first.json).toMatchObject({ status: 'active', redemptionCount: 1, maxRedemptions: 2 });
    const second = await answer(api.client(await service()).coupons.redeem[':code'].$post({ param: { code }, json: { userId: 'oneshot', orderId: 'b' } }));
    expect(second.status).toBe(200);
    expect(second.json).toMatchObject({ status: 'redeemed', redemptionCount: 2 });
    expect(second.json.redemptionId).not.toBe(first.json.redemptionId);
    expectError(await answer(api.client(token).coupons.redeem[':code'].$post({ param: { code }, json: {} })), 409, 'REDEMPTION_LIMIT_REACHED');
    expect((await codeItem(code))?.redemptionCount).toBe(2);
    await expectInvariants(api);
  });

  it('another user’s code answers exactly as a missing one: 404 CODE_NOT_FOUND', async () => {
    const { code } = await heldCode('owner');
    const stranger = await user('stranger');
    const missing = uniqueCode('MISS');
    const coupons = api.client(stranger).coupons;
    for (const action of ['lock', 'unlock', 'redeem'] as const) {
      const theirs = await answer(coupons[action][':code'].$post({ param: { code }, json: {} }));
      const none = await answer(coupons[action][':code'].$post({ param: { code: missing }, json: {} }));
      expectError(theirs, 404, 'CODE_NOT_FOUND');
      expectError(none, 404, 'CODE_NOT_FOUND');
    }
    // A service naming the wrong holder gets the same.
    expectError(await answer(api.client(await service()).coupons.lock[':code'].$post({ param: { code }, json: { userId: 'stranger' } })), 404, 'CODE_NOT_FOUND');
    // A user may not name someone else.
    expectError(await answer(api.client(stranger).coupons.lock[':code'].$post({ param: { code }, json: { userId: 'owner' } })), 403, 'FORBIDDEN');
    const item = await codeItem(code);
    expect(item?.lockId).toBeUndefined();
    expect(item?.redemptionCount).toBe(0);
    await expectInvariants(api);
  });

  it('an available (unassigned) code cannot be locked or redeemed', async () => {
    const { codes } = await bookWithCodes(api, 1);
    const svc = await service();
    expectError(await answer(api.client(svc).coupons.lock[':code'].$post({ param: { code: codes[0] }, json: {} })), 404, 'CODE_NOT_FOUND');
    expectError(await answer(api.client(svc).coupons.redeem[':code'].$post({ param: { code: codes[0] }, json: {} })), 404, 'CODE_NOT_FOUND');
    expect(await codeItem(codes[0]!)).toMatchObject({ status: 'available', redemptionCount: 0 });
    await expectInvariants(api);
  });

  it('a lock with ttlSeconds 1 lapses on its own, with no sweeper, and the code itself survives', async () => {
    const { token, code } = await heldCode('lapse');
    const first = await answer(api.client(token).coupons.lock[':code'].$post({ param: { code }, json: { ttlSeconds: 1 } }));
    expect(first.status).toBe(200);
    expectError(await answer(api.client(token).coupons.lock[':code'].$post({ param: { code }, json: {} })), 409, 'CODE_LOCKED');
    await sleep(1200);

    // Not honoured any more: the list says active, and another lock is granted.
    const list = await answer(api.client(token).users[':userId'].coupons.$get({ param: { userId: 'lapse' }, query: {} }));
    expect(list.json.items).toEqual([expect.objectContaining({ code, status: 'active' })]);
    expect(list.json.items[0]).not.toHaveProperty('lockExpiresAt');
    expectError(await answer(api.client(token).coupons.unlock[':code'].$post({ param: { code }, json: { lockId: first.json.lockId } })), 409, 'CODE_NOT_LOCKED');
    const second = await answer(api.client(token).coupons.lock[':code'].$post({ param: { code }, json: { ttlSeconds: 1 } }));
    expect(second.status).toBe(200);
    expect(second.json.lockId).not.toBe(first.json.lockId);
    // The lapsed lock's id no longer opens anything while the new lock holds.
    expectError(await answer(api.client(token).coupons.redeem[':code'].$post({ param: { code }, json: { lockId: first.json.lockId } })), 409, 'CODE_LOCKED');
    await sleep(1200);

    // Redeemed in one step without any lockId once that lock lapsed too.
    const r = await answer(api.client(token).coupons.redeem[':code'].$post({ param: { code }, json: {} }));
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ status: 'redeemed', redemptionCount: 1 });

    // TTL never deletes a code: the item is still there, without expiresAt.
    const item = await codeItem(code);
    expect(item).toBeDefined();
    expect(item).toMatchObject({ status: 'assigned', userId: 'lapse', redemptionCount: 1 });
    expect(item).not.toHaveProperty('expiresAt');
    await expectInvariants(api);
  });
});

describe('GET /users/{userId}/coupons', () => {
  it('lists a user’s codes with status, filtered by book and status, one page at a time', async () => {
    const who = 'lister';
    const token = await user(who);
    const { book: bookA } = await bookWithCodes(api, 4, { discount: { type: 'percentage', value: 10 } });
    const { book: bookB } = await bookWithCodes(api, 2);
    const mine: Record<string, string> = {};
    for (let i = 0; i < 3; i++) {
      const r = await answer(api.client(token).coupons.assign.$post({ json: { bookId: bookA.id } }));
      expect(r.status).toBe(201);
      mine[r.json.code] = bookA.id;
    }
    for (let i = 0; i < 2; i++) {
      const r = await answer(api.client(token).coupons.assign.$post({ json: { bookId: bookB.id } }));
      expect(r.status).toBe(201);
      mine[r.json.code] = bookB.id;
    }
    // Someone else's code in the same book must never show up.
    const otherClaim = await answer(api.client(await user('not-lister')).coupons.assign.$post({ json: { bookId: bookA.id } }));
    expect(otherClaim.status).toBe(201);

    const inA = Object.keys(mine).filter((c) => mine[c] === bookA.id);
    const lockedCode = inA[0]!;
    const redeemedCode = inA[1]!;
    expect((await answer(api.client(token).coupons.lock[':code'].$post({ param: { code: lockedCode }, json: {} }))).status).toBe(200);
    expect((await answer(api.client(token).coupons.redeem[':code'].$post({ param: { code: redeemedCode }, json: {} }))).status).toBe(200);

    const all = await answer(api.client(token).users[':userId'].coupons.$get({ param: { userId: who }, query: {} }));
    expect(all.status).toBe(200);
    expect(all.json.nextCursor).toBeNull();
    expect(all.json.items.map((v: any) => v.code).sort()).toEqual(Object.keys(mine).sort());
    for (const v of all.json.items) {
      expect(v).toMatchObject({ userId: who, bookId: mine[v.code], assignedAt: expect.any(String), maxRedemptions: 1 });
      if (v.bookId === bookA.id) expect(v.discount).toEqual({ type: 'percentage', value: 10 });
      else expect(v).not.toHaveProperty('discount');
    }
    const statusOf = Object.fromEntries(all.json.items.map((v: any) => [v.code, v.status]));
    expect(statusOf[lockedCode]).toBe('locked');
    expect(statusOf[redeemedCode]).toBe('redeemed');
    expect(Object.values(statusOf).filter((s) => s === 'active')).toHaveLength(3);

    const onlyA = await answer(api.client(token).users[':userId'].coupons.$get({ param: { userId: who }, query: { bookId: bookA.id } }));
    expect(onlyA.json.items.map((v: any) => v.code).sort()).toEqual([...inA].sort());
    const onlyB = await answer(api.client(token).users[':userId'].coupons.$get({ param: { userId: who }, query: { bookId: bookB.id } }));
    expect(onlyB.json.items.every((v: any) => v.bookId === bookB.id)).toBe(true);
    expect(onlyB.json.items).toHaveLength(2);

    const locked = await answer(api.client(token).users[':userId'].coupons.$get({ param: { userId: who }, query: { status: 'locked' } }));
    expect(locked.json.items.map((v: any) => v.code)).toEqual([lockedCode]);
    const redeemed = await answer(api.client(token).users[':userId'].coupons.$get({ param: { userId: who }, query: { status: 'redeemed' } }));
    expect(redeemed.json.items.map((v: any) => v.code)).toEqual([redeemedCode]);
    const active = await answer(api.client(token).users[':userId'].coupons.$get({ param: { userId: who }, query: { status: 'active', bookId: bookA.id } }));
    expect(active.json.items.map((v: any) => v.code)).toEqual([inA[2]]);
    // Raw: a status the typed query does not have.
    expectError(await api.call('GET', `/users/${who}/coupons?status=lost`, { token }), 400, 'VALIDATION_FAILED');

    // Pages of 2: every code exactly once.
    const paged: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const r = await answer(api.client(token).users[':userId'].coupons.$get({ param: { userId: who }, query: { limit: '2', ...(cursor ? { cursor } : {}) } }));
      expect(r.status).toBe(200);
      expect(r.json.items.length).toBeLessThanOrEqual(2);
      paged.push(...r.json.items.map((v: any) => v.code));
      cursor = r.json.nextCursor;
      expect(++pages).toBeLessThan(10);
    } while (cursor);
    expect(pages).toBeGreaterThanOrEqual(3);
    expect(paged.length).toBe(5);
    expect([...paged].sort()).toEqual(Object.keys(mine).sort());
    expectError(await answer(api.client(token).users[':userId'].coupons.$get({ param: { userId: who }, query: { cursor: 'not-a-cursor' } })), 400, 'VALIDATION_FAILED');
    await expectInvariants(api);
  });

  it('a user may list only itself; admin and service may list anyone; tenants stay apart', async () => {
    const { book } = await bookWithCodes(api, 1);
    const claim = await answer(api.client(await service()).coupons.assign.$post({ json: { bookId: book.id, userId: 'listed' } }));
    expect(claim.status).toBe(201);
    expectError(await answer(api.client(await user('peeker')).users[':userId'].coupons.$get({ param: { userId: 'listed' }, query: {} })), 403, 'FORBIDDEN');
    for (const token of [await admin(), await service(), await user('listed')]) {
      const r = await answer(api.client(token).users[':userId'].coupons.$get({ param: { userId: 'listed' }, query: {} }));
      expect(r.status).toBe(200);
      expect(r.json.items).toEqual([expect.objectContaining({ code: claim.json.code, userId: 'listed', status: 'active' })]);
    }
    // The same user id in another tenant holds nothing.
    const elsewhere = await answer(api.client(await admin('t2')).users[':userId'].coupons.$get({ param: { userId: 'listed' }, query: {} }));
    expect(elsewhere.status).toBe(200);
    expect(elsewhere.json.items).toEqual([]);
    // Someone with no codes gets an empty list, not an error.
    const empty = await answer(api.client(await user('peeker')).users[':userId'].coupons.$get({ param: { userId: 'peeker' }, query: {} }));
    expect(empty.status).toBe(200);
    expect(empty.json).toEqual({ items: [], nextCursor: null });
  });
});

describe('the hot path reuses a book for up to a second', () => {
  it('a pause takes effect on the very next claim, and a resume too, even with the book cached', async () => {
    const { book } = await bookWithCodes(api, 6);
    const token = await admin();
    // This claim leaves an "active" copy of the book in the instance's cache.
    expect((await answer(api.client(await user('cache-1')).coupons.assign.$post({ json: { bookId: book.id } }))).status).toBe(201);
    await answer(api.client(token).coupons[':bookId'].$patch({ param: { bookId: book.id }, header: {}, json: { status: 'paused' } }));
    // The cached copy says active; the transaction's gate on the shard says paused, and wins.
    expectError(await answer(api.client(await user('cache-2')).coupons.assign.$post({ json: { bookId: book.id } })), 409, 'BOOK_NOT_ACTIVE');
    // Past the cache's second, a claim reads the book afresh and keeps a "paused" copy.
    await sleep(1100);
    expectError(await answer(api.client(await user('cache-2b')).coupons.assign.$post({ json: { bookId: book.id } })), 409, 'BOOK_NOT_ACTIVE');
    await answer(api.client(token).coupons[':bookId'].$patch({ param: { bookId: book.id }, header: {}, json: { status: 'active' } }));
    // Now the cached copy says paused: it is read again before the claim is refused on its word.
    expect((await answer(api.client(await user('cache-3')).coupons.assign.$post({ json: { bookId: book.id } }))).status).toBe(201);
    await expectInvariants(api);
  });
});
