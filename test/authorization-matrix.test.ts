import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { messageIdOf, recordDelivery, useJobDispatcher } from '@coupons/core';
import { unwrap } from '@coupons/client';
import { admin, answer, bookWithCodes, service, startTestApi, uniqueCode, user, type CallResult, type HttpAnswer, type TestApi, type TestClient } from './support/harness.ts';

// Every route against every caller, compared with one table kept here; the table must name every
// operation /openapi.json documents, so a route added without its row fails here. Each
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
const NO_API_KEY = '404 API_KEY_NOT_FOUND';
/** A list answered 200 without any of tenant t1's fixtures in it. */
const NONE_OF_T1 = '200 sees none of t1';

// "owner" holds the code under test; "stranger" is another user of the same tenant.
const EXPECTED: Record<string, Record<Caller, Outcome>> = {
  'POST /coupons':                 { none: UNAUTH, owner: FORBID, stranger: FORBID, service: FORBID, admin: 201, otherTenantAdmin: 201 },
  'GET /coupons':                  { none: UNAUTH, owner: FORBID, stranger: FORBID, service: FORBID, admin: 200, otherTenantAdmin: NONE_OF_T1 },
  'GET /coupons/{bookId}':         { none: UNAUTH, owner: FORBID, stranger: FORBID, service: FORBID, admin: 200, otherTenantAdmin: NO_BOOK },
  'PATCH /coupons/{bookId}':       { none: UNAUTH, owner: FORBID, stranger: FORBID, service: FORBID, admin: 200, otherTenantAdmin: NO_BOOK },
  'GET /coupons/{bookId}/activity': { none: UNAUTH, owner: FORBID, stranger: FORBID, service: FORBID, admin: 200, otherTenantAdmin: NO_BOOK },
  'GET /coupons/{bookId}/codes':   { none: UNAUTH, owner: FORBID, stranger: FORBID, service: FORBID, admin: 200, otherTenantAdmin: NO_BOOK },
  'POST /coupons/codes':           { none: UNAUTH, owner: FORBID, stranger: FORBID, service: FORBID, admin: 200, otherTenantAdmin: NO_BOOK },
  'POST /coupons/codes/generate':  { none: UNAUTH, owner: FORBID, stranger: FORBID, service: FORBID, admin: 201, otherTenantAdmin: NO_BOOK },
  'POST /coupons/assign':          { none: UNAUTH, owner: 201,    stranger: 201,    service: 201,    admin: 201, otherTenantAdmin: NO_BOOK },
  'POST /coupons/assign/{code}':   { none: UNAUTH, owner: FORBID, stranger: FORBID, service: 201,    admin: 201, otherTenantAdmin: NO_CODE },
  'POST /coupons/lock/{code}':     { none: UNAUTH, owner: 200,    stranger: NO_CODE, service: 200,   admin: 200, otherTenantAdmin: NO_CODE },
  'POST /coupons/unlock/{code}':   { none: UNAUTH, owner: 200,    stranger: NO_CODE, service: 200,   admin: 200, otherTenantAdmin: NO_CODE },
  'POST /coupons/redeem/{code}':   { none: UNAUTH, owner: 200,    stranger: NO_CODE, service: 200,   admin: 200, otherTenantAdmin: NO_CODE },
  'GET /users/{userId}/coupons':   { none: UNAUTH, owner: 200,    stranger: FORBID, service: 200,    admin: 200, otherTenantAdmin: NONE_OF_T1 },
  // Erasure is tenant-scoped: the other tenant's admin erases that id in its own tenant only.
  'DELETE /users/{userId}':        { none: UNAUTH, owner: FORBID, stranger: FORBID, service: FORBID, admin: 202, otherTenantAdmin: 202 },
  'POST /webhooks':                { none: UNAUTH, owner: FORBID, stranger: FORBID, service: FORBID, admin: 201, otherTenantAdmin: 201 },
  'GET /webhooks':                 { none: UNAUTH, owner: FORBID, stranger: FORBID, service: FORBID, admin: 200, otherTenantAdmin: NONE_OF_T1 },
  'GET /webhooks/{id}':            { none: UNAUTH, owner: FORBID, stranger: FORBID, service: FORBID, admin: 200, otherTenantAdmin: NO_WEBHOOK },
  'DELETE /webhooks/{id}':         { none: UNAUTH, owner: FORBID, stranger: FORBID, service: FORBID, admin: 204, otherTenantAdmin: NO_WEBHOOK },
  'POST /webhooks/{id}/rotate-secret': { none: UNAUTH, owner: FORBID, stranger: FORBID, service: FORBID, admin: 200, otherTenantAdmin: NO_WEBHOOK },
  'GET /webhooks/{id}/deliveries': { none: UNAUTH, owner: FORBID, stranger: FORBID, service: FORBID, admin: 200, otherTenantAdmin: NO_WEBHOOK },
  'POST /webhooks/{id}/deliveries/{messageId}/resend': { none: UNAUTH, owner: FORBID, stranger: FORBID, service: FORBID, admin: 202, otherTenantAdmin: NO_WEBHOOK },
  'GET /jobs/{jobId}':             { none: UNAUTH, owner: FORBID, stranger: FORBID, service: FORBID, admin: 200, otherTenantAdmin: NO_JOB },
  'GET /coupons/codes/{code}':     { none: UNAUTH, owner: FORBID, stranger: FORBID, service: 200,    admin: 200, otherTenantAdmin: NO_CODE },
  'POST /redemptions/{redemptionId}/rollback': { none: UNAUTH, owner: FORBID, stranger: FORBID, service: 200, admin: 200, otherTenantAdmin: NO_REDEMPTION },
  'POST /api-keys':                { none: UNAUTH, owner: FORBID, stranger: FORBID, service: FORBID, admin: 201, otherTenantAdmin: 201 },
  'GET /api-keys':                 { none: UNAUTH, owner: FORBID, stranger: FORBID, service: FORBID, admin: 200, otherTenantAdmin: NONE_OF_T1 },
  'DELETE /api-keys/{keyId}':      { none: UNAUTH, owner: FORBID, stranger: FORBID, service: FORBID, admin: 204, otherTenantAdmin: NO_API_KEY },
  'GET /health':                   { none: 200,    owner: 200,    stranger: 200,    service: 200,    admin: 200, otherTenantAdmin: 200 },
  'GET /openapi.json':             { none: 200,    owner: 200,    stranger: 200,    service: 200,    admin: 200, otherTenantAdmin: 200 },
  'GET /docs':                     { none: 200,    owner: 200,    stranger: 200,    service: 200,    admin: 200, otherTenantAdmin: 200 },
};
/** Served, and in the matrix, but not operations of /openapi.json. */
const UNDOCUMENTED = ['GET /health', 'GET /openapi.json', 'GET /docs'];

interface Row {
  /**
   * The book, code, job, webhook or redemption the caller's request names (its fixture `index`):
   * a 404 must read exactly like the answer for one that does not exist.
   */
  resource?: (index: number) => string;
  /** The caller's request through the typed client, naming `resource` (the fixture, or a missing one). */
  send: (client: TestClient, caller: Caller, resource: string) => HttpAnswer | Promise<HttpAnswer>;
  /** Turns a 2xx into an outcome (lists: does it show tenant t1's data?). */
  observe?: (r: CallResult) => Outcome;
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
/** One failed message to `webhookId` per caller, to send again. */
let failedMessages: string[];
let jobId: string;
/** One of t1's API keys per caller, to revoke; and one that stays, to list. */
let keysToRevoke: string[];
let listedKeyId: string;

/** Admins and services act for 'owner'; users act for themselves. */
const actingFor = (caller: Caller): { userId?: string } => (caller === 'owner' || caller === 'stranger' ? {} : { userId: 'owner' });

beforeAll(async () => {
  api = await startTestApi('authz-matrix');
  // A dispatcher that runs nothing: the job below stays queued, no 10,001 codes written in the background.
  useJobDispatcher(api.core, { kind: 'test-noop', dispatch: async () => undefined });
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
  // Fixtures come from a service and an admin of their own, so no caller under test spends its rate limit on them.
  const fixtures = api.client(await service('t1', 'fixture-service'));
  const fixtureAdmin = api.client(await admin('t1', 'fixture-admin'));
  await Promise.all(
    [...heldForLock, ...heldForRedeem, ...lockedForUnlock, ...redeemedForRollback].map((code) =>
      unwrap(fixtures.coupons.assign[':code'].$post({ param: { code }, json: { userId: 'owner' } })),
    ),
  );
  redemptionIds = await Promise.all(
    redeemedForRollback.map(async (code) => (await unwrap(fixtures.coupons.redeem[':code'].$post({ param: { code }, json: { userId: 'owner' } }))).redemptionId),
  );
  await Promise.all(lockedForUnlock.map((code) => unwrap(fixtures.coupons.lock[':code'].$post({ param: { code }, json: { userId: 'owner', ttlSeconds: 3600 } }))));
  ownerCodes = new Set([...heldForLock, ...heldForRedeem, ...lockedForUnlock]);
  const hooks = await Promise.all(Array.from({ length: n + 1 }, async () => (await unwrap(fixtureAdmin.webhooks.$post({ json: { url: 'https://example.com/hooks' } }))).id));
  webhookId = hooks[n]!;
  webhooksToDelete = hooks.slice(0, n);
  // Failed messages, written as the dispatcher writes one whose retries ran out (what makes one
  // fail is test/webhooks-delivery.test.ts's business).
  failedMessages = await Promise.all(
    CALLERS.map(async (caller) => {
      const messageId = messageIdOf(Date.now(), 'matrix', caller);
      const job = { tenant: 't1', webhookId, messageId, eventType: 'book.exhausted' as const, lane: `book:${bookId}`, order: '0', body: '{}' };
      await recordDelivery(api.core, job, { status: 'failed', attempts: 4, responseStatus: 500 });
      return messageId;
    }),
  );
  const keys = await Promise.all(
    Array.from({ length: n + 1 }, async (_, i) => (await unwrap(fixtureAdmin['api-keys'].$post({ json: { name: `matrix ${i}`, role: 'service' } }))).keyId),
  );
  listedKeyId = keys[n]!;
  keysToRevoke = keys.slice(0, n);
  // A real job of t1, so the other tenant's 404 means "not yours" rather than "no such job".
  const job = await fixtureAdmin.coupons.codes.generate.$post({ json: { bookId, count: 10_001, pattern: 'JOB-********' } });
  if (job.status !== 202) throw new Error(`fixture job: ${job.status} ${await job.text()}`);
  jobId = (await job.json()).jobId;
});
afterAll(() => api?.close());

const ROWS: Record<string, Row> = {
  'POST /coupons': { send: (c, caller) => c.coupons.$post({ json: { name: `Made by ${caller}` } }) },
  'GET /coupons': {
    send: (c) => c.coupons.$get({ query: { limit: '100' } }),
    observe: (r) => (r.json.items.some((b: any) => b.id === bookId || b.id === poolBookId) ? r.status : NONE_OF_T1),
  },
  'GET /coupons/{bookId}': { resource: () => bookId, send: (c, _, id) => c.coupons[':bookId'].$get({ param: { bookId: id } }) },
  'PATCH /coupons/{bookId}': {
    resource: () => bookId,
    send: (c, caller, id) => c.coupons[':bookId'].$patch({ param: { bookId: id }, header: {}, json: { name: `Renamed by ${caller}` } }),
  },
  'GET /coupons/{bookId}/codes': { resource: () => bookId, send: (c, _, id) => c.coupons[':bookId'].codes.$get({ param: { bookId: id }, query: { limit: '5' } }) },
  'GET /coupons/{bookId}/activity': {
    resource: () => bookId,
    send: (c, _, id) => c.coupons[':bookId'].activity.$get({ param: { bookId: id }, query: { from: '2026-12-01T00:00:00Z', to: '2026-12-02T00:00:00Z' } }),
  },
  'POST /coupons/codes': { resource: () => bookId, send: (c, _, id) => c.coupons.codes.$post({ json: { bookId: id, codes: [uniqueCode('UP')] } }) },
  'POST /coupons/codes/generate': {
    resource: () => bookId,
    send: (c, _, id) => c.coupons.codes.generate.$post({ json: { bookId: id, count: 1, pattern: 'GEN-********' } }),
  },
  'POST /coupons/assign': { resource: () => poolBookId, send: (c, caller, id) => c.coupons.assign.$post({ json: { bookId: id, ...actingFor(caller) } }) },
  // The body names a userId for every caller: the schema requires one, so a user's request reaches the role check.
  'POST /coupons/assign/{code}': { resource: (i) => freeCodes[i]!, send: (c, _, code) => c.coupons.assign[':code'].$post({ param: { code }, json: { userId: 'owner' } }) },
  'POST /coupons/lock/{code}': { resource: (i) => heldForLock[i]!, send: (c, caller, code) => c.coupons.lock[':code'].$post({ param: { code }, json: actingFor(caller) }) },
  'POST /coupons/unlock/{code}': {
    resource: (i) => lockedForUnlock[i]!,
    send: (c, caller, code) => c.coupons.unlock[':code'].$post({ param: { code }, json: actingFor(caller) }),
  },
  'POST /coupons/redeem/{code}': {
    resource: (i) => heldForRedeem[i]!,
    send: (c, caller, code) => c.coupons.redeem[':code'].$post({ param: { code }, json: actingFor(caller) }),
  },
  'GET /users/{userId}/coupons': {
    send: (c) => c.users[':userId'].coupons.$get({ param: { userId: 'owner' }, query: { limit: '100' } }),
    observe: (r) => (r.json.items.some((v: any) => ownerCodes.has(v.code)) ? r.status : NONE_OF_T1),
  },
  // Each caller names an id of its own (never 'owner', whose fixtures the other rows use); the job is queued, not run.
  'DELETE /users/{userId}': { send: (c, caller) => c.users[':userId'].$delete({ param: { userId: `erase-me-${caller}` } }) },
  'POST /webhooks': { send: (c) => c.webhooks.$post({ json: { url: 'https://example.com/new' } }) },
  'GET /webhooks': {
    send: (c) => c.webhooks.$get({ query: {} }),
    observe: (r) => (r.json.items.some((w: any) => w.id === webhookId) ? r.status : NONE_OF_T1),
  },
  'GET /webhooks/{id}': { resource: () => webhookId, send: (c, _, id) => c.webhooks[':id'].$get({ param: { id } }) },
  'DELETE /webhooks/{id}': { resource: (i) => webhooksToDelete[i]!, send: (c, _, id) => c.webhooks[':id'].$delete({ param: { id } }) },
  'POST /webhooks/{id}/rotate-secret': { resource: () => webhookId, send: (c, _, id) => c.webhooks[':id']['rotate-secret'].$post({ param: { id }, json: {} }) },
  'GET /webhooks/{id}/deliveries': { resource: () => webhookId, send: (c, _, id) => c.webhooks[':id'].deliveries.$get({ param: { id }, query: {} }) },
  'POST /webhooks/{id}/deliveries/{messageId}/resend': {
    resource: (i) => failedMessages[i]!,
    send: (c, _, messageId) => c.webhooks[':id'].deliveries[':messageId'].resend.$post({ param: { id: webhookId, messageId } }),
  },
  'GET /coupons/codes/{code}': { resource: () => heldForLock[0]!, send: (c, _, code) => c.coupons.codes[':code'].$get({ param: { code }, query: {} }) },
  'POST /redemptions/{redemptionId}/rollback': {
    resource: (i) => redemptionIds[i]!,
    send: (c, _, redemptionId) => c.redemptions[':redemptionId'].rollback.$post({ param: { redemptionId }, json: { reason: 'matrix' } }),
  },
  'GET /jobs/{jobId}': { resource: () => jobId, send: (c, _, id) => c.jobs[':jobId'].$get({ param: { jobId: id } }) },
  'POST /api-keys': { send: (c, caller) => c['api-keys'].$post({ json: { name: `Made by ${caller}`, role: 'service' } }) },
  'GET /api-keys': {
    send: (c) => c['api-keys'].$get({ query: { limit: '100' } }),
    observe: (r) => (r.json.items.some((k: any) => k.keyId === listedKeyId) ? r.status : NONE_OF_T1),
  },
  'DELETE /api-keys/{keyId}': { resource: (i) => keysToRevoke[i]!, send: (c, _, keyId) => c['api-keys'][':keyId'].$delete({ param: { keyId } }) },
  'GET /health': { send: (c) => c.health.$get() },
  // Not routes of the app's type: the document and the page are served beside it.
  'GET /openapi.json': { send: (_c, caller) => fetch(`${api.base}/openapi.json`, { headers: bearer(caller) }) },
  'GET /docs': { send: (_c, caller) => fetch(`${api.base}/docs`, { headers: bearer(caller) }) },
};

const bearer = (caller: Caller): Record<string, string> => (tokens[caller] ? { authorization: `Bearer ${tokens[caller]}` } : {});

/** Status for a success, "status CODE" for an error, with what else the cell showed. */
async function outcomeOf(caller: Caller, row: Row, resource: string | undefined, r: CallResult): Promise<Outcome> {
  if (r.status < 300) return row.observe ? row.observe(r) : r.status;
  const error = r.json?.error;
  let outcome = `${r.status} ${error?.code ?? '(no error body)'}`;
  if (typeof error?.message !== 'string') outcome += ' (no message)';
  if (r.status === 404 && resource) {
    // The same request, by the same caller, naming one that does not exist.
    const missing = uniqueCode('MISSING');
    const m = await answer(row.send(api.client(tokens[caller]), caller, missing));
    const normalize = (res: CallResult, name: string) => `${res.status} ${res.text.replaceAll(name, '<id>')}`;
    const [mine, theirs] = [normalize(r, resource), normalize(m, missing)];
    if (mine !== theirs) outcome += ` (differs from a missing one: ${mine} vs ${theirs})`;
  }
  return outcome;
}

async function walk(row: Row): Promise<Record<Caller, Outcome>> {
  const cells = {} as Record<Caller, Outcome>;
  let before = await api.scanState();
  for (const [i, caller] of CALLERS.entries()) {
    const resource = row.resource?.(i);
    const r = await answer(row.send(api.client(tokens[caller]), caller, resource ?? ''));
    let outcome = await outcomeOf(caller, row, resource, r);
    const after = await api.scanState();
    if (r.status >= 300 && JSON.stringify(after) !== JSON.stringify(before)) outcome += ' +wrote';
    before = after;
    cells[caller] = outcome;
  }
  return cells;
}

describe('authorization matrix', () => {
  it('names every operation /openapi.json documents, and nothing it does not', async () => {
    const doc = (await api.call('GET', '/openapi.json')).json as { paths: Record<string, Record<string, unknown>> };
    const documented = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((method) => `${method.toUpperCase()} ${path}`));
    expect(documented.length).toBeGreaterThan(20);
    expect(documented.filter((op) => !(op in EXPECTED) || !(op in ROWS))).toEqual([]);
    expect(Object.keys(EXPECTED).filter((op) => !documented.includes(op) && !UNDOCUMENTED.includes(op))).toEqual([]);
    expect(Object.keys(ROWS).sort()).toEqual(Object.keys(EXPECTED).sort());
  });

  it('every route × every caller answers as the table says; refusals write nothing; not yours reads as missing', async () => {
    const actual: Record<string, Record<Caller, Outcome>> = {};
    for (const [name, row] of Object.entries(ROWS)) actual[name] = await walk(row);
    expect(actual).toEqual(EXPECTED);
  });
});
