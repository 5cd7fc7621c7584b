import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_KEY_PREFIX, type CostMeter } from '@coupons/core';
import { createCouponClient, unwrap } from '../packages/client/src/index.ts';
import { admin, bookWithCodes, createBook, expectError, service, SECRET, startTestApi, user, type CallResult, type TestApi } from './support/harness.ts';
import { startMeteredApi } from './support/cost-meter.ts';
import { waitFor } from './support/wait-for.ts';
import { mintToken } from '../scripts/lib/tokens.ts';
import { devServiceKey } from '../scripts/lib/dev-api-key.ts';

// API keys against the table: who manages them, what a key may do, what is stored (never a
// secret), what is logged (never a key), and what verifying one costs. `one` and `two` are two
// instances (two Lambdas) over one table, each with its own cache of key records.

let one: TestApi;
let two: TestApi;
beforeAll(async () => {
  one = await startTestApi('api-keys');
  two = await startTestApi('api-keys', { TABLE_NAME: one.table });
});
afterAll(async () => {
  await Promise.all([one?.close(), two?.close()]);
});

/** Every key and secret this file made: none may ever be found in the table or a log line. */
const made: string[] = [];
const KEY_FORMAT = /^cbk_([A-Za-z0-9_-]{1,64})_([0-9a-f]{24})_([A-Za-z0-9_-]{43})$/;

async function createKey(body: { name: string; role: 'service' | 'admin' }, tenant = 't1', api: TestApi = one): Promise<{ keyId: string; key: string; prefix: string }> {
  const r = await api.call('POST', '/api-keys', { token: await admin(tenant), body });
  if (r.status !== 201) throw new Error(`create key: ${r.status} ${r.text}`);
  made.push(r.json.key);
  return r.json;
}
const keyItems = async (api: TestApi = one) => (await api.scan()).filter((i) => i.__edb_e__ === 'apiKey');
const asKey = (key: string) => ({ token: key });
/**
 * The table's state for "nothing written" checks: a key that signs a request gets `lastUsedAt`
 * written beside it, on purpose and not awaited, so that one attribute is left out.
 */
const stateOf = async (api: TestApi = one) => (await api.scanState()).map(({ lastUsedAt: _, ...item }) => item);

/**
 * Watches this instance's writes of one key's item, optionally holding each back: what
 * `lastUsedAt` sends, seen from the SDK (the document client's commands, before marshalling).
 */
function watchKeyWrites(api: TestApi, keyId: string, holdMs = 0) {
  const name = `watch-${keyId}-${Math.random()}`;
  const pk = `T#t1#APIKEY#${keyId}`;
  const sent: string[] = [];
  api.core.store.client.middlewareStack.add(
    (next, context) => async (args) => {
      const command = (context as { commandName?: string }).commandName ?? '';
      if (/Update/.test(command) && JSON.stringify(args.input).includes(pk)) {
        sent.push(command);
        if (holdMs) await new Promise((r) => setTimeout(r, holdMs));
      }
      return next(args);
    },
    { step: 'initialize', name },
  );
  return { sent, stop: () => api.core.store.client.middlewareStack.remove(name) };
}

describe('POST /api-keys', () => {
  it('answers 201 with the key once: cbk_, the lookup, 256 random bits; the prefix leaves at least 16 characters hidden', async () => {
    const r = await one.call('POST', '/api-keys', { token: await admin(), body: { name: 'Checkout backend', role: 'service' } });
    expect(r.status).toBe(201);
    made.push(r.json.key);
    expect(r.json).toEqual({
      keyId: expect.stringMatching(/^[0-9a-f]{24}$/),
      name: 'Checkout backend',
      role: 'service',
      prefix: expect.any(String),
      createdAt: expect.any(String),
      key: expect.stringMatching(KEY_FORMAT),
    });
    const [, tenant, keyId, secret] = KEY_FORMAT.exec(r.json.key)!;
    expect(tenant).toBe('t1');
    expect(keyId).toBe(r.json.keyId);
    expect(Buffer.from(secret!, 'base64url')).toHaveLength(32);
    expect(r.json.key.startsWith(r.json.prefix)).toBe(true);
    expect(r.json.key.length - r.json.prefix.length).toBeGreaterThanOrEqual(16);
    expect(r.json.prefix).toBe(`cbk_t1_${keyId}_${secret!.slice(0, 4)}`);
    // Stored: the view and a hash, never the key.
    const [item] = (await keyItems()).filter((i) => i.keyId === r.json.keyId);
    expect(item).toMatchObject({ name: 'Checkout backend', role: 'service', prefix: r.json.prefix, createdBy: 'admin-1', secretHash: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(item!.pk).toBe(`T#t1#APIKEY#${r.json.keyId}`);
  });

  it('through the typed client, and a client holding the key acts with it', async () => {
    const asAdmin = createCouponClient(one.base, { token: await admin() });
    const created = await unwrap(asAdmin['api-keys'].$post({ json: { name: 'typed', role: 'admin' } }));
    made.push(created.key!);
    expect(created.key).toMatch(KEY_FORMAT);
    const asKeyClient = createCouponClient(one.base, { apiKey: created.key!, retry: { limit: 0 } });
    const book = await unwrap(asKeyClient.coupons.$post({ json: { name: 'made by an admin key' } }));
    expect(book.name).toBe('made by an admin key');
    expect(() => createCouponClient(one.base, { apiKey: created.key!, token: 'x' })).toThrow(/not both/);
    // The list and the revocation, typed from the routes.
    const listed = await unwrap(asAdmin['api-keys'].$get({ query: { limit: '100' } }));
    expect(listed.items.find((k) => k.keyId === created.keyId)).toMatchObject({ name: 'typed', role: 'admin', prefix: created.prefix });
    const revoked = await asAdmin['api-keys'][':keyId'].$delete({ param: { keyId: created.keyId } });
    expect(revoked.status).toBe(204);
    await expect(unwrap(asKeyClient.coupons.$get({ query: {} }))).rejects.toMatchObject({ status: 401, code: 'UNAUTHENTICATED' });
  });

  it.each([
    ['an empty name', { name: '', role: 'service' }, 'name'],
    ['a name of 201 characters', { name: 'x'.repeat(201), role: 'service' }, 'name'],
    ['the user role', { name: 'n', role: 'user' }, 'role'],
    ['no role', { name: 'n' }, 'role'],
    ['an extra field', { name: 'n', role: 'service', key: 'cbk_mine' }, '(body)'],
  ])('refuses %s with 400 and writes nothing', async (_, body, field) => {
    const before = await stateOf();
    const r = await one.call('POST', '/api-keys', { token: await admin(), body });
    expectError(r, 400, 'VALIDATION_FAILED');
    expect(r.json.error.details.map((d: any) => d.field)).toContain(field);
    expect(await stateOf()).toEqual(before);
  });

  it('accepts a name of exactly 200 characters', async () => {
    const r = await createKey({ name: 'y'.repeat(200), role: 'service' });
    expect(r.keyId).toMatch(/^[0-9a-f]{24}$/);
  });

  it('a retry with the same Idempotency-Key makes no second key and answers without key', async () => {
    const token = await admin('t-idem');
    const headers = { 'idempotency-key': 'create-key-1' };
    const body = { name: 'retried', role: 'service' };
    const first = await one.call('POST', '/api-keys', { token, headers, body });
    made.push(first.json.key);
    const again = await two.call('POST', '/api-keys', { token, headers, body });
    expect(first.status).toBe(201);
    expect(again.status).toBe(201);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    const { key, ...view } = first.json;
    expect(key).toMatch(KEY_FORMAT);
    expect(again.json).toEqual(view);
    expect((await keyItems()).filter((i) => i.tenant === 't-idem')).toHaveLength(1);
    // The same Idempotency-Key with another body is refused, as everywhere.
    expectError(await one.call('POST', '/api-keys', { token, headers, body: { name: 'other', role: 'service' } }), 422, 'IDEMPOTENCY_KEY_REUSED');
  });

  it('concurrent copies of one keyed create make one key, and only one answer carries it', async () => {
    const token = await admin('t-race');
    const headers = { 'idempotency-key': 'create-key-race' };
    const answers = await Promise.all(
      Array.from({ length: 12 }, (_, i) => (i % 2 ? two : one).call('POST', '/api-keys', { token, headers, body: { name: 'raced', role: 'admin' } })),
    );
    expect(answers.map((a) => a.status)).toEqual(Array(12).fill(201));
    const withKey = answers.filter((a) => a.json.key !== undefined);
    expect(withKey).toHaveLength(1);
    made.push(withKey[0]!.json.key);
    expect(new Set(answers.map((a) => a.json.keyId)).size).toBe(1);
    expect((await keyItems()).filter((i) => i.tenant === 't-race')).toHaveLength(1);
    // The one key made works.
    expect((await one.call('GET', '/coupons', asKey(withKey[0]!.json.key))).status).toBe(200);
  });
});

describe('bounds', () => {
  it('a tenant has at most 100 active keys: more is 409 TENANT_LIMIT_REACHED with nothing written, even when they race; revoking one makes room', async () => {
    const tenant = 't-keycap';
    const token = await admin(tenant);
    const answers = await Promise.all(Array.from({ length: 104 }, (_, i) => one.call('POST', '/api-keys', { token, body: { name: `k${i}`, role: 'service' } })));
    const created = answers.filter((r) => r.status === 201);
    made.push(...created.map((r) => r.json.key));
    expect(created).toHaveLength(100);
    for (const r of answers.filter((r) => r.status !== 201)) expectError(r, 409, 'TENANT_LIMIT_REACHED');
    const mine = async () => (await keyItems()).filter((k) => k.tenant === tenant);
    expect(await mine()).toHaveLength(100);
    expect((await one.call('DELETE', `/api-keys/${created[0]!.json.keyId}`, { token })).status).toBe(204);
    // Revoked keys stay listed for 30 days, then TTL removes them.
    const revoked = (await mine()).find((k) => k.keyId === created[0]!.json.keyId)!;
    expect(Math.abs(revoked.expiresAt * 1000 - Date.parse(revoked.revokedAt) - 30 * 86_400_000)).toBeLessThan(1000);
    const again = await one.call('POST', '/api-keys', { token, body: { name: 'room again', role: 'service' } });
    expect(again.status).toBe(201);
    made.push(again.json.key);
    expectError(await one.call('POST', '/api-keys', { token, body: { name: 'full again', role: 'service' } }), 409, 'TENANT_LIMIT_REACHED');
    // Revoking twice gives back one place, once.
    expect((await one.call('DELETE', `/api-keys/${created[0]!.json.keyId}`, { token })).status).toBe(204);
    expectError(await one.call('POST', '/api-keys', { token, body: { name: 'still full', role: 'service' } }), 409, 'TENANT_LIMIT_REACHED');
  });
});

describe('who manages keys', () => {
  it('only an admin signed in with a token: keys (even admin ones), services and users get 403, nothing written', async () => {
    const adminKey = (await createKey({ name: 'admin key', role: 'admin' })).key;
    const serviceKey = (await createKey({ name: 'service key', role: 'service' })).key;
    const target = (await createKey({ name: 'target', role: 'service' })).keyId;
    const before = await stateOf();
    for (const token of [adminKey, serviceKey, await service(), await user('u1')]) {
      expectError(await one.call('POST', '/api-keys', { token, body: { name: 'successor', role: 'admin' } }), 403, 'FORBIDDEN');
      expectError(await one.call('GET', '/api-keys', { token }), 403, 'FORBIDDEN');
      expectError(await one.call('DELETE', `/api-keys/${target}`, { token }), 403, 'FORBIDDEN');
    }
    expectError(await one.call('GET', '/api-keys'), 401, 'UNAUTHENTICATED');
    expect(await stateOf()).toEqual(before);
    // The admin key is an admin everywhere else.
    expect((await one.call('GET', '/coupons', asKey(adminKey))).status).toBe(200);
  });
});

describe('GET /api-keys', () => {
  it('lists the tenant’s keys newest first without the key, page by page', async () => {
    const tenant = 't-list';
    const keys = [];
    for (const name of ['a', 'b', 'c', 'd', 'e']) keys.push(await createKey({ name, role: name === 'e' ? 'admin' : 'service' }, tenant));
    const token = await admin(tenant);
    const seen: any[] = [];
    let cursor: string | null = null;
    do {
      const r: CallResult = await one.call('GET', `/api-keys?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, { token });
      expect(r.status).toBe(200);
      expect(r.json.items.length).toBeLessThanOrEqual(2);
      seen.push(...r.json.items);
      cursor = r.json.nextCursor;
    } while (cursor);
    expect(seen.map((k) => k.name)).toEqual(['e', 'd', 'c', 'b', 'a']);
    expect(seen[0]).toEqual({ keyId: keys[4]!.keyId, name: 'e', role: 'admin', prefix: keys[4]!.prefix, createdAt: expect.any(String) });
    const text = JSON.stringify(seen);
    for (const k of keys) expect(text).not.toContain(k.key.slice(k.prefix.length));
    expect(text).not.toMatch(/secretHash|createdBy/);
    // A cursor that is not from this list is a 400.
    expectError(await one.call('GET', '/api-keys?cursor=bm9wZQ', { token }), 400, 'VALIDATION_FAILED');
  });

  it('shows lastUsedAt once a key is used and revokedAt once it is revoked; another tenant sees none of them', async () => {
    const tenant = 't-shown';
    const used = await createKey({ name: 'used', role: 'service' }, tenant);
    const revoked = await createKey({ name: 'revoked', role: 'service' }, tenant);
    expect((await one.call('GET', '/users/u1/coupons', asKey(used.key))).status).toBe(200);
    expect((await one.call('DELETE', `/api-keys/${revoked.keyId}`, { token: await admin(tenant) })).status).toBe(204);
    const items = await waitFor('lastUsedAt listed', async () => {
      const list = (await one.call('GET', '/api-keys', { token: await admin(tenant) })).json.items;
      return list.find((k: any) => k.keyId === used.keyId)?.lastUsedAt ? list : undefined;
    }, 5000);
    expect(items.find((k: any) => k.keyId === used.keyId)).toEqual({ ...pick(used), name: 'used', role: 'service', createdAt: expect.any(String), lastUsedAt: expect.any(String) });
    expect(items.find((k: any) => k.keyId === revoked.keyId)).toEqual({ ...pick(revoked), name: 'revoked', role: 'service', createdAt: expect.any(String), revokedAt: expect.any(String) });
    const other = (await one.call('GET', '/api-keys', { token: await admin('t-shown-other') })).json;
    expect(other).toEqual({ items: [], nextCursor: null });
  });
});

const pick = (k: { keyId: string; prefix: string }) => ({ keyId: k.keyId, prefix: k.prefix });

describe('DELETE /api-keys/{keyId}', () => {
  it('revokes (204): this instance refuses the key at once; revoking again is 204 and keeps the first revokedAt', async () => {
    const k = await createKey({ name: 'to revoke', role: 'service' });
    expect((await one.call('GET', '/users/u1/coupons', asKey(k.key))).status).toBe(200);
    const token = await admin();
    expect((await one.call('DELETE', `/api-keys/${k.keyId}`, { token })).status).toBe(204);
    expectError(await one.call('GET', '/users/u1/coupons', asKey(k.key)), 401, 'UNAUTHENTICATED');
    const [first] = (await keyItems()).filter((i) => i.keyId === k.keyId);
    expect(first).toMatchObject({ revokedAt: expect.any(String), revokedBy: 'admin-1' });
    const again = await one.call('DELETE', `/api-keys/${k.keyId}`, { token: await admin('t1', 'admin-2') });
    expect(again.status).toBe(204);
    const [second] = (await keyItems()).filter((i) => i.keyId === k.keyId);
    expect(second).toMatchObject({ revokedAt: first!.revokedAt, revokedBy: 'admin-1' });
  });

  it('answers 404 API_KEY_NOT_FOUND for an unknown key, a malformed id, and another tenant’s key, which keeps working', async () => {
    const k = await createKey({ name: 'not yours', role: 'service' });
    const before = await stateOf();
    for (const [tenant, id] of [['t1', 'aaaaaaaaaaaaaaaaaaaaaaaa'], ['t1', 'not-a-key-id'], ['t2', k.keyId]] as const) {
      const r = await one.call('DELETE', `/api-keys/${id}`, { token: await admin(tenant) });
      expectError(r, 404, 'API_KEY_NOT_FOUND');
    }
    expect(await stateOf()).toEqual(before);
    expect((await one.call('GET', '/users/u1/coupons', asKey(k.key))).status).toBe(200);
  });

  it('a revocation reaches a second instance that had the key cached within 10 s', async () => {
    const k = await createKey({ name: 'cached elsewhere', role: 'service' });
    expect((await two.call('GET', '/users/u1/coupons', asKey(k.key))).status).toBe(200);
    const revokedAt = Date.now();
    expect((await one.call('DELETE', `/api-keys/${k.keyId}`, { token: await admin() })).status).toBe(204);
    await waitFor('the second instance refuses the key', async () => (await two.call('GET', '/users/u1/coupons', asKey(k.key))).status === 401, 10_000, 100);
    expect(Date.now() - revokedAt).toBeLessThan(10_000);
  });
});

describe('what a key may do', () => {
  it('acts as its role within its tenant: a service key acts for users, an admin key manages books', async () => {
    const serviceKey = (await createKey({ name: 'svc', role: 'service' })).key;
    const adminKey = (await createKey({ name: 'adm', role: 'admin' })).key;
    const { book } = await bookWithCodes(one, 2);
    const claimed = await one.call('POST', '/coupons/assign', { ...asKey(serviceKey), body: { bookId: book.id, userId: 'shopper' } });
    expect(claimed.status).toBe(201);
    expectError(await one.call('POST', '/coupons', { ...asKey(serviceKey), body: { name: 'not for services' } }), 403, 'FORBIDDEN');
    expectError(await one.call('POST', '/coupons/assign', { ...asKey(serviceKey), body: { bookId: book.id } }), 400, 'VALIDATION_FAILED');
    expect((await one.call('PATCH', `/coupons/${book.id}`, { ...asKey(adminKey), body: { name: 'renamed by a key' } })).status).toBe(200);
    // What it did is recorded as done by the key.
    const [code] = (await one.scan()).filter((i) => i.__edb_e__ === 'code' && i.userId === 'shopper');
    expect(code!.lastChange).toMatchObject({ by: `key:${KEY_FORMAT.exec(serviceKey)![2]}` });
  });

  it('another tenant’s data is as invisible as with a token', async () => {
    const t1Book = await createBook(one, { name: 'only t1' });
    const t2Key = (await createKey({ name: 't2 admin key', role: 'admin' }, 't2')).key;
    const listed = await one.call('GET', '/coupons?limit=100', asKey(t2Key));
    expect(listed.status).toBe(200);
    expect(listed.json.items.map((b: any) => b.id)).not.toContain(t1Book.id);
    expectError(await one.call('GET', `/coupons/${t1Book.id}`, asKey(t2Key)), 404, 'BOOK_NOT_FOUND');
    // A key is bound to the tenant it names: the same id and secret under another tenant's name is no key.
    const forged = t2Key.replace(/^cbk_t2_/, 'cbk_t1_');
    expectError(await one.call('GET', '/coupons', asKey(forged)), 401, 'UNAUTHENTICATED');
  });

  it('rate limits apply per key, as per caller', async () => {
    const limited = await startTestApi('api-keys', { TABLE_NAME: one.table, RATE_LIMIT_CALLER_PER_MINUTE: '2' });
    try {
      const { book } = await bookWithCodes(one, 20);
      const a = (await createKey({ name: 'limited a', role: 'service' })).key;
      const b = (await createKey({ name: 'limited b', role: 'service' })).key;
      const claim = (credential: string, userId: string) => limited.call('POST', '/coupons/assign', { token: credential, body: { bookId: book.id, userId } });
      expect((await claim(a, 'u-a1')).status).toBe(201);
      expect((await claim(a, 'u-a2')).status).toBe(201);
      expectError(await claim(a, 'u-a3'), 429, 'RATE_LIMITED');
      // Another key of the same tenant, and a token of the same role, have their own allowance.
      expect((await claim(b, 'u-b1')).status).toBe(201);
      expect((await claim(await service(), 'u-s1')).status).toBe(201);
    } finally {
      await limited.close();
    }
  });
});

describe('refused keys', () => {
  it('made-up, truncated, altered, retargeted and revoked keys all get the same 401, which never repeats the key', async () => {
    const good = await createKey({ name: 'good', role: 'service' });
    const revoked = await createKey({ name: 'revoked', role: 'service' });
    expect((await one.call('DELETE', `/api-keys/${revoked.keyId}`, { token: await admin() })).status).toBe(204);
    const [, , keyId, secret] = KEY_FORMAT.exec(good.key)!;
    const flip = (s: string, i: number) => s.slice(0, i) + (s[i] === 'A' ? 'B' : 'A') + s.slice(i + 1);
    const bad = {
      madeUp: `cbk_t1_${randomBytes(12).toString('hex')}_${randomBytes(32).toString('base64url')}`,
      unknownIdRealSecret: `cbk_t1_${randomBytes(12).toString('hex')}_${secret}`,
      truncated: good.key.slice(0, -1),
      truncatedToPrefix: good.prefix,
      alteredSecret: flip(good.key, good.key.length - 5),
      alteredKeyId: `cbk_t1_${keyId!.slice(0, 3)}${keyId![3] === '0' ? '1' : '0'}${keyId!.slice(4)}_${secret}`,
      otherTenant: good.key.replace(/^cbk_t1_/, 'cbk_t2_'),
      extended: `${good.key}x`,
      bare: 'cbk_',
      revoked: revoked.key,
    };
    const answers: Record<string, string> = {};
    for (const [what, key] of Object.entries(bad)) {
      const r = await one.call('GET', '/users/u1/coupons', asKey(key));
      expectError(r, 401, 'UNAUTHENTICATED');
      expect(r.text, what).not.toContain(key.slice(0, 20));
      answers[what] = r.text;
    }
    expect(new Set(Object.values(answers)).size, JSON.stringify(answers)).toBe(1);
    expect((await one.call('GET', '/users/u1/coupons', asKey(good.key))).status).toBe(200);
  });

  it('a token whose sub starts with key: is refused, so no token can pass for a key', async () => {
    const token = await mintToken(SECRET, { sub: 'key:0123456789abcdef01234567', tenant: 't1', role: 'admin' });
    expectError(await one.call('GET', '/coupons', { token }), 401, 'UNAUTHENTICATED');
  });
});

describe('verifying a key: cost, and nothing written on the request path', () => {
  let metered: { api: TestApi; meter: CostMeter; close: () => Promise<unknown> };
  beforeAll(async () => {
    metered = await startMeteredApi('api-keys', { TABLE_NAME: one.table });
  });
  afterAll(() => metered?.close());

  const keyReads = (records: ReturnType<CostMeter['take']>, keyId: string) =>
    records.flatMap((r) => r.reads.filter((x) => x.pk === `T#t1#APIKEY#${keyId}`).map(() => r.command));
  const keyWrites = (records: ReturnType<CostMeter['take']>) => records.flatMap((r) => (r.outcome === 'ok' ? r.writes.filter((w) => w.entity === 'apiKey') : []));

  it('many concurrent first uses on a fresh instance share one read; later uses in the window read nothing; lastUsedAt is written once', async () => {
    const k = await createKey({ name: 'busy', role: 'service' });
    metered.meter.take();
    const answers = await Promise.all(Array.from({ length: 40 }, () => metered.api.call('GET', '/users/u1/coupons', asKey(k.key))));
    expect(answers.map((a) => a.status)).toEqual(Array(40).fill(200));
    const records = metered.meter.take();
    expect(keyReads(records, k.keyId)).toEqual(['GetItemCommand']);
    expect(records.find((r) => r.command === 'GetItemCommand' && r.reads.some((x) => x.pk?.includes('#APIKEY#')))!.reads[0]).toMatchObject({ consistent: true, rcu: 1 });
    for (let i = 0; i < 10; i++) expect((await metered.api.call('GET', '/users/u1/coupons', asKey(k.key))).status).toBe(200);
    const later = metered.meter.take();
    expect(keyReads(later, k.keyId)).toEqual([]);
    // One lastUsedAt write for 50 uses (it may land in any batch: it is not awaited).
    await waitFor('lastUsedAt', async () => (await keyItems()).find((i) => i.keyId === k.keyId)?.lastUsedAt, 5000);
    const all = [...records, ...later, ...metered.meter.take()];
    expect(keyWrites(all).map((w) => `${w.action} ${w.wcu} ${w.indexes.map((i) => `${i.index} ${i.change} ${i.wcu}`)}`)).toEqual(['update 1 byOwner update 1']);
  });

  it('a made-up key used again and again is read once per window (the negative cache) and never written; a malformed one costs nothing', async () => {
    const keyId = randomBytes(12).toString('hex');
    const madeUp = `cbk_t1_${keyId}_${randomBytes(32).toString('base64url')}`;
    metered.meter.take();
    const answers = await Promise.all(Array.from({ length: 10 }, () => metered.api.call('GET', '/users/u1/coupons', asKey(madeUp))));
    for (const a of answers) expectError(a, 401, 'UNAUTHENTICATED');
    for (let i = 0; i < 5; i++) expectError(await metered.api.call('GET', '/users/u1/coupons', asKey(madeUp)), 401, 'UNAUTHENTICATED');
    const records = metered.meter.take();
    expect(keyReads(records, keyId)).toEqual(['GetItemCommand']);
    expect(records.filter((r) => r.writes.length)).toEqual([]);
    // A key that is not even well formed costs nothing at all.
    expectError(await metered.api.call('GET', '/users/u1/coupons', asKey('cbk_t1_short')), 401, 'UNAUTHENTICATED');
    expect(metered.meter.take()).toEqual([]);
  });

  it('lastUsedAt is written off the request path: a slow write does not slow the answer', async () => {
    const k = await createKey({ name: 'slow write', role: 'service' });
    const watch = watchKeyWrites(metered.api, k.keyId, 2000);
    try {
      const started = Date.now();
      expect((await metered.api.call('GET', '/users/u1/coupons', asKey(k.key))).status).toBe(200);
      expect(Date.now() - started).toBeLessThan(1500);
      expect(watch.sent).toHaveLength(1);
      expect((await keyItems()).find((i) => i.keyId === k.keyId)!.lastUsedAt).toBeUndefined();
      await waitFor('lastUsedAt written', async () => (await keyItems()).find((i) => i.keyId === k.keyId)?.lastUsedAt, 5000);
    } finally {
      watch.stop();
    }
  });

  it('writes lastUsedAt again only after an hour; of two instances writing at once, the condition keeps one', async () => {
    const k = await createKey({ name: 'hourly', role: 'service' });
    const use = async (api: TestApi) => expect((await api.call('GET', '/users/u1/coupons', asKey(k.key))).status).toBe(200);
    const lastUsed = async () => (await keyItems()).find((i) => i.keyId === k.keyId)?.lastUsedAt as string | undefined;
    await use(one);
    const first = await waitFor('lastUsedAt', lastUsed, 5000);
    const [a, b] = await Promise.all([1, 2].map(() => startTestApi('api-keys', { TABLE_NAME: one.table })));
    // a's writes are held back a second, so b reads the record before a's write lands.
    const [watchA, watchB] = [watchKeyWrites(a!, k.keyId, 1000), watchKeyWrites(b!, k.keyId)];
    try {
      // Half an hour on: within the hour, nothing is sent.
      a!.core.now = () => Date.now() + 30 * 60_000;
      await use(a!);
      expect(watchA.sent).toEqual([]);
      // 61 minutes on (a's copy of the record is 31 minutes old, so it reads it again): both send.
      const base = Date.now();
      a!.core.now = () => Date.now() + 61 * 60_000;
      b!.core.now = () => Date.now() + 61 * 60_000 + 10_000;
      await use(a!);
      await use(b!);
      expect([watchA.sent.length, watchB.sent.length]).toEqual([1, 1]);
      const second = await waitFor('b’s lastUsedAt', async () => ((await lastUsed()) !== first ? lastUsed() : undefined), 5000);
      expect(Date.parse(second!) - base).toBeGreaterThanOrEqual(61 * 60_000 + 10_000);
      // a's write arrives after b's, and its condition (older than a's hour) refuses it.
      await new Promise((r) => setTimeout(r, 1500));
      expect(await lastUsed()).toBe(second);
      // Neither sends again within its hour, however often the key is used.
      for (let i = 0; i < 5; i++) await Promise.all([use(a!), use(b!)]);
      expect([watchA.sent.length, watchB.sent.length]).toEqual([1, 1]);
    } finally {
      watchA.stop();
      watchB.stop();
      await Promise.all([a!.close(), b!.close()]);
    }
  }, 30_000);
});

describe('npm start’s service key', () => {
  it('is derived from the development secret: the same key again, a working new one once it is revoked, another secret another key', async () => {
    const secret = `dev-secret-${randomBytes(8).toString('hex')}`;
    const first = await devServiceKey(one.core, secret, 't-dev');
    made.push(first);
    expect(first).toMatch(/^cbk_t-dev_[0-9a-f]{24}_[A-Za-z0-9_-]{43}$/);
    expect(await devServiceKey(two.core, secret, 't-dev')).toBe(first);
    expect((await one.call('GET', '/users/u1/coupons', asKey(first))).status).toBe(200);
    const keyId = KEY_FORMAT.exec(first)![2]!;
    expect((await one.call('DELETE', `/api-keys/${keyId}`, { token: await admin('t-dev') })).status).toBe(204);
    const next = await devServiceKey(one.core, secret, 't-dev');
    made.push(next);
    expect(next).not.toBe(first);
    expect((await one.call('GET', '/users/u1/coupons', asKey(next))).status).toBe(200);
    expect(await devServiceKey(one.core, secret, 't-dev')).toBe(next);
    const other = await devServiceKey(one.core, `${secret}-other`, 't-dev');
    made.push(other);
    expect(other).not.toBe(next);
    const listed = (await one.call('GET', '/api-keys', { token: await admin('t-dev') })).json.items;
    expect(listed.map((k: any) => [k.name, k.role, k.revokedAt !== undefined])).toEqual([
      ['npm start (development)', 'service', false],
      ['npm start (development)', 'service', false],
      ['npm start (development)', 'service', true],
    ]);
  });
});

describe('no secret is stored or logged', () => {
  it('a scan of the whole table holds no key and no 16-character piece of any secret; no log line holds one either', async () => {
    expect(made.length).toBeGreaterThan(15);
    const table = JSON.stringify([...(await one.scan())]);
    const logs = JSON.stringify([...one.logs, ...two.logs]);
    for (const key of made) {
      const secret = KEY_FORMAT.exec(key)![3]!;
      for (let i = 0; i + 16 <= secret.length; i++) {
        const piece = secret.slice(i, i + 16);
        expect(table.includes(piece), `table holds ${piece}`).toBe(false);
        expect(logs.includes(piece), `a log line holds ${piece}`).toBe(false);
      }
      expect(table).not.toContain(key);
    }
    // The keys did sign requests that were logged, as their key id.
    expect(logs).toContain('"sub":"key:');
    expect(logs).not.toContain(API_KEY_PREFIX);
  });
});
