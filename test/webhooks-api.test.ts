import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { admin, answer, createBook, expectError, service, startTestApi, user, type JsonOf, type TestApi, type TestClient } from './support/harness.ts';
import { createCouponClient, unwrap } from '../packages/client/src/index.ts';

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
    const listed = await answer(api.client(await admin()).webhooks.$get());
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
      expectError(await answer(api.client(token).webhooks.$get()), 403, 'FORBIDDEN');
    }
  });

  it('replays a retry with the same Idempotency-Key instead of adding a second endpoint', async () => {
    const token = await admin('t-idem');
    const headers = { 'idempotency-key': 'wh-1' };
    const a = await answer(api.client(token).webhooks.$post({ json: { url: 'https://example.com/once' } }, { headers }));
    const b = await answer(api.client(token).webhooks.$post({ json: { url: 'https://example.com/once' } }, { headers }));
    expect(a.status).toBe(201);
    expect(b.json).toEqual(a.json);
    expect((await answer(api.client(token).webhooks.$get())).json.items).toHaveLength(1);
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
    expect((await answer(api.client(other).webhooks.$get())).json.items.map((w: any) => w.id)).not.toContain(id);
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

  it('rotations at once all succeed: a loser retries from the secret the winner wrote', async () => {
    const created = (await create({ url: 'https://example.com/rotate-race' })).json;
    const token = await admin();
    const answers = await Promise.all(Array.from({ length: 6 }, () => api.call('POST', `/webhooks/${created.id}/rotate-secret`, { token })));
    expect(answers.map((a) => a.status)).toEqual(Array(6).fill(200));
    const issued = new Set(answers.map((a) => a.json.secret as string));
    expect(issued.size).toBe(6);
    const item = (await webhookItems()).find((w) => w.webhookId === created.id)!;
    // Six writes in some order: the last one's secret is current, and it rotated out the fifth's, not the original.
    expect(issued.has(item.secret)).toBe(true);
    expect(issued.has(item.previousSecret)).toBe(true);
    expect(item.previousSecret).not.toBe(item.secret);
  });

  it('lists no deliveries before any event, and a message it never sent is 404 DELIVERY_NOT_FOUND', async () => {
    const { id } = (await create({ url: 'https://example.com/quiet' })).json;
    const token = await admin();
    const r = await answer(api.client(token).webhooks[':id'].deliveries.$get({ param: { id }, query: { limit: '10' } }));
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ items: [] });
    expectError(await answer(api.client(token).webhooks[':id'].deliveries[':messageId'].resend.$post({ param: { id, messageId: 'msg_nope' } })), 404, 'DELIVERY_NOT_FOUND');
    // Raw: a status the typed query does not have.
    expectError(await api.call('GET', `/webhooks/${id}/deliveries?status=lost`, { token }), 400, 'VALIDATION_FAILED');
  });
});

describe('the typed client', () => {
  it('infers the webhook routes from the app', async () => {
    const client = createCouponClient(api.base, { token: await admin('t-client') });
    const created = await unwrap(client.webhooks.$post({ json: { url: 'https://example.com/typed', events: ['book.low_stock'] } }));
    expect(created.secret).toMatch(/^whsec_/);
    const listed = await unwrap(client.webhooks.$get());
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
