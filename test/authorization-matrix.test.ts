import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as core from '@coupons/core';
import { admin, bookWithCodes, service, startTestApi, uniqueCode, user, type CallResult, type TestApi } from './support/harness.ts';

// Every route against every caller, compared with one table kept here. Each
// cell gets its own fixture (a fresh free, held or locked code), so a success
// in one cell never changes what the next cell sees. Besides its status, a
// cell records two things a bare status would hide:
// - a refusal that wrote anything to the table ("+wrote");
// - a 404 that does not read exactly like the answer for a book, code or job
//   that does not exist ("differs from a missing one"): what is not the
//   caller's must answer as if it did not exist.
//
// Rate limits stay at their defaults: the busiest caller here sends about ten
// limited requests and at most eight CODE_NOT_FOUND answers (including the
// comparisons with a missing code), well under 120 per minute and 20 misses
// per 10 minutes; the fixtures are made by a service of its own sub.

type Caller = 'none' | 'owner' | 'stranger' | 'service' | 'admin' | 'otherTenantAdmin';
type Outcome = number | string;
const CALLERS: Caller[] = ['none', 'owner', 'stranger', 'service', 'admin', 'otherTenantAdmin'];

const UNAUTH = '401 UNAUTHENTICATED';
const FORBID = '403 FORBIDDEN';
const NO_BOOK = '404 BOOK_NOT_FOUND';
const NO_CODE = '404 CODE_NOT_FOUND';
const NO_JOB = '404 JOB_NOT_FOUND';
const NO_WEBHOOK = '404 WEBHOOK_NOT_FOUND';
const NO_REDEMPTION = '404 REDEMPTION_NOT_FOUND';
/** A list answered 200 without any of tenant t1's fixtures in it. */
const NONE_OF_T1 = '200 sees none of t1';

// "owner" holds the code under test; "stranger" is another user of the same tenant.
const EXPECTED: Record<string, Record<Caller, Outcome>> = {
  'POST /coupons':                 { none: UNAUTH, owner: FORBID, stranger: FORBID, service: FORBID, admin: 201, otherTenantAdmin: 201 },
  'GET /coupons':                  { none: UNAUTH, owner: FORBID, stranger: FORBID, service: FORBID, admin: 200, otherTenantAdmin: NONE_OF_T1 },
  'GET /coupons/{bookId}':         { none: UNAUTH, owner: FORBID, stranger: FORBID, service: FORBID, admin: 200, otherTenantAdmin: NO_BOOK },
  'PATCH /coupons/{bookId}':       { none: UNAUTH, owner: FORBID, stranger: FORBID, service: FORBID, admin: 200, otherTenantAdmin: NO_BOOK },
  'GET /coupons/{bookId}/codes':   { none: UNAUTH, owner: FORBID, stranger: FORBID, service: FORBID, admin: 200, otherTenantAdmin: NO_BOOK },
  'GET /coupons/{bookId}/activity': { none: UNAUTH, owner: FORBID, stranger: FORBID, service: FORBID, admin: 200, otherTenantAdmin: NO_BOOK },
  'POST /coupons/codes':           { none: UNAUTH, owner: FORBID, stranger: FORBID, service: FORBID, admin: 200, otherTenantAdmin: NO_BOOK },
  'POST /coupons/codes/generate':  { none: UNAUTH, owner: FORBID, stranger: FORBID, service: FORBID, admin: 201, otherTenantAdmin: NO_BOOK },
  'POST /coupons/assign':          { none: UNAUTH, owner: 201,    stranger: 201,    service: 201,    admin: 201, otherTenantAdmin: NO_BOOK },
  'POST /coupons/assign/{code}':   { none: UNAUTH, owner: FORBID, stranger: FORBID, service: 201,    admin: 201, otherTenantAdmin: NO_CODE },
  'POST /coupons/lock/{code}':     { none: UNAUTH, owner: 200,    stranger: NO_CODE, service: 200,   admin: 200, otherTenantAdmin: NO_CODE },
  'POST /coupons/unlock/{code}':   { none: UNAUTH, owner: 200,    stranger: NO_CODE, service: 200,   admin: 200, otherTenantAdmin: NO_CODE },
  'POST /coupons/redeem/{code}':   { none: UNAUTH, owner: 200,    stranger: NO_CODE, service: 200,   admin: 200, otherTenantAdmin: NO_CODE },
  'GET /users/{userId}/coupons':   { none: UNAUTH, owner: 200,    stranger: FORBID, service: 200,    admin: 200, otherTenantAdmin: NONE_OF_T1 },
  'POST /webhooks':                { none: UNAUTH, owner: FORBID, stranger: FORBID, service: FORBID, admin: 201, otherTenantAdmin: 201 },
  'GET /webhooks':                 { none: UNAUTH, owner: FORBID, stranger: FORBID, service: FORBID, admin: 200, otherTenantAdmin: NONE_OF_T1 },
  'GET /webhooks/{id}':            { none: UNAUTH, owner: FORBID, stranger: FORBID, service: FORBID, admin: 200, otherTenantAdmin: NO_WEBHOOK },
  'DELETE /webhooks/{id}':         { none: UNAUTH, owner: FORBID, stranger: FORBID, service: FORBID, admin: 204, otherTenantAdmin: NO_WEBHOOK },
  'POST /webhooks/{id}/rotate-secret': { none: UNAUTH, owner: FORBID, stranger: FORBID, service: FORBID, admin: 200, otherTenantAdmin: NO_WEBHOOK },
  'GET /webhooks/{id}/deliveries': { none: UNAUTH, owner: FORBID, stranger: FORBID, service: FORBID, admin: 200, otherTenantAdmin: NO_WEBHOOK },
  'GET /coupons/codes/{code}':     { none: UNAUTH, owner: FORBID, stranger: FORBID, service: 200,    admin: 200, otherTenantAdmin: NO_CODE },
  'POST /redemptions/{redemptionId}/rollback': { none: UNAUTH, owner: FORBID, stranger: FORBID, service: 200, admin: 200, otherTenantAdmin: NO_REDEMPTION },
  'GET /health':                   { none: 200,    owner: 200,    stranger: 200,    service: 200,    admin: 200, otherTenantAdmin: 200 },
  'GET /openapi.json':             { none: 200,    owner: 200,    stranger: 200,    service: 200,    admin: 200, otherTenantAdmin: 200 },
  'GET /docs':                     { none: 200,    owner: 200,    stranger: 200,    service: 200,    admin: 200, otherTenantAdmin: 200 },
};
/** Only if the app documents the route by the time this runs (see the test). */
const EXPECTED_JOBS: Record<Caller, Outcome> = { none: UNAUTH, owner: FORBID, stranger: FORBID, service: FORBID, admin: 200, otherTenantAdmin: NO_JOB };

interface Request {
  method: string;
  path: string;
  body?: unknown;
  /** The book, code or job the request names (path or body): a 404 must read exactly like the one for a missing one. */
  resource?: string;
}
interface Row {
  request: (caller: Caller, index: number) => Request;
  /** Turns a 2xx into an outcome (lists: does it show tenant t1's data?). */
  observe?: (r: CallResult) => Outcome;
  /** The row's requests race with writes no request makes (a background job): skip the "+wrote" check. */
  backgroundWrites?: boolean;
}

let api: TestApi;
let tokens: Record<Caller, string | undefined>;
let bookId: string;
let poolBookId: string;
/** One fixture per caller (indexed like CALLERS) for each code route. */
let freeCodes: string[];
let heldForLock: string[];
let heldForRedeem: string[];
let lockedForUnlock: string[];
/** One redemption (of the owner's code) per caller, to roll back. */
let redemptionIds: string[];
let ownerCodes: Set<string>;
let webhookId: string;
/** One webhook per caller for DELETE. */
let webhooksToDelete: string[];

/** Admins and services act for 'owner'; users act for themselves. */
const actingFor = (caller: Caller): Record<string, string> => (caller === 'owner' || caller === 'stranger' ? {} : { userId: 'owner' });

beforeAll(async () => {
  api = await startTestApi('authz-matrix');
  tokens = {
    none: undefined,
    owner: await user('owner'),
    stranger: await user('stranger'),
    service: await service(),
    admin: await admin(),
    otherTenantAdmin: await admin('t2'),
  };
  const n = CALLERS.length;
  const [{ book, codes }, pool] = await Promise.all([bookWithCodes(api, 5 * n), bookWithCodes(api, 2 * n)]);
  bookId = book.id;
  poolBookId = pool.book.id;
  freeCodes = codes.slice(0, n);
  heldForLock = codes.slice(n, 2 * n);
  heldForRedeem = codes.slice(2 * n, 3 * n);
  lockedForUnlock = codes.slice(3 * n, 4 * n);
  const redeemedForRollback = codes.slice(4 * n, 5 * n);
  // Fixtures come from a service of its own, so no caller under test spends its rate limit on them.
  const fixtures = await service('t1', 'fixture-service');
  const post = async (path: string, body: unknown, status: number) => {
    const r = await api.call('POST', path, { token: fixtures, body });
    if (r.status !== status) throw new Error(`fixture ${path}: ${r.status} ${r.text}`);
    return r.json;
  };
  await Promise.all(
    [...heldForLock, ...heldForRedeem, ...lockedForUnlock, ...redeemedForRollback].map((c) => post(`/coupons/assign/${c}`, { userId: 'owner' }, 201)),
  );
  redemptionIds = await Promise.all(redeemedForRollback.map(async (c) => (await post(`/coupons/redeem/${c}`, { userId: 'owner' }, 200)).redemptionId as string));
  await Promise.all(lockedForUnlock.map((c) => post(`/coupons/lock/${c}`, { userId: 'owner', ttlSeconds: 3600 }, 200)));
  ownerCodes = new Set([...heldForLock, ...heldForRedeem, ...lockedForUnlock]);
  const fixtureAdmin = await admin('t1', 'fixture-admin');
  const hooks = await Promise.all(
    Array.from({ length: n + 1 }, async () => {
      const r = await api.call('POST', '/webhooks', { token: fixtureAdmin, body: { url: 'https://example.com/hooks' } });
      if (r.status !== 201) throw new Error(`fixture webhook: ${r.status} ${r.text}`);
      return r.json.id as string;
    }),
  );
  webhookId = hooks[n]!;
  webhooksToDelete = hooks.slice(0, n);
});
afterAll(() => api?.close());

const ROWS: Record<string, Row> = {
  'POST /coupons': { request: (c) => ({ method: 'POST', path: '/coupons', body: { name: `Made by ${c}` } }) },
  'GET /coupons': {
    request: () => ({ method: 'GET', path: '/coupons?limit=100' }),
    observe: (r) => (r.json.items.some((b: any) => b.id === bookId || b.id === poolBookId) ? r.status : NONE_OF_T1),
  },
  'GET /coupons/{bookId}': { request: () => ({ method: 'GET', path: `/coupons/${bookId}`, resource: bookId }) },
  'PATCH /coupons/{bookId}': {
    request: (c) => ({ method: 'PATCH', path: `/coupons/${bookId}`, body: { name: `Renamed by ${c}` }, resource: bookId }),
  },
  'GET /coupons/{bookId}/codes': { request: () => ({ method: 'GET', path: `/coupons/${bookId}/codes?limit=5`, resource: bookId }) },
  'GET /coupons/{bookId}/activity': {
    request: () => ({ method: 'GET', path: `/coupons/${bookId}/activity?from=2026-12-01T00:00:00Z&to=2026-12-02T00:00:00Z`, resource: bookId }),
  },
  'POST /coupons/codes': {
    request: () => ({ method: 'POST', path: '/coupons/codes', body: { bookId, codes: [uniqueCode('UP')] }, resource: bookId }),
  },
  'POST /coupons/codes/generate': {
    request: () => ({ method: 'POST', path: '/coupons/codes/generate', body: { bookId, count: 1, pattern: 'GEN-********' }, resource: bookId }),
  },
  'POST /coupons/assign': {
    request: (c) => ({ method: 'POST', path: '/coupons/assign', body: { bookId: poolBookId, ...actingFor(c) }, resource: poolBookId }),
  },
  // The body names a userId for every caller: the schema requires one, so a user's request reaches the role check.
  'POST /coupons/assign/{code}': {
    request: (_c, i) => ({ method: 'POST', path: `/coupons/assign/${freeCodes[i]}`, body: { userId: 'owner' }, resource: freeCodes[i] }),
  },
  'POST /coupons/lock/{code}': {
    request: (c, i) => ({ method: 'POST', path: `/coupons/lock/${heldForLock[i]}`, body: actingFor(c), resource: heldForLock[i] }),
  },
  'POST /coupons/unlock/{code}': {
    request: (c, i) => ({ method: 'POST', path: `/coupons/unlock/${lockedForUnlock[i]}`, body: actingFor(c), resource: lockedForUnlock[i] }),
  },
  'POST /coupons/redeem/{code}': {
    request: (c, i) => ({ method: 'POST', path: `/coupons/redeem/${heldForRedeem[i]}`, body: actingFor(c), resource: heldForRedeem[i] }),
  },
  'GET /users/{userId}/coupons': {
    request: () => ({ method: 'GET', path: '/users/owner/coupons?limit=100' }),
    observe: (r) => (r.json.items.some((v: any) => ownerCodes.has(v.code)) ? r.status : NONE_OF_T1),
  },
  'POST /webhooks': { request: () => ({ method: 'POST', path: '/webhooks', body: { url: 'https://example.com/new' } }) },
  'GET /webhooks': {
    request: () => ({ method: 'GET', path: '/webhooks' }),
    observe: (r) => (r.json.items.some((w: any) => w.id === webhookId) ? r.status : NONE_OF_T1),
  },
  'GET /webhooks/{id}': { request: () => ({ method: 'GET', path: `/webhooks/${webhookId}`, resource: webhookId }) },
  'DELETE /webhooks/{id}': {
    request: (_c, i) => ({ method: 'DELETE', path: `/webhooks/${webhooksToDelete[i]}`, resource: webhooksToDelete[i] }),
  },
  'POST /webhooks/{id}/rotate-secret': {
    request: () => ({ method: 'POST', path: `/webhooks/${webhookId}/rotate-secret`, body: {}, resource: webhookId }),
  },
  'GET /webhooks/{id}/deliveries': { request: () => ({ method: 'GET', path: `/webhooks/${webhookId}/deliveries`, resource: webhookId }) },
  'GET /coupons/codes/{code}': { request: () => ({ method: 'GET', path: `/coupons/codes/${heldForLock[0]}`, resource: heldForLock[0] }) },
  'POST /redemptions/{redemptionId}/rollback': {
    request: (_c, i) => ({ method: 'POST', path: `/redemptions/${redemptionIds[i]}/rollback`, body: { reason: 'matrix' }, resource: redemptionIds[i] }),
  },
  'GET /health': { request: () => ({ method: 'GET', path: '/health' }) },
  'GET /openapi.json': { request: () => ({ method: 'GET', path: '/openapi.json' }) },
  'GET /docs': { request: () => ({ method: 'GET', path: '/docs' }) },
};

const send = (caller: Caller, req: Request) => api.call(req.method, req.path, { token: tokens[caller], body: req.body });

/** Status for a success, "status CODE" for an error, with what else the cell showed. */
async function outcomeOf(caller: Caller, row: Row, req: Request, r: CallResult): Promise<Outcome> {
  if (r.status < 300) return row.observe ? row.observe(r) : r.status;
  const error = r.json?.error;
  let outcome = `${r.status} ${error?.code ?? '(no error body)'}`;
  if (typeof error?.message !== 'string') outcome += ' (no message)';
  if (r.status === 404 && req.resource) {
    // The same request, by the same caller, naming one that does not exist.
    const { resource } = req;
    const missing = uniqueCode('MISSING');
    const swap = (v: string) => v.replaceAll(resource, missing);
    const m = await send(caller, { ...req, path: swap(req.path), body: req.body === undefined ? undefined : JSON.parse(swap(JSON.stringify(req.body))) });
    const normalize = (res: CallResult, name: string) => `${res.status} ${res.text.replaceAll(name, '<id>')}`;
    const [mine, theirs] = [normalize(r, resource), normalize(m, missing)];
    if (mine !== theirs) outcome += ` (differs from a missing one: ${mine} vs ${theirs})`;
  }
  return outcome;
}

async function walk(row: Row): Promise<Record<Caller, Outcome>> {
  const cells = {} as Record<Caller, Outcome>;
  let before = row.backgroundWrites ? [] : await api.scanState();
  for (const [i, caller] of CALLERS.entries()) {
    const req = row.request(caller, i);
    const r = await send(caller, req);
    let outcome = await outcomeOf(caller, row, req, r);
    if (!row.backgroundWrites) {
      const after = await api.scanState();
      if (r.status >= 300 && JSON.stringify(after) !== JSON.stringify(before)) outcome += ' +wrote';
      before = after;
    }
    cells[caller] = outcome;
  }
  return cells;
}

describe('authorization matrix', () => {
  it('every route × every caller answers as the table says; refusals write nothing; not yours reads as missing', async () => {
    const doc = (await api.call('GET', '/openapi.json')).json;
    const hasJobs = Boolean(doc?.paths?.['/jobs/{jobId}']);
    const expected: Record<string, Record<Caller, Outcome>> = { ...EXPECTED, ...(hasJobs ? { 'GET /jobs/{jobId}': EXPECTED_JOBS } : {}) };

    const actual: Record<string, Record<Caller, Outcome>> = {};
    for (const [name, row] of Object.entries(ROWS)) actual[name] = await walk(row);

    if (hasJobs) {
      // A real job of t1, so the other tenant's 404 means "not yours" rather than "no such job". A
      // dispatcher that runs nothing keeps it queued: no 10,001 codes written in the background.
      const quiet = typeof (core as any).useJobDispatcher === 'function';
      if (quiet) (core as any).useJobDispatcher(api.core, { kind: 'test-noop', dispatch: async () => undefined });
      const job = await api.call('POST', '/coupons/codes/generate', { token: tokens.admin, body: { bookId, count: 10_001, pattern: 'JOB-********' } });
      const jobId: string | undefined = job.json?.jobId;
      actual['GET /jobs/{jobId}'] = jobId
        ? await walk({ request: () => ({ method: 'GET', path: `/jobs/${jobId}`, resource: jobId }), backgroundWrites: !quiet })
        : (Object.fromEntries(CALLERS.map((c) => [c, `no job to read: generate answered ${job.status} ${job.text.slice(0, 200)}`])) as Record<Caller, Outcome>);
    }

    expect(actual).toEqual(expected);
  });
});
