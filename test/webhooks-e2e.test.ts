import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChangeFollower } from '@coupons/core';
import { followChanges } from '@coupons/api';
import { admin, answer, bookWithCodes, service, startTestApi, type JsonOf, type TestApi, type TestClient } from './support/harness.ts';
import { startReceiver, waitFor, type Receiver } from './support/webhook-receiver.ts';

// The local path end to end: API writes -> DynamoDB Local's stream -> the follower -> the
// app's consumers (stock watch, webhook emitter, in-process dispatcher) -> HTTP receivers on
// 127.0.0.1 that verify every signature with the standardwebhooks library. Nothing is mocked.
const ENV = {
  WEBHOOK_ALLOW_LOOPBACK: 'true',
  WEBHOOK_RETRY_SCHEDULE: '0.3,0.3,0.3,0.3',
  WEBHOOK_POLL_MS: '50',
  WEBHOOK_TIMEOUT_MS: '2000',
  WEBHOOK_DELIVERY_SHARDS: '4',
};
let api: TestApi;
const receivers: Receiver[] = [];
beforeAll(async () => {
  api = await startTestApi('webhooks-e2e', ENV, { stream: true });
});
afterAll(async () => {
  await Promise.all(receivers.map((r) => r.close()));
  await api.close();
});

async function endpoint(tenant: string, body: Omit<JsonOf<TestClient['webhooks']['$post']>, 'url'> = {}) {
  const receiver = await startReceiver();
  receivers.push(receiver);
  const r = await answer(api.client(await admin(tenant)).webhooks.$post({ json: { url: `${receiver.url}/hook`, ...body } }));
  expect(r.status).toBe(201);
  receiver.trust(r.json.secret);
  return { receiver, id: r.json.id as string };
}

async function claimAll(tenant: string, bookId: string, n: number) {
  const token = await service(tenant);
  for (let i = 0; i < n; i++) {
    const r = await answer(api.client(token).coupons.assign.$post({ json: { bookId, userId: `u-${bookId.slice(0, 6)}-${i}` } }));
    expect(r.status).toBe(201);
  }
}

describe('in-process follower', () => {
  let follower: ChangeFollower;
  beforeAll(() => {
    follower = followChanges(api.core, { name: 'e2e', idleMs: 20 });
  });
  afterAll(() => follower.stop());

  it('delivers signed stock events only to subscribed endpoints of the tenant, retries after 500, and nothing after DELETE', async () => {
    // Stock events only: every claim is also a code.assigned event, which the next test follows.
    const all = await endpoint('e1', { events: ['book.low_stock', 'book.exhausted'] });
    const exhaustedOnly = await endpoint('e1', { events: ['book.exhausted'] });
    const otherTenant = await endpoint('e2', { events: ['book.low_stock', 'book.exhausted'] });
    let failedOnce = false;
    all.receiver.answerWith(() => {
      if (failedOnce) return 200;
      failedOnce = true;
      return 500;
    });

    const { book } = await bookWithCodes(api, 3, { lowStockThreshold: 1 }, 'e1');
    await claimAll('e1', book.id, 3);
    await waitFor('both events at the first endpoint', () => all.receiver.delivered().length === 2);
    expect(all.receiver.delivered().map((r) => r.body.type)).toEqual(['book.low_stock', 'book.exhausted']);
    // The first attempt was answered 500 and retried with the same id.
    expect(all.receiver.received[0]!.answered).toBe(500);
    expect(all.receiver.received[1]!.id).toBe(all.receiver.received[0]!.id);
    const low = all.receiver.delivered()[0]!.body.data;
    expect(low).toMatchObject({ bookId: book.id, lowStockThreshold: 1 });
    // What is left when the alert fires: the stream may already be a claim behind the table.
    expect(low.available).toBeLessThanOrEqual(1);
    await waitFor('the exhausted-only endpoint', () => exhaustedOnly.receiver.delivered().length === 1);
    expect(exhaustedOnly.receiver.received.map((r) => r.body.type)).toEqual(['book.exhausted']);
    for (const r of [...all.receiver.received, ...exhaustedOnly.receiver.received]) expect(r.verifiedWith).toBeDefined();
    expect(all.receiver.unverified).toEqual([]);

    // Another tenant's book: only its own endpoint hears of it.
    const other = await bookWithCodes(api, 1, {}, 'e2');
    await claimAll('e2', other.book.id, 1);
    await waitFor('the other tenant', () => otherTenant.receiver.delivered().length === 1);
    expect(otherTenant.receiver.delivered()[0]!.body.data.bookId).toBe(other.book.id);
    const log = (await answer(api.client(await admin('e1')).webhooks[':id'].deliveries.$get({ param: { id: all.id }, query: {} }))).json.items;
    expect(log.map((d: any) => [d.eventType, d.status]).sort()).toEqual([['book.exhausted', 'delivered'], ['book.low_stock', 'delivered']]);

    // DELETE: events committed afterwards never reach the endpoint.
    expect((await answer(api.client(await admin('e1')).webhooks[':id'].$delete({ param: { id: all.id } }))).status).toBe(204);
    const heard = all.receiver.received.length;
    const after = await bookWithCodes(api, 1, {}, 'e1');
    await claimAll('e1', after.book.id, 1);
    await waitFor('the exhausted-only endpoint hears the later book', () =>
      exhaustedOnly.receiver.delivered().some((r) => r.body.data.bookId === after.book.id),
    );
    await follower.caughtUp();
    expect(all.receiver.received.length).toBe(heard);
    expect(otherTenant.receiver.received).toHaveLength(1);
  });
});

describe('code events through the follower', () => {
  let follower: ChangeFollower;
  beforeAll(() => {
    follower = followChanges(api.core, { name: 'e2e-codes', idleMs: 20 });
  });
  afterAll(() => follower.stop());

  it("delivers a code's whole life in order, signed, with the redemption, order and rollback reason", async () => {
    const ep = await endpoint('c1', { events: ['code.assigned', 'code.locked', 'code.unlocked', 'code.redeemed', 'redemption.rolled_back'] });
    // The first lock event is answered 500 once: the later events of that code wait for its retry.
    let refused = false;
    ep.receiver.answerWith((req) => {
      if (req.body.type !== 'code.locked' || refused) return 200;
      refused = true;
      return 500;
    });
    const { book } = await bookWithCodes(api, 1, { maxRedemptionsPerUser: 1 }, 'c1');
    const token = await service('c1');
    const claim = await answer(api.client(token).coupons.assign.$post({ json: { bookId: book.id, userId: 'u-c1' } }));
    expect(claim.status).toBe(201);
    const code = claim.json.code as string;
    const lock1 = await answer(api.client(token).coupons.lock[':code'].$post({ param: { code }, json: { userId: 'u-c1' } }));
    expect((await answer(api.client(token).coupons.unlock[':code'].$post({ param: { code }, json: { userId: 'u-c1', lockId: lock1.json.lockId } }))).status).toBe(200);
    const lock2 = await answer(api.client(token).coupons.lock[':code'].$post({ param: { code }, json: { userId: 'u-c1' } }));
    const redeem = await answer(api.client(token).coupons.redeem[':code'].$post({ param: { code }, json: { userId: 'u-c1', lockId: lock2.json.lockId, orderId: 'order-77' } }));
    expect(redeem.status).toBe(200);
    const rb = await answer(api.client(token).redemptions[':redemptionId'].rollback.$post({ param: { redemptionId: redeem.json.redemptionId }, json: { reason: 'order refunded' } }));
    expect(rb.status).toBe(200);

    await waitFor('six events', () => ep.receiver.delivered().length === 6);
    const bodies = ep.receiver.delivered().map((r) => r.body);
    expect(bodies.map((b) => b.type)).toEqual(['code.assigned', 'code.locked', 'code.unlocked', 'code.locked', 'code.redeemed', 'redemption.rolled_back']);
    expect(bodies.every((b) => b.data.code === code && b.data.bookId === book.id && b.data.userId === 'u-c1')).toBe(true);
    expect(bodies[1].data.lockId).toBe(lock1.json.lockId);
    expect(bodies[4].data).toMatchObject({ status: 'redeemed', redemptionId: redeem.json.redemptionId, orderId: 'order-77', redemptionCount: 1 });
    expect(bodies[5].data).toMatchObject({ redemptionId: redeem.json.redemptionId, orderId: 'order-77', reason: 'order refunded', redemptionCount: 0 });
    expect(ep.receiver.received.filter((r) => r.answered === 500)).toHaveLength(1);
    expect(ep.receiver.unverified).toEqual([]);
  });
});

describe('a follower process killed mid-stream', () => {
  let child: ChildProcess | undefined;
  afterAll(() => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
  });

  function startFollowerProcess(): Promise<ChildProcess> {
    // Node itself with tsx as a loader, not the tsx CLI: the CLI runs the script in a child process
    // of its own, which a SIGKILL to the CLI would leave running.
    const proc = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'support', 'follower-process.ts')], {
      env: { ...process.env, ...ENV, DYNAMODB_ENDPOINT: api.core.config.DYNAMODB_ENDPOINT, TABLE_NAME: api.table, FOLLOWER_NAME: 'killed' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return new Promise((res, rej) => {
      proc.stdout!.on('data', (d) => String(d).includes('following') && res(proc));
      proc.on('exit', (code) => rej(new Error(`follower process exited with ${code}`)));
    });
  }

  it('delivers every event once it is started again', async () => {
    const ep = await endpoint('k1', { events: ['book.exhausted'] });
    const books = [];
    for (let i = 0; i < 12; i++) books.push((await bookWithCodes(api, 1, {}, 'k1')).book);

    child = await startFollowerProcess();
    // Half the books are claimed while it runs, the rest after it is killed: however fast the
    // claims and however the stream batches them, some events are written while no one follows.
    const claims = (async () => {
      for (const b of books.slice(0, 6)) await claimAll('k1', b.id, 1);
    })();
    await waitFor('a few events', () => ep.receiver.delivered().length >= 3);
    child.kill('SIGKILL');
    await new Promise((r) => child!.once('exit', r));
    await claims;
    for (const b of books.slice(6)) await claimAll('k1', b.id, 1);
    const beforeRestart = ep.receiver.delivered().length;
    expect(beforeRestart).toBeLessThanOrEqual(6);

    child = await startFollowerProcess();
    await waitFor('every book exhausted', () => ep.receiver.delivered().length === books.length, 60_000);
    expect(new Set(ep.receiver.delivered().map((r) => r.body.data.bookId))).toEqual(new Set(books.map((b) => b.id)));
    expect(ep.receiver.unverified).toEqual([]);
    child.kill('SIGTERM');
    await new Promise((r) => child!.once('exit', r));
  });
});
