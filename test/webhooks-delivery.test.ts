import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { codeEventsOf, installFaultInjection, webhookConsumers, type CoreContext } from '@coupons/core';
import { TARGET_REFUSED } from '../packages/core/src/webhooks/send.ts';
import type { TableChange } from '../packages/core/src/stream/change.ts';
import { admin, answer, bookWithCodes, createBook, service, startTestApi, type JsonOf, type TestApi, type TestClient } from './support/harness.ts';
import { startReceiver, waitFor, type Received, type Receiver } from './support/webhook-receiver.ts';

// Delivery, driven by TableChange objects handed to the consumers the way the change-stream
// follower hands them over: what is signed, who hears what, retries, order, restarts, deletion,
// the SSRF guard and the stock alerts. Receivers are real HTTP servers on 127.0.0.1 that verify
// every signature with the standardwebhooks library; the table is DynamoDB Local.
let api: TestApi;
const receivers: Receiver[] = [];
const stops: (() => void)[] = [];
beforeAll(async () => {
  api = await startTestApi('webhooks-delivery', {
    WEBHOOK_ALLOW_LOOPBACK: 'true',
    WEBHOOK_RETRY_SCHEDULE: '0.3,0.3,0.3',
    WEBHOOK_POLL_MS: '50',
    WEBHOOK_TIMEOUT_MS: '2000',
    WEBHOOK_DELIVERY_SHARDS: '4',
  });
});
afterEach(() => {
  for (const stop of stops.splice(0)) stop();
});
afterAll(async () => {
  await Promise.all(receivers.map((r) => r.close()));
  await api.close();
});

let sequence = 0;
const nextSeq = () => String(++sequence).padStart(21, '0');

/** A code item's write as the code's transitions make it (`changeSeq`, `lastChange`: code/code-event.ts). */
function codeChange(tenant: string, code: string, seq: number, type: string, extra: Record<string, unknown> = {}): TableChange {
  const at = Date.now();
  const item = {
    __edb_e__: 'code',
    tenant,
    code,
    bookId: 'book-1',
    status: 'assigned',
    userId: 'user-7',
    assignedAt: new Date(at - 1000).toISOString(),
    redemptionCount: type === 'redeemed' ? 1 : 0,
    maxRedemptions: 1,
    changeSeq: seq,
    lastChange: { type, at: new Date(at).toISOString(), by: 'svc-1', userId: 'user-7', ...extra },
  };
  return {
    eventName: 'MODIFY',
    keys: { pk: `T#${tenant}#CODE#${code}`, sk: 'CODE' },
    oldImage: { ...item, changeSeq: seq - 1 },
    newImage: item,
    sequenceNumber: nextSeq(),
    at,
  };
}

function pipeline(ctx: CoreContext = api.core) {
  const w = webhookConsumers(ctx, { codeEventsOf });
  stops.push(() => w.dispatcher!.stop());
  const handle = async (changes: TableChange[]) => {
    for (const c of w.consumers) await c.handle(changes);
  };
  return { ...w, handle };
}

async function endpoint(tenant: string, body: Omit<JsonOf<TestClient['webhooks']['$post']>, 'url'> = {}, answerWith?: (req: Received, n: number) => number) {
  const receiver = await startReceiver({ answer: answerWith });
  receivers.push(receiver);
  const r = await answer(api.client(await admin(tenant)).webhooks.$post({ json: { url: `${receiver.url}/hook`, ...body } }));
  expect(r.status).toBe(201);
  receiver.trust(r.json.secret);
  return { receiver, id: r.json.id as string, secret: r.json.secret as string };
}

const deliveries = async (tenant: string, id: string) =>
  (await answer(api.client(await admin(tenant)).webhooks[':id'].deliveries.$get({ param: { id }, query: {} }))).json.items as any[];

/** The table's changes between two scans, as the stream would report them (a stand-in follower for tests of one item). */
async function changeOf(before: Record<string, any> | undefined, key: { pk: string; sk: string }): Promise<TableChange> {
  const after = (await api.scan()).find((i) => i.pk === key.pk && i.sk === key.sk);
  return {
    eventName: before ? (after ? 'MODIFY' : 'REMOVE') : 'INSERT',
    keys: key,
    oldImage: before,
    newImage: after,
    sequenceNumber: nextSeq(),
    at: Date.now(),
  };
}

describe('who hears what', () => {
  it('signs every message with the endpoint secret and sends only subscribed types of its own tenant', async () => {
    const all = await endpoint('d1');
    const redeemedOnly = await endpoint('d1', { events: ['code.redeemed'] });
    const otherTenant = await endpoint('d2');
    const p = pipeline();
    await p.dispatcher!.start();
    await p.handle([
      codeChange('d1', 'CODE-A', 1, 'assigned'),
      codeChange('d1', 'CODE-A', 2, 'redeemed', { redemptionId: 'r-1', orderId: 'order-9' }),
      codeChange('d2', 'CODE-B', 1, 'assigned'),
    ]);
    expect(all.receiver.received.map((r) => r.body.type)).toEqual(['code.assigned', 'code.redeemed']);
    expect(redeemedOnly.receiver.received.map((r) => r.body.type)).toEqual(['code.redeemed']);
    expect(otherTenant.receiver.received.map((r) => r.body.data.code)).toEqual(['CODE-B']);
    for (const r of [...all.receiver.received, ...redeemedOnly.receiver.received, ...otherTenant.receiver.received]) {
      expect(r.verifiedWith).toBeDefined();
      expect(r.id).toMatch(/^msg_/);
    }
    expect(all.receiver.unverified).toEqual([]);
    const redeemed = all.receiver.received[1]!;
    expect(redeemed.body).toEqual({
      type: 'code.redeemed',
      timestamp: expect.any(String),
      data: expect.objectContaining({ code: 'CODE-A', bookId: 'book-1', userId: 'user-7', status: 'redeemed', redemptionCount: 1, redemptionId: 'r-1', orderId: 'order-9', by: 'svc-1' }),
    });
    // The same event to two endpoints is one message: one id.
    expect(redeemedOnly.receiver.received[0]!.id).toBe(redeemed.id);
    const log = await deliveries('d1', all.id);
    expect(log.map((d) => [d.eventType, d.status, d.attempts, d.responseStatus]).sort()).toEqual([
      ['code.assigned', 'delivered', 1, 200],
      ['code.redeemed', 'delivered', 1, 200],
    ]);
  });

  it('turns a rollback into redemption.rolled_back with the redemption, order and reason', async () => {
    const ep = await endpoint('d4', { events: ['redemption.rolled_back'] });
    const p = pipeline();
    await p.dispatcher!.start();
    await p.handle([
      codeChange('d4', 'CODE-RB', 2, 'redeemed', { redemptionId: 'r-7', orderId: 'o-7' }),
      codeChange('d4', 'CODE-RB', 3, 'rolledBack', { redemptionId: 'r-7', orderId: 'o-7', reason: 'order refunded' }),
    ]);
    expect(ep.receiver.received.map((r) => r.body)).toEqual([
      {
        type: 'redemption.rolled_back',
        timestamp: expect.any(String),
        data: expect.objectContaining({ code: 'CODE-RB', userId: 'user-7', redemptionId: 'r-7', orderId: 'o-7', reason: 'order refunded', status: 'active' }),
      },
    ]);
  });

  it('hears a claim with a lock as code.assigned then code.locked, so the unlock that follows releases a lock it heard of', async () => {
    const ep = await endpoint('d5');
    const p = pipeline();
    await p.dispatcher!.start();
    const claimed = codeChange('d5', 'CODE-CL', 2, 'assigned', { lockId: 'lock-9' });
    Object.assign(claimed.newImage!, { lockId: 'lock-9', lockExpiresAt: Date.now() + 60_000 });
    claimed.oldImage = { ...claimed.oldImage, status: 'available', changeSeq: undefined, userId: undefined };
    await p.handle([claimed, codeChange('d5', 'CODE-CL', 3, 'unlocked', { lockId: 'lock-9' })]);
    await waitFor('three messages', () => ep.receiver.delivered().length === 3);
    const bodies = ep.receiver.delivered().map((r) => r.body);
    expect(bodies.map((b) => b.type)).toEqual(['code.assigned', 'code.locked', 'code.unlocked']);
    expect(bodies[0].data).toMatchObject({ code: 'CODE-CL', status: 'active', userId: 'user-7' });
    expect(bodies[0].data.lockId).toBeUndefined();
    expect(bodies[0].data.lockExpiresAt).toBeUndefined();
    expect(bodies[1].data).toMatchObject({ code: 'CODE-CL', status: 'locked', lockId: 'lock-9', lockExpiresAt: expect.any(String) });
    expect(new Set(ep.receiver.delivered().map((r) => r.id)).size).toBe(3);
  });

  it('sends an event read twice (a follower resumed from its checkpoint) with the same webhook-id', async () => {
    const ep = await endpoint('d3');
    const p = pipeline();
    await p.dispatcher!.start();
    const change = codeChange('d3', 'CODE-R', 1, 'locked', { lockId: 'lock-1' });
    await p.handle([change]);
    await p.handle([change]);
    expect(ep.receiver.received).toHaveLength(2);
    expect(new Set(ep.receiver.received.map((r) => r.id)).size).toBe(1);
    expect(ep.receiver.received[0]!.body.data.lockId).toBe('lock-1');
  });
});

describe('retries', () => {
  it('retries after 500 with the same message id until it is accepted', async () => {
    const ep = await endpoint('r1', {}, (_, n) => (n < 2 ? 500 : 200));
    const p = pipeline();
    await p.dispatcher!.start();
    await p.handle([codeChange('r1', 'CODE-RETRY', 1, 'unlocked')]);
    await waitFor('the third attempt', () => ep.receiver.delivered().length === 1);
    expect(ep.receiver.received.map((r) => r.answered)).toEqual([500, 500, 200]);
    expect(new Set(ep.receiver.received.map((r) => r.id)).size).toBe(1);
    const [d] = await waitFor('the log', async () => {
      const log = await deliveries('r1', ep.id);
      return log[0]?.status === 'delivered' && log;
    }, 30_000, 50);
    expect(d).toMatchObject({ eventType: 'code.unlocked', status: 'delivered', attempts: 3, responseStatus: 200 });
  });

  it('counts no answer within WEBHOOK_TIMEOUT_MS as a failed attempt, and retries it', async () => {
    const hanging = createServer(() => undefined); // reads the request, never answers
    await new Promise<void>((r) => hanging.listen(0, '127.0.0.1', () => r()));
    const token = await admin('r3');
    const url = `http://127.0.0.1:${(hanging.address() as AddressInfo).port}/hook`;
    const { id } = (await answer(api.client(token).webhooks.$post({ json: { url } }))).json;
    const p = pipeline({ ...api.core, config: { ...api.core.config, WEBHOOK_TIMEOUT_MS: 300, WEBHOOK_RETRY_SCHEDULE: [0.2] } });
    await p.dispatcher!.start();
    const started = Date.now();
    await p.handle([codeChange('r3', 'CODE-SLOW', 1, 'assigned')]);
    expect(Date.now() - started).toBeLessThan(3000);
    const failed = await waitFor('both attempts', async () => (await deliveries('r3', id)).find((d) => d.status === 'failed'), 30_000, 50);
    expect(failed).toMatchObject({ attempts: 2, lastError: 'no answer within 300 ms' });
    expect(failed.responseStatus).toBeUndefined();
    hanging.closeAllConnections();
    await new Promise((r) => hanging.close(r));
  });

  it('keeps a message as failed once the schedule is used up, and sends it again on request', async () => {
    const ep = await endpoint('r2', {}, () => 500);
    const p = pipeline();
    await p.dispatcher!.start();
    await p.handle([codeChange('r2', 'CODE-FAIL', 1, 'assigned')]);
    const failed = await waitFor('failure', async () => (await deliveries('r2', ep.id)).find((d) => d.status === 'failed'), 30_000, 50);
    // One attempt and three retries: the schedule has three delays.
    expect(failed).toMatchObject({ status: 'failed', attempts: 4, responseStatus: 500 });
    expect(failed.nextAttemptAt).toBeUndefined();
    expect(ep.receiver.received).toHaveLength(4);

    ep.receiver.answerWith(() => 200);
    const token = await admin('r2');
    const key = (await api.scan()).find((i) => i.__edb_e__ === 'webhookDelivery' && i.messageId === failed.messageId)!;
    const r = await answer(api.client(token).webhooks[':id'].deliveries[':messageId'].resend.$post({ param: { id: ep.id, messageId: failed.messageId } }));
    expect(r.status).toBe(202);
    expect(r.json).toMatchObject({ messageId: failed.messageId, status: 'pending', attempts: 0 });
    // Only a failed message is sent again.
    const again = await answer(api.client(token).webhooks[':id'].deliveries[':messageId'].resend.$post({ param: { id: ep.id, messageId: failed.messageId } }));
    expect(again.status).toBe(409);
    expect(again.json.error.code).toBe('DELIVERY_NOT_FAILED');
    // The resend is a write; its change on the stream is what sends the message.
    await p.handle([await changeOf(key, { pk: key.pk, sk: key.sk })]);
    await waitFor('the resent message', () => ep.receiver.delivered().length === 1);
    expect(ep.receiver.delivered()[0]!.id).toBe(failed.messageId);
    expect((await deliveries('r2', ep.id))[0]).toMatchObject({ status: 'delivered', attempts: 1 });
  });
});

describe('cost', () => {
  it('writes one item per delivered message, spread over the delivery shards, and reads the endpoint list about once a second, not per message', async () => {
    const ep = await endpoint('h1');
    const book = await createBook(api, {}, 'h1');
    // A generous timeout, and an endpoint never taken for slow: this is about what the first attempts
    // write, and a busy machine must not send them down the slow endpoint's path.
    const p = pipeline({ ...api.core, config: { ...api.core.config, WEBHOOK_TIMEOUT_MS: 15_000, WEBHOOK_SLOW_ENDPOINT_MS: 15_000 } });
    await p.dispatcher!.start();
    const changes = Array.from({ length: 200 }, (_, i) => {
      const c = codeChange('h1', `CODE-H${i}`, 1, 'assigned');
      c.newImage!.bookId = book.id;
      return c;
    });
    const faults = installFaultInjection(api.core.store.client);
    try {
      faults.clear();
      const started = Date.now();
      await p.handle(changes);
      const seconds = (Date.now() - started) / 1000;
      const count = (command: string) => faults.seen.filter((c) => c === command).length;
      expect(ep.receiver.delivered()).toHaveLength(200);
      expect(count('PutItemCommand')).toBe(200);
      expect(faults.seen.filter((c) => !['PutItemCommand', 'QueryCommand', 'GetItemCommand'].includes(c))).toEqual([]);
      // The tenant's endpoint list: once for the batch's events, then at most once a second for the attempts.
      expect(count('QueryCommand')).toBeLessThanOrEqual(2 + seconds);
      expect(count('GetItemCommand')).toBeLessThanOrEqual(1); // the book, once, from the cache after
    } finally {
      faults.clear();
    }
    const records = (await api.scan()).filter((i) => i.__edb_e__ === 'webhookDelivery' && i.webhookId === ep.id);
    const perKey = new Map<string, number>();
    for (const r of records) perKey.set(r.pk, (perKey.get(r.pk) ?? 0) + 1);
    expect(perKey.size).toBe(4); // WEBHOOK_DELIVERY_SHARDS in this file
    expect(Math.max(...perKey.values())).toBeLessThan(200 * 0.4);
    // Delivered first time: no due-index entry was written.
    expect(records.every((r) => r.gsi2pk === undefined)).toBe(true);
  });
});

describe('order', () => {
  it("delivers one code's events in order even when the first needs a retry, without holding up other codes", async () => {
    const first = new Set<string>();
    const ep = await endpoint('o1', {}, (req) => {
      // The first attempt of the code's first event fails.
      if (req.body.data.code === 'CODE-X' && req.body.type === 'code.assigned' && !first.has(req.id)) {
        first.add(req.id);
        return 503;
      }
      return 200;
    });
    const p = pipeline();
    await p.dispatcher!.start();
    await p.handle([
      codeChange('o1', 'CODE-X', 1, 'assigned'),
      codeChange('o1', 'CODE-Y', 1, 'assigned'),
      codeChange('o1', 'CODE-X', 2, 'locked', { lockId: 'l-1' }),
      codeChange('o1', 'CODE-X', 3, 'redeemed', { redemptionId: 'r-1' }),
    ]);
    await waitFor('all four', () => ep.receiver.delivered().length === 4);
    const okX = ep.receiver.received.filter((r) => r.answered === 200 && r.body.data.code === 'CODE-X').map((r) => r.body.type);
    expect(okX).toEqual(['code.assigned', 'code.locked', 'code.redeemed']);
    // Y went out before X's retry did.
    const order = ep.receiver.received.map((r) => `${r.body.data.code}:${r.answered}`);
    expect(order.indexOf('CODE-Y:200')).toBeLessThan(order.indexOf('CODE-X:200'));
  });
});

describe('endpoints do not share fate', () => {
  it("one tenant's endpoint answering just under the timeout holds neither another tenant's delivery nor the stream", async () => {
    // Answers every request after 8 s, under the 10 s timeout: never a silent endpoint, only a slow one.
    // The bounds below are well under those 8 s, so they hold on a loaded machine too.
    const slow = createServer((req, res) => {
      req.resume();
      setTimeout(() => res.writeHead(200).end(), 8000);
    });
    await new Promise<void>((r) => slow.listen(0, '127.0.0.1', () => r()));
    const slowUrl = `http://127.0.0.1:${(slow.address() as AddressInfo).port}/hook`;
    expect((await api.call('POST', '/webhooks', { token: await admin('fate-a'), body: { url: slowUrl } })).status).toBe(201);
    const fast = await endpoint('fate-b');
    // No commit slack: the endpoint lists are read at once, so what is measured is the dispatcher.
    const p = pipeline({ ...api.core, config: { ...api.core.config, WEBHOOK_COMMIT_SLACK_MS: 0, WEBHOOK_TIMEOUT_MS: 10_000 } });
    await p.dispatcher!.start();
    try {
      // Forty codes of the slow tenant, each its own lane, then one of the other tenant at the end of the batch.
      let started = Date.now();
      const handled = p.handle([
        ...Array.from({ length: 40 }, (_, i) => codeChange('fate-a', `CODE-A${i}`, 1, 'assigned')),
        codeChange('fate-b', 'CODE-B1', 1, 'assigned'),
      ]);
      await waitFor("the other tenant's message", () => fast.receiver.delivered().length === 1, 5000, 10);
      expect(Date.now() - started).toBeLessThan(2500);
      await handled;
      // The batch waits for the slow endpoint only until it is known to be slow (a second), then writes its messages down.
      expect(Date.now() - started).toBeLessThan(5000);
      // Once known to be slow, the endpoint holds no batch at all, while its earlier messages are still out.
      started = Date.now();
      await p.handle([
        ...Array.from({ length: 40 }, (_, i) => codeChange('fate-a', `CODE-A${i}`, 2, 'locked', { lockId: `l-${i}` })),
        codeChange('fate-b', 'CODE-B1', 2, 'locked', { lockId: 'l-b' }),
      ]);
      expect(Date.now() - started).toBeLessThan(5000);
      await waitFor('its next message', () => fast.receiver.delivered().length === 2, 5000, 10);
      expect(Date.now() - started).toBeLessThan(5000);
      // Every message of the slow endpoint is on record (a restart would resume it), and they arrive in the end.
      const slowLog = async () => (await api.scan()).filter((i) => i.__edb_e__ === 'webhookDelivery' && i.tenant === 'fate-a');
      const onRecord = await slowLog();
      expect(onRecord).toHaveLength(80);
      expect(onRecord.every((d) => d.status === 'pending' || d.status === 'delivered')).toBe(true);
      await waitFor('the slow endpoint answering', async () => (await slowLog()).filter((d) => d.status === 'delivered').length >= 32, 15_000, 100);
      expect((await slowLog()).every((d) => d.status !== 'failed' && d.attempts <= 1)).toBe(true);
    } finally {
      slow.closeAllConnections();
      await new Promise((r) => slow.close(r));
    }
  });
});

describe('restarts and deletion', () => {
  it('resumes pending retries from the table after the dispatcher is stopped and started again', async () => {
    const ep = await endpoint('k1', {}, () => 503);
    // Retries three seconds apart: the stop below comes before the first retry is due, however loaded the machine.
    const ctx: CoreContext = { ...api.core, config: { ...api.core.config, WEBHOOK_RETRY_SCHEDULE: [3, 3, 3] } };
    const first = pipeline(ctx);
    await first.dispatcher!.start();
    await first.handle([codeChange('k1', 'CODE-K', 1, 'assigned'), codeChange('k1', 'CODE-K', 2, 'locked')]);
    first.dispatcher!.stop();
    // The first was tried once; the second waits behind it.
    expect(ep.receiver.received.map((r) => r.body.type)).toEqual(['code.assigned']);
    ep.receiver.answerWith(() => 200);
    const second = pipeline(ctx);
    await second.dispatcher!.start();
    await waitFor('both after the restart', () => ep.receiver.delivered().length === 2);
    expect(ep.receiver.delivered().map((r) => r.body.type)).toEqual(['code.assigned', 'code.locked']);
  });

  it('sends nothing after DELETE: no new event, and pending retries are cancelled', async () => {
    const ep = await endpoint('x1', {}, () => 500);
    // The retry is due after the DELETE's change is handed over (as the follower does within its lag).
    const p = pipeline({ ...api.core, config: { ...api.core.config, WEBHOOK_RETRY_SCHEDULE: [2] } });
    await p.dispatcher!.start();
    await p.handle([codeChange('x1', 'CODE-D', 1, 'assigned')]);
    expect(ep.receiver.received).toHaveLength(1);
    const webhookItem = (await api.scan()).find((i) => i.__edb_e__ === 'webhook' && i.webhookId === ep.id)!;
    const del = await answer(api.client(await admin('x1')).webhooks[':id'].$delete({ param: { id: ep.id } }));
    expect(del.status).toBe(204);
    const deletedAt = Date.now();
    ep.receiver.answerWith(() => 200);
    // The follower hands the DELETE's own change over, then a later change of the code.
    await p.handle([await changeOf(webhookItem, { pk: webhookItem.pk, sk: webhookItem.sk }), codeChange('x1', 'CODE-D', 2, 'locked')]);
    await new Promise((r) => setTimeout(r, 3000));
    expect(ep.receiver.received.filter((r) => r.body.type === 'code.locked')).toEqual([]);
    // At most one retry already under way within WEBHOOK_ENDPOINT_CACHE_MS of the DELETE.
    expect(ep.receiver.received.filter((r) => Number(r.timestamp) * 1000 > deletedAt + 1500)).toEqual([]);
    const records = (await api.scan()).filter((i) => i.__edb_e__ === 'webhookDelivery' && i.webhookId === ep.id);
    expect(records.map((r) => r.status)).toEqual(['cancelled']);
  });
});

describe('signatures', () => {
  it('signs with both secrets during a rotation overlap', async () => {
    const ep = await endpoint('s1');
    const p = pipeline();
    await p.dispatcher!.start();
    const rotated = await answer(api.client(await admin('s1')).webhooks[':id']['rotate-secret'].$post({ param: { id: ep.id }, json: { overlapSeconds: 600 } }));
    const onlyNew = await startReceiver();
    receivers.push(onlyNew);
    onlyNew.trust(rotated.json.secret);
    // The endpoint list is read after the change committed, so the rotation is seen.
    await p.handle([codeChange('s1', 'CODE-S', 1, 'assigned')]);
    const [r] = ep.receiver.received;
    expect(r!.signature.split(' ')).toHaveLength(2);
    expect(r!.verifiedWith).toBe(ep.secret); // the old secret still verifies
    const { Webhook } = await import('standardwebhooks');
    expect(() =>
      new Webhook(rotated.json.secret).verify(r!.raw, { 'webhook-id': r!.id, 'webhook-timestamp': r!.timestamp, 'webhook-signature': r!.signature }),
    ).not.toThrow();
  });
});

describe('server-side request forgery guard', () => {
  it('refuses private, link-local, documentation and (unless allowed) loopback targets after resolving them, and names that do not resolve, with one text', async () => {
    const strict: CoreContext = { ...api.core, config: { ...api.core.config, WEBHOOK_ALLOW_LOOPBACK: false, WEBHOOK_RETRY_SCHEDULE: [60] } };
    const token = await admin('f1');
    const urls = [
      'http://10.1.2.3/hook',
      'http://169.254.169.254/latest/meta-data',
      'http://[::1]:9/x',
      'http://localhost:9/x',
      'http://127.0.0.1:9/x',
      'http://192.0.2.1:9/x',
      'http://no-such-host.invalid/x',
    ];
    const ids: string[] = [];
    for (const url of urls) ids.push((await answer(api.client(token).webhooks.$post({ json: { url } }))).json.id);
    const p = pipeline(strict);
    await p.dispatcher!.start();
    await p.handle([codeChange('f1', 'CODE-F', 1, 'assigned')]);
    for (const id of ids) {
      const [d] = await deliveries('f1', id);
      expect(d).toMatchObject({ status: 'pending', attempts: 1 });
      expect(d.lastError).toBe(TARGET_REFUSED);
      expect(d.responseStatus).toBeUndefined();
    }
  });
});

describe('job events', () => {
  it('sends job.succeeded and job.failed when a job finishes', async () => {
    const ep = await endpoint('j1', { events: ['job.succeeded', 'job.failed'] });
    const p = pipeline();
    await p.dispatcher!.start();
    const job = (status: string, extra: Record<string, unknown> = {}) => ({
      __edb_e__: 'job',
      tenant: 'j1',
      jobId: 'job-1',
      bookId: 'book-9',
      kind: 'generation',
      total: 20_000,
      pattern: 'BF-######',
      status,
      ...extra,
    });
    const at = Date.now();
    await p.handle([
      { eventName: 'MODIFY', keys: { pk: 'T#j1#JOB#job-1', sk: 'JOB' }, oldImage: job('queued'), newImage: job('running'), sequenceNumber: nextSeq(), at },
      {
        eventName: 'MODIFY',
        keys: { pk: 'T#j1#JOB#job-1', sk: 'JOB' },
        oldImage: job('running'),
        newImage: job('failed', { error: 'the pattern ran out of codes', finishedAt: new Date(at).toISOString() }),
        sequenceNumber: nextSeq(),
        at,
      },
    ]);
    expect(ep.receiver.received.map((r) => r.body)).toEqual([
      {
        type: 'job.failed',
        timestamp: new Date(at).toISOString(),
        data: expect.objectContaining({ jobId: 'job-1', bookId: 'book-9', status: 'failed', total: 20_000, error: 'the pattern ran out of codes' }),
      },
    ]);
  });
});

describe('stock alerts', () => {
  it('book.low_stock carries the stock at the crossing, not what is left when the watcher gets to it', async () => {
    const tenant = 'st2';
    const ep = await endpoint(tenant, { events: ['book.low_stock', 'book.exhausted'] });
    const p = pipeline();
    await p.dispatcher!.start();
    const { book } = await bookWithCodes(api, 8, { lowStockThreshold: 5, shards: 2 }, tenant);
    const token = await service(tenant);
    const statsShards = async () => (await api.scan()).filter((i) => i.__edb_e__ === 'bookStatsShard' && i.bookId === book.id);
    // Every code is claimed before the watcher sees any of it, as when the stream trails a burst of claims.
    const changes: TableChange[] = [];
    for (let i = 0; i < 8; i++) {
      const before = await statsShards();
      expect((await api.call('POST', '/coupons/assign', { token, body: { bookId: book.id, userId: `u-${i}` } })).status).toBe(201);
      const moved = (await statsShards()).find((s) => before.find((b) => b.pk === s.pk)!.available !== s.available)!;
      changes.push(await changeOf(before.find((b) => b.pk === moved.pk), { pk: moved.pk, sk: moved.sk }));
    }
    await p.handle(changes);
    const alerts = (await api.scan()).filter((i) => i.__edb_e__ === 'bookAlert' && i.bookId === book.id);
    for (const a of alerts) await p.handle([await changeOf(undefined, { pk: a.pk, sk: a.sk })]);
    const byType = Object.fromEntries(ep.receiver.received.map((r) => [r.body.type, r.body.data]));
    expect(byType['book.low_stock']).toMatchObject({ available: 5, lowStockThreshold: 5 });
    expect(byType['book.exhausted']).toMatchObject({ available: 0 });
  });

  it('fires book.low_stock once at the threshold with a claim rate and run-out estimate, then book.exhausted, and re-arms after an upload', async () => {
    const tenant = 'st1';
    const ep = await endpoint(tenant, { events: ['book.low_stock', 'book.exhausted'] });
    const p = pipeline();
    await p.dispatcher!.start();
    const { book } = await bookWithCodes(api, 4, { lowStockThreshold: 2 }, tenant);
    const token = await service(tenant);
    const statsShards = async () => (await api.scan()).filter((i) => i.__edb_e__ === 'bookStatsShard' && i.bookId === book.id);
    const alertItems = async () => (await api.scan()).filter((i) => i.__edb_e__ === 'bookAlert' && i.bookId === book.id);

    /** Claims one code and hands the stream's changes (stats shard, then any alert written) over. */
    async function claimAndFollow() {
      const before = await statsShards();
      const alertsBefore = await alertItems();
      const r = await answer(api.client(token).coupons.assign.$post({ json: { bookId: book.id, userId: `u-${Math.random()}` } }));
      expect(r.status).toBe(201);
      const changed = (await statsShards()).filter((s) => before.find((b) => b.pk === s.pk)!.available !== s.available);
      for (const s of changed) await p.handle([await changeOf(before.find((b) => b.pk === s.pk), { pk: s.pk, sk: s.sk })]);
      for (const a of await alertItems()) {
        const old = alertsBefore.find((b) => b.sk === a.sk);
        if (old?.state !== a.state) await p.handle([await changeOf(old, { pk: a.pk, sk: a.sk })]);
      }
    }

    await claimAndFollow(); // 3 left
    expect(ep.receiver.received).toEqual([]);
    await claimAndFollow(); // 2 left: at the threshold
    await claimAndFollow(); // 1 left: still low, no second alert
    expect(ep.receiver.received.map((r) => r.body.type)).toEqual(['book.low_stock']);
    const low = ep.receiver.received[0]!.body;
    expect(low.data).toMatchObject({ bookId: book.id, name: 'Test book', available: 2, lowStockThreshold: 2 });
    expect(low.data.claimRatePerMinute).toBeGreaterThan(0);
    expect(Date.parse(low.data.estimatedRunOutAt)).toBeGreaterThan(Date.now() - 5000);
    await claimAndFollow(); // 0 left
    expect(ep.receiver.received.map((r) => r.body.type)).toEqual(['book.low_stock', 'book.exhausted']);
    expect(ep.receiver.received[1]!.body.data).toMatchObject({ bookId: book.id, available: 0 });
    expect((await alertItems()).map((a) => [a.kind, a.state]).sort()).toEqual([['exhausted', 'fired'], ['low_stock', 'fired']]);

    // Stock rises above the line: both re-arm, and fire again on the next fall.
    const before = await statsShards();
    const codes = Array.from({ length: 5 }, (_, i) => `RE-${book.id.slice(0, 8)}-${i}`.toUpperCase());
    expect((await answer(api.client(await admin(tenant)).coupons.codes.$post({ json: { bookId: book.id, codes } }))).status).toBe(200);
    const raised = (await statsShards()).filter((s) => before.find((b) => b.pk === s.pk)!.available !== s.available);
    for (const s of raised) await p.handle([await changeOf(before.find((b) => b.pk === s.pk), { pk: s.pk, sk: s.sk })]);
    expect((await alertItems()).map((a) => a.state)).toEqual(['armed', 'armed']);
    for (let i = 0; i < 3; i++) await claimAndFollow(); // 5 -> 2
    expect(ep.receiver.received.map((r) => r.body.type)).toEqual(['book.low_stock', 'book.exhausted', 'book.low_stock']);
  });
});
