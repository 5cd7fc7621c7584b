import { unwrap } from '@coupons/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { admin, bookWithCodes, expectError, service, startTestApi, user, type TestApi } from './support/harness.ts';

// Every route, given bad input, answers a precise 4xx in the documented shape
// and leaves the table exactly as it was.
let api: TestApi;
let bookId: string;
let heldCode: string;
let freeCode: string;

beforeAll(async () => {
  api = await startTestApi('bad-input');
  const { book, codes } = await bookWithCodes(api, 3, { maxCodesPerUser: 2 });
  bookId = book.id;
  heldCode = (await unwrap(api.client(await service()).coupons.assign[':code'].$post({ param: { code: codes[0]! }, json: { userId: 'u1' } }))).code;
  freeCode = codes[1]!;
});
afterAll(() => api.close());

// Bodies that name fixtures are functions: the fixtures exist only once beforeAll has run.
type Case = [name: string, method: string, path: () => string, token: () => Promise<string>, body: unknown, status: number, code: string];

const A = () => admin();
const S = () => service();
const U = () => user('u1');

const cases: Case[] = [
  // POST /coupons
  ['create: empty body', 'POST', () => '/coupons', A, {}, 400, 'VALIDATION_FAILED'],
  ['create: blank name', 'POST', () => '/coupons', A, { name: '  ' }, 400, 'VALIDATION_FAILED'],
  ['create: maxRedemptionsPerUser 0', 'POST', () => '/coupons', A, { name: 'x', maxRedemptionsPerUser: 0 }, 400, 'VALIDATION_FAILED'],
  ['create: maxCodesPerUser 1.5', 'POST', () => '/coupons', A, { name: 'x', maxCodesPerUser: 1.5 }, 400, 'VALIDATION_FAILED'],
  ['create: lockTtlSeconds 86401', 'POST', () => '/coupons', A, { name: 'x', lockTtlSeconds: 86_401 }, 400, 'VALIDATION_FAILED'],
  ['create: validUntil not a date', 'POST', () => '/coupons', A, { name: 'x', validUntil: 'tomorrow' }, 400, 'VALIDATION_FAILED'],
  ['create: window reversed', 'POST', () => '/coupons', A, { name: 'x', validFrom: '2030-01-02T00:00:00Z', validUntil: '2030-01-01T00:00:00Z' }, 400, 'VALIDATION_FAILED'],
  ['create: percentage over 100', 'POST', () => '/coupons', A, { name: 'x', discount: { type: 'percentage', value: 120 } }, 400, 'VALIDATION_FAILED'],
  ['create: fixed without currency', 'POST', () => '/coupons', A, { name: 'x', discount: { type: 'fixed', value: 5 } }, 400, 'VALIDATION_FAILED'],
  ['create: bad pattern', 'POST', () => '/coupons', A, { name: 'x', codePattern: 'AB' }, 400, 'VALIDATION_FAILED'],
  ['create: unknown field', 'POST', () => '/coupons', A, { name: 'x', owner: 'me' }, 400, 'VALIDATION_FAILED'],
  ['create: array body', 'POST', () => '/coupons', A, [1, 2], 400, 'VALIDATION_FAILED'],
  ['create: by a service', 'POST', () => '/coupons', S, { name: 'x' }, 403, 'FORBIDDEN'],
  // GET /coupons, /coupons/{id}, PATCH
  ['list: limit 0', 'GET', () => '/coupons?limit=0', A, undefined, 400, 'VALIDATION_FAILED'],
  ['list: limit abc', 'GET', () => '/coupons?limit=abc', A, undefined, 400, 'VALIDATION_FAILED'],
  ['get: unknown book', 'GET', () => '/coupons/nope', A, undefined, 404, 'BOOK_NOT_FOUND'],
  ['patch: empty', 'PATCH', () => `/coupons/${bookId}`, A, {}, 400, 'VALIDATION_FAILED'],
  ['patch: bad status', 'PATCH', () => `/coupons/${bookId}`, A, { status: 'closed' }, 400, 'VALIDATION_FAILED'],
  ['patch: immutable field', 'PATCH', () => `/coupons/${bookId}`, A, { maxCodesPerUser: 9 }, 400, 'VALIDATION_FAILED'],
  ['patch: unknown book', 'PATCH', () => '/coupons/nope', A, { name: 'y' }, 404, 'BOOK_NOT_FOUND'],
  // uploads and generation
  ['upload: no codes', 'POST', () => '/coupons/codes', A, () => ({ bookId: 'x', codes: [] }), 400, 'VALIDATION_FAILED'],
  ['upload: codes not strings', 'POST', () => '/coupons/codes', A, () => ({ bookId: 'x', codes: [1, 2] }), 400, 'VALIDATION_FAILED'],
  ['upload: 5001 codes', 'POST', () => '/coupons/codes', A, () => ({ bookId: 'x', codes: Array.from({ length: 5001 }, (_, i) => `C${i}XX`) }), 400, 'VALIDATION_FAILED'],
  ['upload: unknown book', 'POST', () => '/coupons/codes', A, () => ({ bookId: 'nope', codes: ['ABCDEF'] }), 404, 'BOOK_NOT_FOUND'],
  ['upload: by a user', 'POST', () => '/coupons/codes', U, () => ({ bookId: 'x', codes: ['ABCDEF'] }), 403, 'FORBIDDEN'],
  ['generate: count 0', 'POST', () => '/coupons/codes/generate', A, () => ({ bookId: 'x', count: 0 }), 400, 'VALIDATION_FAILED'],
  ['generate: count above 10,000,000', 'POST', () => '/coupons/codes/generate', A, () => ({ bookId: 'x', count: 10_000_001 }), 400, 'VALIDATION_FAILED'],
  ['generate: no pattern anywhere', 'POST', () => '/coupons/codes/generate', A, () => ({ bookId, count: 5 }), 400, 'VALIDATION_FAILED'],
  ['generate: pattern too small', 'POST', () => '/coupons/codes/generate', A, () => ({ bookId, count: 50, pattern: 'AB-##' }), 400, 'VALIDATION_FAILED'],
  ['generate: unknown book', 'POST', () => '/coupons/codes/generate', A, () => ({ bookId: 'nope', count: 5, pattern: 'X-****' }), 404, 'BOOK_NOT_FOUND'],
  // assignment
  ['assign: no bookId', 'POST', () => '/coupons/assign', U, {}, 400, 'VALIDATION_FAILED'],
  ['assign: lock not boolean', 'POST', () => '/coupons/assign', U, () => ({ bookId, lock: 'yes' }), 400, 'VALIDATION_FAILED'],
  ['assign: ttl 0', 'POST', () => '/coupons/assign', U, () => ({ bookId, lock: true, ttlSeconds: 0 }), 400, 'VALIDATION_FAILED'],
  ['assign: service without userId', 'POST', () => '/coupons/assign', S, () => ({ bookId }), 400, 'VALIDATION_FAILED'],
  ['assign: user naming another user', 'POST', () => '/coupons/assign', U, () => ({ bookId, userId: 'u2' }), 403, 'FORBIDDEN'],
  ['assign: unknown book', 'POST', () => '/coupons/assign', U, () => ({ bookId: 'nope' }), 404, 'BOOK_NOT_FOUND'],
  ['assign named: by a user', 'POST', () => `/coupons/assign/${freeCode}`, U, { userId: 'u1' }, 403, 'FORBIDDEN'],
  ['assign named: bad code', 'POST', () => '/coupons/assign/a!', S, { userId: 'u1' }, 400, 'VALIDATION_FAILED'],
  ['assign named: no userId', 'POST', () => `/coupons/assign/${freeCode}`, S, {}, 400, 'VALIDATION_FAILED'],
  ['assign named: unknown code', 'POST', () => '/coupons/assign/NOPE-NOPE', S, { userId: 'u1' }, 404, 'CODE_NOT_FOUND'],
  ['assign named: taken', 'POST', () => `/coupons/assign/${heldCode}`, S, { userId: 'u2' }, 409, 'CODE_ALREADY_ASSIGNED'],
  ['assign named: wrong book', 'POST', () => `/coupons/assign/${freeCode}`, S, () => ({ userId: 'u1', bookId: 'other' }), 404, 'CODE_NOT_FOUND'],
  // lock / unlock / redeem
  ['lock: ttl too long', 'POST', () => `/coupons/lock/${heldCode}`, U, { ttlSeconds: 90_000 }, 400, 'VALIDATION_FAILED'],
  ['lock: unknown field', 'POST', () => `/coupons/lock/${heldCode}`, U, { force: true }, 400, 'VALIDATION_FAILED'],
  ['lock: unassigned code', 'POST', () => `/coupons/lock/${freeCode}`, S, {}, 404, 'CODE_NOT_FOUND'],
  ['lock: another user', 'POST', () => `/coupons/lock/${heldCode}`, () => user('u2'), {}, 404, 'CODE_NOT_FOUND'],
  ['lock: service naming the wrong user', 'POST', () => `/coupons/lock/${heldCode}`, S, { userId: 'u2' }, 404, 'CODE_NOT_FOUND'],
  ['unlock: bad lockId', 'POST', () => `/coupons/unlock/${heldCode}`, U, { lockId: 'not-a-uuid' }, 400, 'VALIDATION_FAILED'],
  ['unlock: not locked', 'POST', () => `/coupons/unlock/${heldCode}`, U, {}, 409, 'CODE_NOT_LOCKED'],
  ['redeem: orderId empty', 'POST', () => `/coupons/redeem/${heldCode}`, U, { orderId: '' }, 400, 'VALIDATION_FAILED'],
  ['redeem: context not an object', 'POST', () => `/coupons/redeem/${heldCode}`, U, { context: 'x' }, 400, 'VALIDATION_FAILED'],
  ['redeem: another user', 'POST', () => `/coupons/redeem/${heldCode}`, () => user('u2'), {}, 404, 'CODE_NOT_FOUND'],
  ['redeem: code too long', 'POST', () => `/coupons/redeem/${'A'.repeat(65)}`, U, {}, 400, 'VALIDATION_FAILED'],
  // listing
  ['list coupons: another user', 'GET', () => '/users/u2/coupons', U, undefined, 403, 'FORBIDDEN'],
  ['list coupons: bad status', 'GET', () => '/users/u1/coupons?status=gone', U, undefined, 400, 'VALIDATION_FAILED'],
  ['list coupons: limit 1000', 'GET', () => '/users/u1/coupons?limit=1000', U, undefined, 400, 'VALIDATION_FAILED'],
  ['list coupons: forged cursor', 'GET', () => '/users/u1/coupons?cursor=bm90LWEtY3Vyc29y', U, undefined, 400, 'VALIDATION_FAILED'],
];

describe('bad input on every route', () => {
  it.each(cases)('%s: precise 4xx, table unchanged', async (_name, method, path, token, body, status, code) => {
    const before = await api.scanState();
    const r = await api.call(method, path(), { token: await token(), body: typeof body === 'function' ? body() : body });
    expectError(r, status, code);
    expect(await api.scanState()).toEqual(before);
  });

  it('malformed JSON on every POST and PATCH → 400 MALFORMED_JSON, table unchanged', async () => {
    const before = await api.scanState();
    const token = await admin();
    for (const [method, path] of [
      ['POST', '/coupons'],
      ['PATCH', `/coupons/${bookId}`],
      ['POST', '/coupons/codes'],
      ['POST', '/coupons/codes/generate'],
      ['POST', '/coupons/assign'],
      ['POST', `/coupons/assign/${freeCode}`],
      ['POST', `/coupons/lock/${heldCode}`],
      ['POST', `/coupons/unlock/${heldCode}`],
      ['POST', `/coupons/redeem/${heldCode}`],
    ] as const) {
      expectError(await api.call(method, path, { token, raw: '{"name": "x",' }), 400, 'MALFORMED_JSON');
    }
    expect(await api.scanState()).toEqual(before);
  });

  it('no error body ever carries a stack trace or an AWS error name', async () => {
    const r = await api.call('POST', '/coupons/assign', { token: await user('u1'), body: { bookId: 'x'.repeat(129) } });
    expect(r.status).toBe(400);
    expect(r.text).not.toMatch(/at \w+ \(|Exception|ConditionalCheck|node_modules/);
  });
  // Last: the server answers before reading the whole body, which spoils the client's kept-alive socket.
  it('a body over 1 MiB → 413 PAYLOAD_TOO_LARGE, table unchanged', async () => {
    const before = await api.scanState();
    const raw = JSON.stringify({ name: 'x', description: 'y'.repeat(1024 * 1024 + 10) });
    expectError(await api.call('POST', '/coupons', { token: await admin(), raw }), 413, 'PAYLOAD_TOO_LARGE');
    expect(await api.scanState()).toEqual(before);
  });
});
