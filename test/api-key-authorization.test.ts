import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deliveryShard, useJobDispatcher } from '@coupons/core';
import { admin, bookWithCodes, service, startTestApi, uniqueCode, type CallResult, type TestApi } from './support/harness.ts';

// A key acts as its role within its tenant, on every route: each authenticated operation of
// /openapi.json is called by a service token, a service key, an admin token and an admin key,
// each on a fixture of its own, and must answer as this table says. A key answers exactly as a
// token of its role, except on /api-keys, where every key is 403. A route the app documents
// without a row here fails the test: how keys fare on it must be decided, not assumed.

type Caller = 'serviceToken' | 'serviceKey' | 'adminToken' | 'adminKey';
const CALLERS: Caller[] = ['serviceToken', 'serviceKey', 'adminToken', 'adminKey'];
type Outcome = number | string;
const FORBID = '403 FORBIDDEN';

/** Per route: what a service and an admin get. Keys get their role's outcome, except where `keys` says. */
const EXPECTED: Record<string, { service: Outcome; admin: Outcome; keys?: Outcome }> = {
  'POST /coupons': { service: FORBID, admin: 201 },
  'GET /coupons': { service: FORBID, admin: 200 },
  'GET /coupons/{bookId}': { service: FORBID, admin: 200 },
  'PATCH /coupons/{bookId}': { service: FORBID, admin: 200 },
  'GET /coupons/{bookId}/codes': { service: FORBID, admin: 200 },
  'GET /coupons/{bookId}/activity': { service: FORBID, admin: 200 },
  'POST /coupons/codes': { service: FORBID, admin: 200 },
  'POST /coupons/codes/generate': { service: FORBID, admin: 201 },
  'GET /jobs/{jobId}': { service: FORBID, admin: 200 },
  'POST /coupons/assign': { service: 201, admin: 201 },
  'POST /coupons/assign/{code}': { service: 201, admin: 201 },
  'POST /coupons/lock/{code}': { service: 200, admin: 200 },
  'POST /coupons/unlock/{code}': { service: 200, admin: 200 },
  'POST /coupons/redeem/{code}': { service: 200, admin: 200 },
  'POST /redemptions/{redemptionId}/rollback': { service: 200, admin: 200 },
  'GET /coupons/codes/{code}': { service: 200, admin: 200 },
  'GET /users/{userId}/coupons': { service: 200, admin: 200 },
  'DELETE /users/{userId}': { service: FORBID, admin: 202 },
  'POST /webhooks': { service: FORBID, admin: 201 },
  'GET /webhooks': { service: FORBID, admin: 200 },
  'GET /webhooks/{id}': { service: FORBID, admin: 200 },
  'DELETE /webhooks/{id}': { service: FORBID, admin: 204 },
  'POST /webhooks/{id}/rotate-secret': { service: FORBID, admin: 200 },
  'GET /webhooks/{id}/deliveries': { service: FORBID, admin: 200 },
  'POST /webhooks/{id}/deliveries/{messageId}/resend': { service: FORBID, admin: 202 },
  'POST /api-keys': { service: FORBID, admin: 201, keys: FORBID },
  'GET /api-keys': { service: FORBID, admin: 200, keys: FORBID },
  'DELETE /api-keys/{keyId}': { service: FORBID, admin: 204, keys: FORBID },
};

const expectedFor = (row: (typeof EXPECTED)[string], caller: Caller): Outcome =>
  caller.endsWith('Key') && row.keys !== undefined ? row.keys : caller.startsWith('service') ? row.service : row.admin;

interface Request {
  method: string;
  path: string;
  body?: unknown;
}

let api: TestApi;
let credentials: Record<Caller, string>;
/** Fixtures, one per caller (indexed like CALLERS) where a success changes what the next caller would see. */
const f = {} as {
  bookId: string;
  poolBookId: string;
  free: string[];
  held: string[];
  heldForRedeem: string[];
  locked: string[];
  redemptionIds: string[];
  jobId: string;
  webhookId: string;
  webhooksToDelete: string[];
  failedMessages: string[];
  keysToRevoke: string[];
};

const createKey = async (role: 'service' | 'admin', name: string) => {
  const r = await api.call('POST', '/api-keys', { token: await admin('t1', 'key-maker'), body: { name, role } });
  if (r.status !== 201) throw new Error(`key: ${r.status} ${r.text}`);
  return r.json as { keyId: string; key: string };
};

beforeAll(async () => {
  api = await startTestApi('api-key-authz');
  const n = CALLERS.length;
  credentials = {
    serviceToken: await service('t1', 'svc-token'),
    serviceKey: (await createKey('service', 'service key')).key,
    adminToken: await admin('t1', 'admin-token'),
    adminKey: (await createKey('admin', 'admin key')).key,
  };
  const [{ book, codes }, pool] = await Promise.all([bookWithCodes(api, 5 * n), bookWithCodes(api, n)]);
  f.bookId = book.id;
  f.poolBookId = pool.book.id;
  f.free = codes.slice(0, n);
  f.held = codes.slice(n, 2 * n);
  f.heldForRedeem = codes.slice(2 * n, 3 * n);
  f.locked = codes.slice(3 * n, 4 * n);
  const redeemed = codes.slice(4 * n);
  const fixtures = await service('t1', 'fixtures');
  const post = async (path: string, body: unknown, status: number, token = fixtures) => {
    const r = await api.call('POST', path, { token, body });
    if (r.status !== status) throw new Error(`fixture ${path}: ${r.status} ${r.text}`);
    return r.json;
  };
  await Promise.all([...f.held, ...f.heldForRedeem, ...f.locked, ...redeemed].map((c) => post(`/coupons/assign/${c}`, { userId: 'owner' }, 201)));
  await Promise.all(f.locked.map((c) => post(`/coupons/lock/${c}`, { userId: 'owner', ttlSeconds: 3600 }, 200)));
  f.redemptionIds = await Promise.all(redeemed.map(async (c) => (await post(`/coupons/redeem/${c}`, { userId: 'owner' }, 200)).redemptionId));
  // A job that stays queued: a dispatcher that runs nothing, so no codes are written in the background.
  useJobDispatcher(api.core, { kind: 'test-noop', dispatch: async () => undefined });
  f.jobId = (await post('/coupons/codes/generate', { bookId: f.bookId, count: 10_001, pattern: 'JOB-********' }, 202, await admin())).jobId;
  const hookAdmin = await admin('t1', 'hook-admin');
  const hooks = await Promise.all(Array.from({ length: n + 1 }, () => post('/webhooks', { url: 'https://example.com/hooks' }, 201, hookAdmin)));
  f.webhookId = hooks[n]!.id;
  f.webhooksToDelete = hooks.slice(0, n).map((h) => h.id);
  // Failed messages to resend, as the delivery log holds them after the last attempt.
  f.failedMessages = Array.from({ length: n }, (_, i) => `msg_authz_${i}`);
  await Promise.all(
    f.failedMessages.map((messageId) =>
      api.core.store.webhookDelivery
        .put({
          tenant: 't1',
          webhookId: f.webhookId,
          shard: deliveryShard(messageId, api.core.config.WEBHOOK_DELIVERY_SHARDS),
          messageId,
          eventType: 'code.redeemed',
          lane: 'code:X',
          order: '1',
          body: '{}',
          status: 'failed',
          attempts: 9,
          createdAt: Date.now(),
        })
        .go(),
    ),
  );
  f.keysToRevoke = (await Promise.all(Array.from({ length: n }, (_, i) => createKey('service', `to revoke ${i}`)))).map((k) => k.keyId);
});
afterAll(() => api?.close());

const REQUESTS: Record<string, (i: number) => Request> = {
  'POST /coupons': () => ({ method: 'POST', path: '/coupons', body: { name: 'A book' } }),
  'GET /coupons': () => ({ method: 'GET', path: '/coupons?limit=5' }),
  'GET /coupons/{bookId}': () => ({ method: 'GET', path: `/coupons/${f.bookId}` }),
  'PATCH /coupons/{bookId}': () => ({ method: 'PATCH', path: `/coupons/${f.bookId}`, body: { description: 'edited' } }),
  'GET /coupons/{bookId}/codes': () => ({ method: 'GET', path: `/coupons/${f.bookId}/codes?limit=5` }),
  'GET /coupons/{bookId}/activity': () => ({ method: 'GET', path: `/coupons/${f.bookId}/activity?from=2026-12-01T00:00:00Z&to=2026-12-02T00:00:00Z` }),
  'POST /coupons/codes': () => ({ method: 'POST', path: '/coupons/codes', body: { bookId: f.bookId, codes: [uniqueCode('UP')] } }),
  'POST /coupons/codes/generate': () => ({ method: 'POST', path: '/coupons/codes/generate', body: { bookId: f.bookId, count: 1, pattern: 'GEN-********' } }),
  'GET /jobs/{jobId}': () => ({ method: 'GET', path: `/jobs/${f.jobId}` }),
  'POST /coupons/assign': () => ({ method: 'POST', path: '/coupons/assign', body: { bookId: f.poolBookId, userId: 'owner' } }),
  'POST /coupons/assign/{code}': (i) => ({ method: 'POST', path: `/coupons/assign/${f.free[i]}`, body: { userId: 'owner' } }),
  'POST /coupons/lock/{code}': (i) => ({ method: 'POST', path: `/coupons/lock/${f.held[i]}`, body: { userId: 'owner' } }),
  'POST /coupons/unlock/{code}': (i) => ({ method: 'POST', path: `/coupons/unlock/${f.locked[i]}`, body: { userId: 'owner' } }),
  'POST /coupons/redeem/{code}': (i) => ({ method: 'POST', path: `/coupons/redeem/${f.heldForRedeem[i]}`, body: { userId: 'owner' } }),
  'POST /redemptions/{redemptionId}/rollback': (i) => ({ method: 'POST', path: `/redemptions/${f.redemptionIds[i]}/rollback`, body: { reason: 'keys' } }),
  'GET /coupons/codes/{code}': () => ({ method: 'GET', path: `/coupons/codes/${f.held[0]}` }),
  'GET /users/{userId}/coupons': () => ({ method: 'GET', path: '/users/owner/coupons' }),
  'DELETE /users/{userId}': (i) => ({ method: 'DELETE', path: `/users/erase-by-key-${i}` }),
  'POST /webhooks': () => ({ method: 'POST', path: '/webhooks', body: { url: 'https://example.com/new' } }),
  'GET /webhooks': () => ({ method: 'GET', path: '/webhooks' }),
  'GET /webhooks/{id}': () => ({ method: 'GET', path: `/webhooks/${f.webhookId}` }),
  'DELETE /webhooks/{id}': (i) => ({ method: 'DELETE', path: `/webhooks/${f.webhooksToDelete[i]}` }),
  'POST /webhooks/{id}/rotate-secret': () => ({ method: 'POST', path: `/webhooks/${f.webhookId}/rotate-secret`, body: {} }),
  'GET /webhooks/{id}/deliveries': () => ({ method: 'GET', path: `/webhooks/${f.webhookId}/deliveries` }),
  'POST /webhooks/{id}/deliveries/{messageId}/resend': (i) => ({ method: 'POST', path: `/webhooks/${f.webhookId}/deliveries/${f.failedMessages[i]}/resend` }),
  'POST /api-keys': (i) => ({ method: 'POST', path: '/api-keys', body: { name: `made by caller ${i}`, role: 'service' } }),
  'GET /api-keys': () => ({ method: 'GET', path: '/api-keys' }),
  'DELETE /api-keys/{keyId}': (i) => ({ method: 'DELETE', path: `/api-keys/${f.keysToRevoke[i]}` }),
};

const outcomeOf = (r: CallResult): Outcome => (r.status < 300 ? r.status : `${r.status} ${r.json?.error?.code ?? '(no error body)'}`);

describe('API keys on every route', () => {
  it('every authenticated operation of /openapi.json has a row here', async () => {
    const doc = (await api.call('GET', '/openapi.json')).json;
    const operations = Object.entries(doc.paths as Record<string, Record<string, { security?: unknown[] }>>).flatMap(([path, ops]) =>
      Object.entries(ops)
        .filter(([, op]) => op.security?.length)
        .map(([method]) => `${method.toUpperCase()} ${path}`),
    );
    expect(operations.length).toBeGreaterThan(20);
    expect(operations.filter((o) => !EXPECTED[o]), 'operations without a row in test/api-key-authorization.test.ts').toEqual([]);
    expect(Object.keys(EXPECTED).filter((o) => !operations.includes(o)), 'rows for operations the app no longer has').toEqual([]);
  });

  it('a key answers as a token of its role, and no key manages keys', async () => {
    const actual: Record<string, Record<Caller, Outcome>> = {};
    const expected: Record<string, Record<Caller, Outcome>> = {};
    for (const [route, row] of Object.entries(EXPECTED)) {
      actual[route] = {} as Record<Caller, Outcome>;
      expected[route] = {} as Record<Caller, Outcome>;
      for (const [i, caller] of CALLERS.entries()) {
        const req = REQUESTS[route]!(i);
        const r = await api.call(req.method, req.path, { token: credentials[caller], body: req.body });
        actual[route][caller] = outcomeOf(r);
        expected[route][caller] = expectedFor(row, caller);
      }
    }
    expect(actual).toEqual(expected);
  });
});
