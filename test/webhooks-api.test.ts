import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { admin, answer, createBook, expectError, service, startTestApi, user, type JsonOf, type TestApi, type TestClient } from './support/harness.ts';
import { createCouponClient, unwrap } from '../packages/client/src/index.ts';
import { deliveryShard, messageIdOf, recordDelivery, type DeliveryStatus } from '@coupons/core';

// The endpoint API: who may manage webhooks, what is refused, and what the table holds afterwards.
let api: TestApi;
beforeAll(async () => {
  api = await startTestApi('webhooks-api');
});
afterAll(() => api.close());

const create = async (json: JsonOf<TestClient['webhooks']['$post']>, tenant = 't1') => answer(api.client(await admin(tenant)).webhooks.$post({ json }));
const webhookItems = async () => (await api.scan()).filter((i) => i.__edb_e__ === 'webhook');

describe('POST /webhooks', () => {
  it('answers 201 with the endpoint and a whsec_ secret shown only there', async () => {
    const r = await create({ url: 'https://example.com/hooks', events: ['code.redeemed', 'redemption.rolled_back'] });
    expect(r.status).toBe(201);
    expect(r.json).toEqual({
      id: expect.any(String),
      url: 'https://example.com/hooks',
      events: ['code.redeemed', 'redemption.rolled_back'],
      secret: expect.stringMatching(/^whsec_[A-Za-z0-9+/]{43}=$/),
      createdAt: expect.any(String),
    });
    const listed = await answer(api.client(await admin()).webhooks.$get({ query: {} }));
    const mine = listed.json.items.find((w: any) => w.id === r.json.id);
    expect(mine).toEqual({ id: r.json.id, url: 'https://example.com/hooks', events: ['code.redeemed', 'redemption.rolled_back'], createdAt: r.json.createdAt });
    expect(JSON.stringify(listed.json)).not.toContain('whsec_');
    const one = await answer(api.client(await admin()).webhooks[':id'].$get({ param: { id: r.json.id } }));
    expect(one.status).toBe(200);
    expect(one.json.secret).toBeUndefined();
  });

  it('subscribes to every type when events is absent', async () => {
    const r = await create({ url: 'http://example.com/all' });
    expect(r.status).toBe(201);
    expect(r.json.events).toEqual([]);
  });

  it.each([
    ['ftp URL', { url: 'ftp://example.com/x' }, 'url'],
    ['file URL', { url: 'file:///etc/passwd' }, 'url'],
    ['not a URL', { url: 'example.com' }, 'url'],
    ['unknown event type', { url: 'https://example.com', events: ['code.exploded'] }, 'events.0'],
    ['extra field', { url: 'https://example.com', secret: 'whsec_x' }, '(body)'],
  ])('refuses a %s with 400 and writes nothing', async (_, body, field) => {
    const before = (await webhookItems()).length;
    // Raw: bodies the typed client would not let through.
    const r = await api.call('POST', '/webhooks', { token: await admin(), body });
    expectError(r, 400, 'VALIDATION_FAILED');
    expect(r.json.error.details.map((d: any) => d.field)).toContain(field);
    expect((await webhookItems()).length).toBe(before);
  });

  it('is for admins only: service and user tokens get 403', async () => {
    for (const token of [await service(), await user('u1')]) {
      expectError(await answer(api.client(token).webhooks.$post({ json: { url: 'https://example.com' } })), 403, 'FORBIDDEN');
      expectError(await answer(api.client(token).webhooks.$get({ query: {} })), 403, 'FORBIDDEN');
    }
  });

  it('replays a retry with the same Idempotency-Key instead of adding a second endpoint', async () => {
    const token = await admin('t-idem');
    const headers = { 'idempotency-key': 'wh-1' };
    const a = await answer(api.client(token).webhooks.$post({ json: { url: 'https://example.com/once' } }, { headers }));
    const b = await answer(api.client(token).webhooks.$post({ json: { url: 'https://example.com/once' } }, { headers }));
    expect(a.status).toBe(201);
    expect(b.json).toEqual(a.json);
    expect((await answer(api.client(token).webhooks.$get({ query: {} }))).json.items).toHaveLength(1);
  });
});

describe('one endpoint', () => {
  it("is another tenant's 404 WEBHOOK_NOT_FOUND on every route", async () => {
    const { id } = (await create({ url: 'https://example.com/t1' })).json;
    const other = await admin('t2');
    expectError(await answer(api.client(other).webhooks[':id'].$get({ param: { id } })), 404, 'WEBHOOK_NOT_FOUND');
    expectError(await answer(api.client(other).webhooks[':id'].$delete({ param: { id } })), 404, 'WEBHOOK_NOT_FOUND');
    expectError(await answer(api.client(other).webhooks[':id'].deliveries.$get({ param: { id }, query: {} })), 404, 'WEBHOOK_NOT_FOUND');
    expectError(await answer(api.client(other).webhooks[':id']['rotate-secret'].$post({ param: { id }, json: {} })), 404, 'WEBHOOK_NOT_FOUND');
    expect((await answer(api.client(other).webhooks.$get({ query: {} }))).json.items.map((w: any) => w.id)).not.toContain(id);
    expect((await answer(api.client(await admin()).webhooks[':id'].$get({ param: { id } }))).status).toBe(200);
  });

  it('DELETE answers 204, then the endpoint is gone (404 after)', async () => {
    const { id } = (await create({ url: 'https://example.com/gone' })).json;
    const token = await admin();
    const r = await answer(api.client(token).webhooks[':id'].$delete({ param: { id } }));
    expect(r.status).toBe(204);
    expect(r.text).toBe('');
    expectError(await answer(api.client(token).webhooks[':id'].$get({ param: { id } })), 404, 'WEBHOOK_NOT_FOUND');
    expectError(await answer(api.client(token).webhooks[':id'].$delete({ param: { id } })), 404, 'WEBHOOK_NOT_FOUND');
    expect((await webhookItems()).some((w) => w.webhookId === id)).toBe(false);
  });

  it('rotates the secret with an overlap during which both sign', async () => {
    const created = (await create({ url: 'https://example.com/rotate' })).json;
    const token = await admin();
    const r = await answer(api.client(token).webhooks[':id']['rotate-secret'].$post({ param: { id: created.id }, json: { overlapSeconds: 3600 } }));
    expect(r.status).toBe(200);
    expect(r.json.secret).toMatch(/^whsec_/);
    expect(r.json.secret).not.toBe(created.secret);
    const until = Date.parse(r.json.previousSecretExpiresAt);
    expect(until - Date.now()).toBeGreaterThan(3500_000);
    expect(until - Date.now()).toBeLessThanOrEqual(3600_000);
    const item = (await webhookItems()).find((w) => w.webhookId === created.id)!;
    expect(item.secret).toBe(r.json.secret);
    expect(item.previousSecret).toBe(created.secret);
    expect((await answer(api.client(token).webhooks[':id'].$get({ param: { id: created.id } }))).json.previousSecretExpiresAt).toBe(r.json.previousSecretExpiresAt);
    // Without a body: the default overlap of a day. The secret rotated out is the one just issued.
    // Raw: the typed client always sends a body.
    const again = await api.call('POST', `/webhooks/${created.id}/rotate-secret`, { token });
    expect(again.status).toBe(200);
    expect(Date.parse(again.json.previousSecretExpiresAt) - Date.now()).toBeGreaterThan(86_000_000);
    expect((await webhookItems()).find((w) => w.webhookId === created.id)!.previousSecret).toBe(r.json.secret);
  });

  /** Runs `work` with every UpdateItem held back `ms`, so rotations sent at once all read the endpoint before any of them writes. */
  async function withWritesHeld<T>(ms: number, work: () => Promise<T>): Promise<T> {
    const stack = api.core.store.client.middlewareStack;
    stack.add(
      (next, context) => async (args) => {
        if ((context as { commandName?: string }).commandName === 'UpdateItemCommand') await new Promise((r) => setTimeout(r, ms));
        return next(args);
      },
      { step: 'initialize', name: 'holdWrites' },
    );
    try {
      return await work();
    } finally {
      stack.remove('holdWrites');
    }
  }

  it('rotations racing each other are one rotation: the secret receivers held before still verifies, and every secret handed out signs', async () => {
    const created = (await create({ url: 'https://example.com/rotate-race' })).json;
    const token = await admin();
    const answers = await withWritesHeld(150, () =>
      Promise.all(Array.from({ length: 6 }, () => api.call('POST', `/webhooks/${created.id}/rotate-secret`, { token }))),
    );
    expect(answers.map((a) => a.status)).toEqual(Array(6).fill(200));
    const item = (await webhookItems()).find((w) => w.webhookId === created.id)!;
    // The secret held before the rotations is the one rotated out, and it signs for the whole overlap.
    expect(item.previousSecret).toBe(created.secret);
    expect(item.previousSecretUntil).toBeGreaterThan(Date.now() + 86_000_000);
    const signing = new Set([item.secret, item.previousSecret]);
    for (const a of answers) expect(signing.has(a.json.secret)).toBe(true);
    // The racing calls answer the rotation that happened: one new secret.
    expect(new Set(answers.map((a) => a.json.secret))).toEqual(new Set([item.secret]));
    expect(new Set(answers.map((a) => a.json.previousSecretExpiresAt))).toEqual(new Set([new Date(item.previousSecretUntil).toISOString()]));
  });

  it('of rotations racing each other with different overlaps, the shortest stands (one asking for none cuts the old secret off)', async () => {
    for (let round = 0; round < 3; round++) {
      const created = (await create({ url: `https://example.com/rotate-cut-${round}` })).json;
      const token = await admin();
      const answers = await withWritesHeld(150, () =>
        Promise.all([3600, 0, 86_400, 0, 600].map((overlapSeconds) => api.call('POST', `/webhooks/${created.id}/rotate-secret`, { token, body: { overlapSeconds } }))),
      );
      expect(answers.map((a) => a.status)).toEqual(Array(5).fill(200));
      const item = (await webhookItems()).find((w) => w.webhookId === created.id)!;
      expect(item.previousSecret).toBe(created.secret);
      expect(item.previousSecretUntil).toBeLessThanOrEqual(Date.now());
      expect((await api.call('GET', `/webhooks/${created.id}`, { token })).json.previousSecretExpiresAt).toBeUndefined();
    }
  });

  it('lists no deliveries before any event, and a message it never sent is 404 DELIVERY_NOT_FOUND', async () => {
    const { id } = (await create({ url: 'https://example.com/quiet' })).json;
    const token = await admin();
    const r = await answer(api.client(token).webhooks[':id'].deliveries.$get({ param: { id }, query: { limit: '10' } }));
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ items: [], nextCursor: null });
    expectError(await answer(api.client(token).webhooks[':id'].deliveries[':messageId'].resend.$post({ param: { id, messageId: 'msg_nope' } })), 404, 'DELIVERY_NOT_FOUND');
    // Raw: a status the typed query does not have.
    expectError(await api.call('GET', `/webhooks/${id}/deliveries?status=lost`, { token }), 400, 'VALIDATION_FAILED');
  });
});

describe('bounds', () => {
  it('a tenant has at most 25 endpoints: more is 409 TENANT_LIMIT_REACHED with nothing written, even when they race; deleting one makes room', async () => {
    const tenant = 't-cap';
    const token = await admin(tenant);
    const made = await Promise.all(Array.from({ length: 30 }, (_, i) => create({ url: `https://example.com/cap-${i}` }, tenant)));
    expect(made.filter((r) => r.status === 201)).toHaveLength(25);
    for (const r of made.filter((r) => r.status !== 201)) expectError(r, 409, 'TENANT_LIMIT_REACHED');
    const mine = async () => (await webhookItems()).filter((w) => w.tenant === tenant);
    expect(await mine()).toHaveLength(25);
    const refused = await create({ url: 'https://example.com/one-more' }, tenant);
    expectError(refused, 409, 'TENANT_LIMIT_REACHED');
    expect(refused.json.error.details).toEqual({ limit: 25 });
    expect(await mine()).toHaveLength(25);
    const gone = made.find((r) => r.status === 201)!.json.id;
    expect((await api.call('DELETE', `/webhooks/${gone}`, { token })).status).toBe(204);
    expect((await create({ url: 'https://example.com/room-again' }, tenant)).status).toBe(201);
    expectError(await create({ url: 'https://example.com/full-again' }, tenant), 409, 'TENANT_LIMIT_REACHED');
  });

  it('counts the endpoints a tenant made before the count existed', async () => {
    const tenant = 't-old';
    for (let i = 0; i < 3; i++) expect((await create({ url: `https://example.com/old-${i}` }, tenant)).status).toBe(201);
    // As a release before the cap left it: endpoints, no count.
    const count = (await api.scan()).find((i) => i.__edb_e__ === 'tenantQuota' && i.tenant === tenant);
    expect(count?.used).toBe(3);
    await api.core.store.tenantQuota.delete({ tenant, kind: 'webhooks' }).go();
    expect((await create({ url: 'https://example.com/new' }, tenant)).status).toBe(201);
    const started = (await api.scan()).find((i) => i.__edb_e__ === 'tenantQuota' && i.tenant === tenant);
    expect(started?.used).toBe(4);
  });

  it('GET /webhooks answers in pages, oldest first, with a cursor', async () => {
    const tenant = 't-pages';
    const token = await admin(tenant);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await create({ url: `https://example.com/page-${i}` }, tenant)).json.id);
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const r = await api.call('GET', `/webhooks?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, { token });
      expect(r.status).toBe(200);
      expect(r.json.items.length).toBeLessThanOrEqual(2);
      seen.push(...r.json.items.map((w: any) => w.id));
      cursor = r.json.nextCursor;
      pages++;
    } while (cursor && pages < 10);
    expect(pages).toBe(3);
    expect(seen).toEqual(ids);
    expect((await api.call('GET', '/webhooks', { token })).json.nextCursor).toBeNull();
    expectError(await api.call('GET', '/webhooks?cursor=bm9wZQ', { token }), 400, 'VALIDATION_FAILED');
  });
});

describe('a delivery log', () => {
  /** Writes a message's record as the dispatcher does, `ageMs` old (message ids start with their event's time). */
  async function logged(tenant: string, webhookId: string, ageMs: number, status: DeliveryStatus) {
    const messageId = messageIdOf(Date.now() - ageMs, tenant, webhookId, ageMs, Math.random());
    const job = { tenant, webhookId, messageId, eventType: 'code.assigned' as const, lane: `code:C${ageMs}`, order: '1', body: '{}' };
    await recordDelivery(api.core, job, { status, attempts: status === 'failed' ? 9 : 1, ...(status === 'pending' ? { nextAttemptAt: Date.now() + 60_000 } : {}) });
    return messageId;
  }

  /** Every page of `query`, following nextCursor. */
  async function walk(id: string, token: string, query: string) {
    const pages: any[] = [];
    let cursor: string | null = null;
    do {
      const r = await api.call('GET', `/webhooks/${id}/deliveries?${query}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, { token });
      expect(r.status).toBe(200);
      pages.push(r.json);
      cursor = r.json.nextCursor;
      expect(pages.length).toBeLessThan(200);
    } while (cursor);
    return { pages, items: pages.flatMap((p) => p.items) };
  }

  it('finds a failed message behind newer delivered ones with status=failed&limit=1, and walks every page of a status once, newest first', async () => {
    const token = await admin('t-log');
    const { id } = (await create({ url: 'https://example.com/log' }, 't-log')).json;
    const failed = [await logged('t-log', id, 90_000, 'failed'), await logged('t-log', id, 80_000, 'failed'), await logged('t-log', id, 70_000, 'failed')];
    // Newer delivered messages, at least one in each failed message's delivery shard, so a shard read
    // newest first meets a delivered message before the failed one.
    const shardOf = (m: string) => deliveryShard(m, api.core.config.WEBHOOK_DELIVERY_SHARDS);
    const delivered: string[] = [];
    for (let i = 0; i < 60 || !failed.every((f) => delivered.some((d) => shardOf(d) === shardOf(f))); i++) {
      delivered.push(await logged('t-log', id, 60_000 - i * 200, 'delivered'));
    }
    const pending = await logged('t-log', id, 1000, 'pending');

    const first = await api.call('GET', `/webhooks/${id}/deliveries?status=failed&limit=1`, { token });
    expect(first.status).toBe(200);
    expect(first.json.items.map((d: any) => d.messageId)).toEqual([failed[2]]);
    expect(first.json.items[0]).toMatchObject({ status: 'failed', attempts: 9 });

    const byStatus = await walk(id, token, 'status=failed&limit=1');
    expect(byStatus.items.map((d) => d.messageId)).toEqual([...failed].reverse());
    expect(byStatus.pages.at(-1).nextCursor).toBeNull();
    // Unfiltered: every message once, newest first, in pages of at most `limit`.
    const everything = await walk(id, token, 'limit=7');
    expect(everything.items.map((d) => d.messageId)).toEqual([pending, ...[...delivered].reverse(), ...[...failed].reverse()]);
    expect(everything.pages.every((p) => p.items.length <= 7)).toBe(true);
    expect(everything.pages.slice(0, -1).every((p) => p.items.length === 7)).toBe(true);
    // The failed message found is the one a resend takes.
    expect((await api.call('POST', `/webhooks/${id}/deliveries/${failed[2]}/resend`, { token })).status).toBe(202);
  });

  it("refuses a cursor it did not make, or one made for another status, with 400 VALIDATION_FAILED", async () => {
    const token = await admin('t-log');
    const { id } = (await create({ url: 'https://example.com/log-cursor' }, 't-log')).json;
    for (let i = 0; i < 3; i++) await logged('t-log', id, 10_000 - i, 'failed');
    const page = await api.call('GET', `/webhooks/${id}/deliveries?status=failed&limit=1`, { token });
    expect(page.json.nextCursor).toEqual(expect.any(String));
    const other = await api.call('GET', `/webhooks/${id}/deliveries?status=delivered&limit=1&cursor=${page.json.nextCursor}`, { token });
    expectError(other, 400, 'VALIDATION_FAILED');
    expectError(await api.call('GET', `/webhooks/${id}/deliveries?cursor=bm9wZQ`, { token }), 400, 'VALIDATION_FAILED');
  });
});

describe('the typed client', () => {
  it('infers the webhook routes from the app', async () => {
    const client = createCouponClient(api.base, { token: await admin('t-client') });
    const created = await unwrap(client.webhooks.$post({ json: { url: 'https://example.com/typed', events: ['book.low_stock'] } }));
    expect(created.secret).toMatch(/^whsec_/);
    const listed = await unwrap(client.webhooks.$get({ query: {} }));
    expect(listed.items.map((w) => w.id)).toEqual([created.id]);
    const log = await unwrap(client.webhooks[':id'].deliveries.$get({ param: { id: created.id }, query: {} }));
    expect(log.items).toEqual([]);
    const rotated = await unwrap(client.webhooks[':id']['rotate-secret'].$post({ param: { id: created.id }, json: {} }));
    expect(rotated.secret).not.toBe(created.secret);
  });
});

describe('lowStockThreshold on books', () => {
  it('is set at creation, changed and removed by PATCH', async () => {
    const book = await createBook(api, { lowStockThreshold: 10 });
    expect(book.lowStockThreshold).toBe(10);
    const token = await admin();
    const p = await answer(api.client(token).coupons[':bookId'].$patch({ param: { bookId: book.id }, header: {}, json: { lowStockThreshold: 3 } }));
    expect(p.json.lowStockThreshold).toBe(3);
    expect((await answer(api.client(token).coupons[':bookId'].$get({ param: { bookId: book.id } }))).json.lowStockThreshold).toBe(3);
    const removed = await answer(api.client(token).coupons[':bookId'].$patch({ param: { bookId: book.id }, header: {}, json: { lowStockThreshold: null } }));
    expect(removed.status).toBe(200);
    expect((await answer(api.client(token).coupons[':bookId'].$get({ param: { bookId: book.id } }))).json.lowStockThreshold).toBeUndefined();
    expectError(await answer(api.client(token).coupons[':bookId'].$patch({ param: { bookId: book.id }, header: {}, json: { lowStockThreshold: -1 } })), 400, 'VALIDATION_FAILED');
    expectError(await answer(api.client(token).coupons.$post({ json: { name: 'x', lowStockThreshold: 1.5 } })), 400, 'VALIDATION_FAILED');
  });
});
