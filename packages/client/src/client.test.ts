import { runProcess } from '../../../scripts/lib/run-process.ts';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, expectTypeOf, it } from 'vitest';
import { installFaultInjection } from '@coupons/core';
// Relative imports: the workspace link node_modules/@coupons/client exists only after `npm install`.
import { admin, service, startTestApi, uniqueCode, user, type TestApi } from '../../../test/support/harness.ts';
import { CouponApiError, createCouponClient, unwrap, type CouponClient, type InferRequestType, type Success } from './index.ts';

// The client against a real server (HTTP, SDK, DynamoDB Local): every route once, the error
// shape, retries against real 503s (DynamoDB throttling injected in the SDK, as test/faults
// does), and the types it infers from the app.

let api: TestApi;
let faults: ReturnType<typeof installFaultInjection>;
beforeAll(async () => {
  api = await startTestApi('client');
  faults = installFaultInjection(api.core.store.client);
});
afterEach(() => faults.clear());
afterAll(() => api.close());

/** A fetch that passes through to the server and records each attempt the retry layer makes. */
function recordingFetch(onAttempt?: (n: number) => void) {
  const attempts: { at: number; method: string; url: string; headers: Headers; status: number }[] = [];
  const doFetch: typeof fetch = async (input, init) => {
    const request = new Request(input, init);
    const res = await fetch(request);
    attempts.push({ at: performance.now(), method: request.method, url: request.url, headers: request.headers, status: res.status });
    onAttempt?.(attempts.length);
    return res;
  };
  return { attempts, fetch: doFetch };
}

describe('@coupons/client', () => {
  it('runs a book from creation to redemption through every route', async () => {
    const asAdmin = createCouponClient(`${api.base}/`, { token: await admin() });
    expect(await unwrap(asAdmin.health.$get())).toEqual({ status: 'ok' });

    const book = await unwrap(
      asAdmin.coupons.$post({ json: { name: 'Client book', maxCodesPerUser: 2, discount: { type: 'fixed', value: 5, currency: 'EUR' } } }),
    );
    expect(book).toMatchObject({ name: 'Client book', status: 'active', maxCodesPerUser: 2 });
    const listed = await unwrap(asAdmin.coupons.$get({ query: { limit: '100' } }));
    expect(listed.items.map((b) => b.id)).toContain(book.id);
    const bookParam = { param: { bookId: book.id } };
    expect(await unwrap(asAdmin.coupons[':bookId'].$patch({ ...bookParam, header: {}, json: { name: 'Client book, renamed' } }))).toMatchObject({
      name: 'Client book, renamed',
    });

    const codes = [uniqueCode('CLI'), uniqueCode('CLI'), ' lower-case-ok ', 'x'];
    const uploaded = await unwrap(asAdmin.coupons.codes.$post({ json: { bookId: book.id, codes } }));
    expect(uploaded.inserted).toBe(3);
    expect(uploaded.invalid.map((i) => i.code)).toEqual(['x']);
    const generated = await unwrap(asAdmin.coupons.codes.generate.$post({ json: { bookId: book.id, count: 3, pattern: 'CLI-####-????' } }));
    expect('generated' in generated && generated.generated).toBe(3);
    expect((await unwrap(asAdmin.coupons[':bookId'].$get(bookParam))).stats).toMatchObject({ codes: 6, available: 6 });

    // A service assigns a named code to a user, and redeems it in one step.
    const asService = createCouponClient(api.base, { token: () => service() });
    const named = await unwrap(asService.coupons.assign[':code'].$post({ param: { code: codes[0]! }, json: { userId: 'client-u2' } }));
    expect(named).toMatchObject({ code: codes[0], userId: 'client-u2', status: 'active' });
    const direct = await unwrap(asService.coupons.redeem[':code'].$post({ param: { code: codes[0]! }, json: { userId: 'client-u2', orderId: 'order-direct' } }));
    expect(direct.redemptionId).toEqual(expect.any(String));

    // The user's checkout: claim and lock, unlock (payment failed), lock again, redeem.
    const asUser = createCouponClient(api.base, { token: await user('client-u1') });
    const held = await unwrap(asUser.coupons.assign.$post({ json: { bookId: book.id, lock: true, ttlSeconds: 60 } }));
    expect(held).toMatchObject({ bookId: book.id, userId: 'client-u1', status: 'locked', lockId: expect.any(String) });
    const code = { param: { code: held.code } };
    expect((await unwrap(asUser.coupons.unlock[':code'].$post({ ...code, json: { lockId: held.lockId } }))).status).toBe('active');
    const lock = await unwrap(asUser.coupons.lock[':code'].$post({ ...code, json: { ttlSeconds: 30 } }));
    expect(lock.status).toBe('locked');
    const redeemed = await unwrap(asUser.coupons.redeem[':code'].$post({ ...code, json: { lockId: lock.lockId, orderId: 'order-1' } }));
    expect(redeemed).toMatchObject({ code: held.code, status: 'redeemed', redemptionCount: 1 });

    // A second, plain assignment for the same user (cap 2), then their list.
    const second = await unwrap(asUser.coupons.assign.$post({ json: { bookId: book.id } }));
    const mine = await unwrap(asUser.users[':userId'].coupons.$get({ param: { userId: 'client-u1' }, query: { bookId: book.id, limit: '10' } }));
    expect(mine.items.map((i) => i.code).sort()).toEqual([held.code, second.code].sort());
    const redeemedOnly = await unwrap(asUser.users[':userId'].coupons.$get({ param: { userId: 'client-u1' }, query: { status: 'redeemed' } }));
    expect(redeemedOnly.items.map((i) => i.code)).toEqual([held.code]);
  });

  it('a large generation answers 202 with a job the client can poll', async () => {
    const asAdmin = createCouponClient(api.base, { token: await admin() });
    const book = await unwrap(asAdmin.coupons.$post({ json: { name: 'Job book' } }));
    const res = await asAdmin.coupons.codes.generate.$post({ json: { bookId: book.id, count: 10_001, pattern: 'JOB-********' } });
    expect(res.status).toBe(202);
    if (res.status !== 202) return;
    const { jobId } = await res.json();
    const job = await unwrap(asAdmin.jobs[':jobId'].$get({ param: { jobId } }));
    expect(job).toMatchObject({ id: jobId, bookId: book.id, total: 10_001 });
  });

  it('throws CouponApiError with the documented code, message, details and request id', async () => {
    const anonymous = createCouponClient(api.base);
    const unauth = await unwrap(anonymous.coupons.$get({ query: {} })).catch((e: unknown) => e);
    expect(unauth).toBeInstanceOf(CouponApiError);
    expect(unauth).toMatchObject({ status: 401, code: 'UNAUTHENTICATED', retryable: false });
    expect((unauth as CouponApiError).requestId).toEqual(expect.any(String));

    const asAdmin = createCouponClient(api.base, { token: await admin() });
    const invalid = await unwrap(asAdmin.coupons.$post({ json: { name: 'x', lockTtlSeconds: 0 } })).catch((e: unknown) => e);
    expect(invalid).toMatchObject({ status: 400, code: 'VALIDATION_FAILED' });
    expect((invalid as CouponApiError).details).toEqual(expect.arrayContaining([expect.objectContaining({ field: 'lockTtlSeconds' })]));

    const missing = await unwrap(asAdmin.coupons[':bookId'].$get({ param: { bookId: 'no-such-book' } })).catch((e: unknown) => e);
    expect(missing).toMatchObject({ status: 404, code: 'BOOK_NOT_FOUND' });

    const empty = await unwrap(asAdmin.coupons.$post({ json: { name: 'Empty' } }));
    const asUser = createCouponClient(api.base, { token: await user('client-u3') });
    const exhausted = await unwrap(asUser.coupons.assign.$post({ json: { bookId: empty.id, lock: true } })).catch((e: unknown) => e);
    expect(exhausted).toMatchObject({ status: 409, code: 'BOOK_EXHAUSTED' });
  });

  it('sends the token, extra headers and an Idempotency-Key on every POST (the caller\'s when given, only that with idempotencyKeys: false); encodes paths and queries', async () => {
    const { attempts, fetch } = recordingFetch();
    const client = createCouponClient(api.base, { token: () => admin(), fetch, headers: { 'x-app-version': '3.1' } });
    await client.users[':userId'].coupons.$get({ param: { userId: 'user/with space' }, query: { cursor: 'a+b=', limit: '5' } });
    const book = await unwrap(client.coupons.$post({ json: { name: 'Keyed' } }));
    await client.coupons.assign.$post({ json: { bookId: book.id, userId: 'u' } }, { headers: { 'idempotency-key': 'assign-o1' } });
    expect(attempts[0]!.url).toBe(`${api.base}/users/user%2Fwith%20space/coupons?cursor=a%2Bb%3D&limit=5`);
    expect(attempts[0]!.headers.get('authorization')).toMatch(/^Bearer ey/);
    expect(attempts[0]!.headers.get('x-app-version')).toBe('3.1');
    expect(attempts[0]!.headers.has('idempotency-key')).toBe(false);
    expect(attempts[1]!.headers.get('idempotency-key')).toMatch(/^[0-9a-f-]{36}$/);
    expect(attempts[2]!.headers.get('idempotency-key')).toBe('assign-o1');
    expect(attempts[2]!.headers.get('content-type')).toMatch(/^application\/json/);
    // A typed code is a path segment, never a query or another path: `CODE?x` is refused, not read as `CODE`.
    const odd = await unwrap(client.coupons.lock[':code'].$post({ param: { code: `${uniqueCode('Q')}?userId=x` }, json: {} })).catch((e) => e);
    expect(odd).toMatchObject({ status: 400, code: 'VALIDATION_FAILED' });
    expect(attempts.at(-1)!.url).toMatch(/\/coupons\/lock\/Q-\w+%3FuserId%3Dx$/);

    // `idempotencyKeys: false`: a POST carries only the key its call passes.
    const keyless = recordingFetch();
    const plain = createCouponClient(api.base, { token: () => admin(), fetch: keyless.fetch, idempotencyKeys: false });
    await plain.coupons.$post({ json: { name: 'Unkeyed' } });
    await plain.coupons.$post({ json: { name: 'Keyed by the caller' } }, { headers: { 'idempotency-key': 'book-o2' } });
    expect(keyless.attempts.map((a) => [a.status, a.headers.get('idempotency-key')])).toEqual([[201, null], [201, 'book-o2']]);
  });

  it('retries a 503 after its Retry-After under the same Idempotency-Key, and the work is done once', async () => {
    const asAdmin = createCouponClient(api.base, { token: await admin() });
    const book = await unwrap(asAdmin.coupons.$post({ json: { name: 'Retry book' } }));
    await unwrap(asAdmin.coupons.codes.$post({ json: { bookId: book.id, codes: [uniqueCode('RT'), uniqueCode('RT')] } }));

    // Every transaction throttled until the first HTTP attempt has answered (503, Retry-After: 1).
    faults.inject('Throttling', 1000, 'TransactWriteItemsCommand');
    const { attempts, fetch } = recordingFetch(() => faults.clear());
    const client = createCouponClient(api.base, { token: await user('retry-u1'), fetch });
    const held = await unwrap(client.coupons.assign.$post({ json: { bookId: book.id } }));

    expect(attempts.map((a) => a.status)).toEqual([503, 201]);
    expect(attempts[1]!.at - attempts[0]!.at).toBeGreaterThanOrEqual(950);
    expect(attempts[1]!.headers.get('idempotency-key')).toBe(attempts[0]!.headers.get('idempotency-key'));
    const mine = await unwrap(asAdmin.users[':userId'].coupons.$get({ param: { userId: 'retry-u1' }, query: {} }));
    expect(mine.items.map((i) => i.code)).toEqual([held.code]);
  });

  it('gives up after its limit with the last answer, and never retries a 4xx about the request', async () => {
    const asAdmin = createCouponClient(api.base, { token: await admin() });
    const book = await unwrap(asAdmin.coupons.$post({ json: { name: 'Give-up book' } }));
    await unwrap(asAdmin.coupons.codes.$post({ json: { bookId: book.id, codes: [uniqueCode('GU')] } }));

    faults.inject('Throttling', 1000, 'TransactWriteItemsCommand');
    const throttled = recordingFetch();
    const once = createCouponClient(api.base, { token: await user('giveup-u1'), fetch: throttled.fetch, retry: { limit: 1 } });
    const failed = await unwrap(once.coupons.assign.$post({ json: { bookId: book.id } })).catch((e: unknown) => e);
    expect(failed).toMatchObject({ status: 503, code: 'UNAVAILABLE', retryAfterSeconds: 1, retryable: true });
    expect(throttled.attempts.map((a) => a.status)).toEqual([503, 503]);
    faults.clear();

    const conflict = recordingFetch();
    const client = createCouponClient(api.base, { token: await admin(), fetch: conflict.fetch });
    const empty = await unwrap(client.coupons.$post({ json: { name: 'Empty' } }));
    const exhausted = await unwrap(client.coupons.assign.$post({ json: { bookId: empty.id, userId: 'u' } })).catch((e: unknown) => e);
    expect(exhausted).toMatchObject({ status: 409, code: 'BOOK_EXHAUSTED' });
    expect(conflict.attempts.map((a) => a.status)).toEqual([201, 409]);
  });

  // expectTypeOf does nothing at run time: `npm test` runs `tsc --noEmit` over the tests first, and
  // that is what fails when an inferred type changes.
  it('infers every route, its inputs and its answers from the app', () => {
    type Client = CouponClient;
    type Book = Success<Awaited<ReturnType<Client['coupons']['$post']>>>;
    expectTypeOf<Book['status']>().toEqualTypeOf<'active' | 'paused'>();
    type Coupons = Success<Awaited<ReturnType<Client['users'][':userId']['coupons']['$get']>>>;
    expectTypeOf<Coupons['items'][number]['status']>().toEqualTypeOf<'active' | 'locked' | 'redeemed' | 'expired'>();
    type Redeemed = Success<Awaited<ReturnType<Client['coupons']['redeem'][':code']['$post']>>>;
    expectTypeOf<Redeemed['redemptionId']>().toEqualTypeOf<string>();
    type Generated = Success<Awaited<ReturnType<Client['coupons']['codes']['generate']['$post']>>>;
    // 201 with the codes, or 202 with a job.
    expectTypeOf<Extract<Generated, { jobId: unknown }>['jobId']>().toEqualTypeOf<string>();
    expectTypeOf<Extract<Generated, { codes: unknown }>['codes']>().toEqualTypeOf<string[]>();
    type CreateBook = InferRequestType<Client['coupons']['$post']>['json'];
    expectTypeOf<CreateBook>().toHaveProperty('name').toEqualTypeOf<string>();
    const client = createCouponClient('http://unused');
    // @ts-expect-error a book needs a name
    expectTypeOf(client.coupons.$post).toBeCallableWith({ json: { description: 'no name' } });
    // @ts-expect-error discount.type is 'percentage' | 'fixed'
    expectTypeOf(client.coupons.$post).toBeCallableWith({ json: { name: 'x', discount: { type: 'bogo', value: 1 } } });
  });
});

it('examples/checkout.ts claims, locks and redeems against a real server', async () => {
  const asAdmin = createCouponClient(api.base, { token: await admin() });
  const book = await unwrap(asAdmin.coupons.$post({ json: { name: 'Example book' } }));
  await unwrap(asAdmin.coupons.codes.$post({ json: { bookId: book.id, codes: [uniqueCode('EX')] } }));
  const example = join(dirname(fileURLToPath(import.meta.url)), '..', 'examples', 'checkout.ts');
  const tsx = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'node_modules', '.bin', 'tsx');
  const token = await user('example-u1');
  const out = await runProcess(tsx, [example], {
    env: { ...process.env, COUPONS_URL: api.base, COUPONS_TOKEN: token, BOOK_ID: book.id },
  });
  expect(out.code, out.stderr).toBe(0);
  expect(out.stdout).toMatch(/holding EX-\S+ until /);
  expect(out.stdout).toMatch(/redeemed EX-\S+ \(redeemed\), redemption \S+/);
  const mine = await unwrap(asAdmin.users[':userId'].coupons.$get({ param: { userId: 'example-u1' }, query: {} }));
  expect(mine.items).toEqual([expect.objectContaining({ bookId: book.id, status: 'redeemed' })]);
});
