import { runProcess } from '../../../scripts/lib/run-process.ts';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from 'vitest';
// Relative imports: the workspace link node_modules/@coupons/client exists only after `npm install`.
import { admin, service, startTestApi, uniqueCode, user, type TestApi } from '../../../test/support/harness.ts';
import { CouponApiError, createCouponClient, type Book, type ClaimResult, type CodeStatus, type CreateBookInput } from './index.ts';

// The client against a real server (HTTP, SDK, DynamoDB Local): every method once, the error
// shape, and the types it exposes.

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi('client');
});
afterAll(() => api.close());

describe('@coupons/client', () => {
  it('runs a book from creation to redemption', async () => {
    const asAdmin = createCouponClient(`${api.base}/`, { token: await admin() });
    expect(await asAdmin.health()).toEqual({ status: 'ok' });

    const book = await asAdmin.createBook({ name: 'Client book', maxCodesPerUser: 2, discount: { type: 'fixed', value: 5, currency: 'EUR' } });
    expect(book).toMatchObject({ name: 'Client book', status: 'active', maxCodesPerUser: 2 });
    expect((await asAdmin.listBooks({ limit: 100 })).items.map((b) => b.id)).toContain(book.id);
    expect(await asAdmin.updateBook(book.id, { name: 'Client book, renamed' })).toMatchObject({ name: 'Client book, renamed' });

    const codes = [uniqueCode('CLI'), uniqueCode('CLI'), ' lower-case-ok ', 'x'];
    const uploaded = await asAdmin.uploadCodes({ bookId: book.id, codes });
    expect(uploaded.inserted).toBe(3);
    expect(uploaded.invalid.map((i) => i.code)).toEqual(['x']);
    const generated = await asAdmin.generateCodes({ bookId: book.id, count: 3, pattern: 'CLI-####-????' });
    expect(generated.generated).toBe(3);
    expect((await asAdmin.getBook(book.id)).stats).toMatchObject({ codes: 6, available: 6 });

    // A service assigns a named code to a user, and redeems it in one step.
    const asService = createCouponClient(api.base, { token: () => service() });
    const named = await asService.assignCode(codes[0]!, { userId: 'client-u2' });
    expect(named).toMatchObject({ code: codes[0], userId: 'client-u2', status: 'active' });
    const direct = await asService.redeem(codes[0]!, { userId: 'client-u2', orderId: 'order-direct' });
    expect(direct.redemptionId).toEqual(expect.any(String));

    // The user's checkout: claim and lock, unlock (payment failed), lock again, redeem.
    const asUser = createCouponClient(api.base, { token: await user('client-u1') });
    const held = await asUser.claimAndLock(book.id, { ttlSeconds: 60 });
    expect(held).toMatchObject({ bookId: book.id, userId: 'client-u1', status: 'locked' });
    expect(held.lockId).toEqual(expect.any(String));
    expect((await asUser.unlock(held.code, { lockId: held.lockId })).status).toBe('active');
    const lock = await asUser.lock(held.code, { ttlSeconds: 30 });
    expect(lock.status).toBe('locked');
    const redeemed = await asUser.redeem(held.code, { lockId: lock.lockId, orderId: 'order-1' });
    expect(redeemed).toMatchObject({ code: held.code, status: 'redeemed', redemptionCount: 1 });

    // A second, plain assignment for the same user (cap 2), then their list.
    const second = await asUser.assign({ bookId: book.id });
    const mine = await asUser.listUserCoupons('client-u1', { bookId: book.id, limit: 10 });
    expect(mine.items.map((i) => i.code).sort()).toEqual([held.code, second.code].sort());
    const redeemedOnly = await asUser.listUserCoupons('client-u1', { status: 'redeemed' });
    expect(redeemedOnly.items.map((i) => i.code)).toEqual([held.code]);
  });

  it('throws CouponApiError with the documented code, message, details and request id', async () => {
    const anonymous = createCouponClient(api.base);
    const unauth = await anonymous.listBooks().catch((e: unknown) => e);
    expect(unauth).toBeInstanceOf(CouponApiError);
    expect(unauth).toMatchObject({ status: 401, code: 'UNAUTHENTICATED', retryable: false });
    expect((unauth as CouponApiError).requestId).toEqual(expect.any(String));

    const asAdmin = createCouponClient(api.base, { token: await admin() });
    const invalid = await asAdmin.createBook({ name: 'x', lockTtlSeconds: 0 }).catch((e: unknown) => e);
    expect(invalid).toMatchObject({ status: 400, code: 'VALIDATION_FAILED' });
    expect((invalid as CouponApiError).details).toEqual(expect.arrayContaining([expect.objectContaining({ field: 'lockTtlSeconds' })]));

    const missing = await asAdmin.getBook('no-such-book').catch((e: unknown) => e);
    expect(missing).toMatchObject({ status: 404, code: 'BOOK_NOT_FOUND' });

    const empty = await asAdmin.createBook({ name: 'Empty' });
    const exhausted = await createCouponClient(api.base, { token: await user('client-u3') }).claimAndLock(empty.id).catch((e: unknown) => e);
    expect(exhausted).toMatchObject({ status: 409, code: 'BOOK_EXHAUSTED' });
  });

  it('sends the token, Idempotency-Key and extra headers; encodes path segments and queries', async () => {
    const seen: { url: string; headers: Headers; method: string }[] = [];
    const recording: typeof fetch = async (input, init) => {
      seen.push({ url: String(input), headers: new Headers(init?.headers), method: init?.method ?? 'GET' });
      return new Response(JSON.stringify({ items: [], nextCursor: null }), { status: 200, headers: { 'content-type': 'application/json' } });
    };
    const client = createCouponClient('https://api.example.com/', { token: () => 'tok', fetch: recording, headers: { 'x-app-version': '3.1' } });
    await client.listUserCoupons('user/with space', { cursor: 'a+b=', limit: 5, bookId: undefined });
    await client.redeem('SUMMER 1', { orderId: 'o1' }, { idempotencyKey: 'redeem-o1' });
    expect(seen[0]!.url).toBe('https://api.example.com/users/user%2Fwith%20space/coupons?cursor=a%2Bb%3D&limit=5');
    expect(seen[0]!.headers.get('authorization')).toBe('Bearer tok');
    expect(seen[0]!.headers.get('x-app-version')).toBe('3.1');
    expect(seen[0]!.headers.has('content-type')).toBe(false);
    expect(seen[1]).toMatchObject({ method: 'POST', url: 'https://api.example.com/coupons/redeem/SUMMER%201' });
    expect(seen[1]!.headers.get('idempotency-key')).toBe('redeem-o1');
    expect(seen[1]!.headers.get('content-type')).toBe('application/json');
  });

  it('exposes the API schemas as types', () => {
    expectTypeOf<Book['status']>().toEqualTypeOf<'active' | 'paused'>();
    expectTypeOf<CodeStatus>().toEqualTypeOf<'active' | 'locked' | 'redeemed' | 'expired'>();
    expectTypeOf<ClaimResult['lockId']>().toEqualTypeOf<string>();
    expectTypeOf<CreateBookInput>().toHaveProperty('name').toEqualTypeOf<string>();
    const client = createCouponClient('http://unused');
    expectTypeOf(client.redeem).returns.resolves.toHaveProperty('redemptionId').toEqualTypeOf<string>();
    // @ts-expect-error a book needs a name
    expectTypeOf(client.createBook).toBeCallableWith({ description: 'no name' });
    // @ts-expect-error discount.type is 'percentage' | 'fixed'
    expectTypeOf(client.createBook).toBeCallableWith({ name: 'x', discount: { type: 'bogo', value: 1 } });
  });
});

it('examples/checkout.ts claims, locks and redeems against a real server', async () => {
  const asAdmin = createCouponClient(api.base, { token: await admin() });
  const book = await asAdmin.createBook({ name: 'Example book' });
  await asAdmin.uploadCodes({ bookId: book.id, codes: [uniqueCode('EX')] });
  const example = join(dirname(fileURLToPath(import.meta.url)), '..', 'examples', 'checkout.ts');
  const tsx = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'node_modules', '.bin', 'tsx');
  const token = await user('example-u1');
  const out = await runProcess(tsx, [example], {
    env: { ...process.env, COUPONS_URL: api.base, COUPONS_TOKEN: token, BOOK_ID: book.id },
  });
  expect(out.code, out.stderr).toBe(0);
  expect(out.stdout).toMatch(/holding EX-\S+ until /);
  expect(out.stdout).toMatch(/redeemed EX-\S+ \(redeemed\), redemption \S+/);
  const mine = await asAdmin.listUserCoupons('example-u1');
  expect(mine.items).toEqual([expect.objectContaining({ bookId: book.id, status: 'redeemed' })]);
});
