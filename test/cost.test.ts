import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { marshall } from '@aws-sdk/util-dynamodb';
import {
  API_KEY_COSTS,
  ERASURE_COSTS,
  pseudonymOf,
  inProcessJobDispatcher,
  useJobDispatcher,
  DEFAULT_API_KEY_CACHE_MS,
  LAST_USED_EVERY_MS,
  apiKeyItemRcuPerSecond,
  ACTIVITY_COUNTER_MAX_BYTES,
  ACTIVITY_COUNTER_SLOTS,
  ACTIVITY_INTERVALS,
  ACTIVITY_SLOTS,
  activityChartReads,
  activityCounter,
  bucketStart,
  codeEventsOf,
  codeHistoryConsumer,
  createWebhookEmitter,
  EndpointDirectory,
  itemSize,
  processDeliveryMessage,
  STREAM_WRITES,
  streamWcuPerChange,
  enqueueGeneration,
  IDEMPOTENCY_RECORD_LINE,
  OPERATIONS,
  RACE_ON_ONE_CODE,
  WRITE_BUDGETS,
  SOLD_OUT_CLAIM_RCU_BUDGET,
  planWcu,
  totals,
  writePlan,
  type CostMeter,
  type Operation,
  type RequestCharge,
  type DeliveryJob,
  type TableChange,
} from '@coupons/core';
import { JOB_KINDS } from '@coupons/api';
import { admin, answer, bookWithCodes, createBook, service, uniqueCode, user, type CallResult, type TestApi } from './support/harness.ts';
import { startMeteredApi } from './support/cost-meter.ts';
import { waitFor } from './support/wait-for.ts';
import { startReceiver, type Receiver } from './support/webhook-receiver.ts';

// The write plan of every state-changing route, counted by the cost meter
// (an AWS SDK middleware that sees every request the service sends). A
// change that adds a write, makes one transactional, or touches another
// index entry changes a plan here and fails. Reads are priced in bench/cost.ts.

let api: TestApi;
let meter: CostMeter;
let close: () => Promise<unknown>;
beforeAll(async () => {
  // Limits off for the caller so repeated calls are never refused; the miss trip stays on.
  // One job lane, so a small generation job is one chunk.
  ({ api, meter, close } = await startMeteredApi('cost', { RATE_LIMIT_CALLER_PER_MINUTE: '0', JOB_LANES: '1' }));
});
afterAll(() => close());

/** Runs one request with the meter cleared before and read after. */
async function measured(run: () => Promise<CallResult>, status: number): Promise<{ r: CallResult; records: RequestCharge[] }> {
  meter.take();
  const r = await run();
  if (r.status !== status) throw new Error(`expected ${status}, got ${r.status} ${r.text.slice(0, 300)}`);
  return { r, records: meter.take() };
}

const times = <T>(n: number, line: T): T[] => Array.from({ length: n }, () => line);
const sorted = (lines: readonly string[]) => [...lines].sort();
const idem = () => ({ 'idempotency-key': randomUUID() });


describe('write plans of the hot path match the cost model', () => {
  it('a random claim: capped, uncapped, with lock, with an Idempotency-Key', async () => {
    const capped = await bookWithCodes(api, 10, { maxCodesPerUser: 5, shards: 2 });
    const token = await user('claimer');
    const claim = (bookId: string, body: object = {}, headers = {}) => () =>
      answer(api.client(token).coupons.assign.$post({ json: { bookId, ...body } }, { headers }));

    let m = await measured(claim(capped.book.id), 201);
    expect(writePlan(m.records)).toEqual(OPERATIONS.claimCapped.plan);
    m = await measured(claim(capped.book.id, { lock: true }), 201);
    expect(writePlan(m.records)).toEqual(OPERATIONS.claimAndLockCapped.plan);
    m = await measured(claim(capped.book.id, {}, idem()), 201);
    expect(writePlan(m.records)).toEqual(sorted([...OPERATIONS.claimCapped.plan, IDEMPOTENCY_RECORD_LINE]));

    const uncapped = await bookWithCodes(api, 4, { shards: 2 });
    m = await measured(claim(uncapped.book.id), 201);
    expect(writePlan(m.records)).toEqual(OPERATIONS.claimUncapped.plan);
    // Everything a claim writes is one transaction (plus the index entries it implies).
    expect(m.records.filter((r) => r.writes.length).map((r) => r.command)).toEqual(['TransactWriteItemsCommand']);
  });

  it('a named claim (service), lock, unlock, redeem, and a redeem with an Idempotency-Key', async () => {
    const { book, codes } = await bookWithCodes(api, 3, { maxCodesPerUser: 5, shards: 2 });
    const svc = await service();
    let m = await measured(() => answer(api.client(svc).coupons.assign[':code'].$post({ param: { code: codes[0] }, json: { userId: 'named', bookId: book.id } })), 201);
    expect(writePlan(m.records)).toEqual(OPERATIONS.claimCapped.plan);

    const token = await user('named');
    m = await measured(() => answer(api.client(token).coupons.lock[':code'].$post({ param: { code: codes[0] }, json: {} })), 200);
    expect(writePlan(m.records)).toEqual(OPERATIONS.lock.plan);
    m = await measured(() => answer(api.client(token).coupons.unlock[':code'].$post({ param: { code: codes[0] }, json: {} })), 200);
    expect(writePlan(m.records)).toEqual(OPERATIONS.unlock.plan);
    m = await measured(() => answer(api.client(token).coupons.redeem[':code'].$post({ param: { code: codes[0] }, json: { orderId: 'o-1' } })), 200);
    expect(writePlan(m.records)).toEqual(OPERATIONS.redeem.plan);

    await answer(api.client(svc).coupons.assign[':code'].$post({ param: { code: codes[1] }, json: { userId: 'named', bookId: book.id } }));
    m = await measured(() => answer(api.client(token).coupons.redeem[':code'].$post({ param: { code: codes[1] }, json: {} }, { headers: idem() })), 200);
    expect(writePlan(m.records)).toEqual(sorted([...OPERATIONS.redeem.plan, IDEMPOTENCY_RECORD_LINE]));
  });

  it('a lock that lands after a redeem of the same code it raced: its refused write, then the lock, and no read', async () => {
    const { book } = await bookWithCodes(api, 1, { maxRedemptionsPerUser: 2 });
    const token = await user('racer');
    const code = (await api.call('POST', '/coupons/assign', { token, body: { bookId: book.id } })).json.code;
    // The lock's write is held back until the redeem (a transaction) has landed.
    const stack = api.core.store.client.middlewareStack;
    stack.add(
      (next, context) => async (args) => {
        if ((context as { commandName?: string }).commandName === 'UpdateItemCommand') await new Promise((r) => setTimeout(r, 300));
        return next(args);
      },
      { step: 'initialize', name: 'holdLock' },
    );
    meter.take();
    try {
      const [locked, redeemed] = await Promise.all([
        api.call('POST', `/coupons/lock/${code}`, { token, body: {} }),
        new Promise((r) => setTimeout(r, 50)).then(() => api.call('POST', `/coupons/redeem/${code}`, { token, body: {} })),
      ]);
      expect([locked.status, redeemed.status]).toEqual([200, 200]);
      expect(locked.json.redemptionCount).toBe(1);
    } finally {
      stack.remove('holdLock');
    }
    const records = meter.take();
    // One consistent read of the code by each request: the lock is built again from the item its refusal carried.
    expect(records.flatMap((r) => r.reads).filter((r) => r.pk === `T#t1#CODE#${code}`)).toHaveLength(2);
    const updates = records.filter((r) => r.command === 'UpdateItemCommand');
    expect(updates.map((r) => r.outcome)).toEqual(['conditionFailed', 'ok']);
    expect(updates[0]!.wcu).toBe(RACE_ON_ONE_CODE.refusedPlainWriteWcu);
    expect(writePlan(updates)).toEqual(OPERATIONS.lock.plan);
  });

  it('each operation is within its budget', () => {
    for (const op of Object.keys(OPERATIONS) as Operation[]) {
      expect(planWcu(OPERATIONS[op].plan), op).toBeLessThanOrEqual(WRITE_BUDGETS[op]);
    }
    // Claim-and-lock costs no more than a claim.
    expect(planWcu(OPERATIONS.claimAndLockCapped.plan)).toBeLessThanOrEqual(planWcu(OPERATIONS.claimCapped.plan));
  });
});

describe('write plans of the other state-changing routes', () => {
  it('POST /coupons: one plain put per shard, the book in a transaction, its entry in the tenant list', async () => {
    const token = await admin();
    let m = await measured(() => answer(api.client(token).coupons.$post({ json: { name: 'four', shards: 4 } })), 201);
    expect(writePlan(m.records)).toEqual(sorted(['byOwner add book 1', 'tx put book 2', ...times(4, 'put bookStatsShard 1')]));
    expect(totals(m.records).wcu).toBe(4 + 3);
    m = await measured(() => answer(api.client(token).coupons.$post({ json: { name: 'one' , shards: 1 } }, { headers: idem() })), 201);
    expect(writePlan(m.records)).toEqual(sorted(['byOwner add book 1', 'tx put book 2', 'put bookStatsShard 1', IDEMPOTENCY_RECORD_LINE]));
  });

  it('PATCH /coupons/{id}: a rename rewrites the book; a pause also every shard’s gate, in one transaction', async () => {
    const token = await admin();
    const book = await createBook(api, { shards: 3 });
    let m = await measured(() => answer(api.client(token).coupons[':bookId'].$patch({ param: { bookId: book.id }, header: {}, json: { name: 'renamed' } })), 200);
    expect(writePlan(m.records)).toEqual(['byOwner update book 1', 'tx update book 2']);
    m = await measured(() => answer(api.client(token).coupons[':bookId'].$patch({ param: { bookId: book.id }, header: {}, json: { status: 'paused' } })), 200);
    expect(writePlan(m.records)).toEqual(sorted(['byOwner update book 1', 'tx update book 2', ...times(3, 'tx update bookStatsShard 2')]));
    expect(m.records.filter((r) => r.writes.length)).toHaveLength(1);
  });

  it('POST /coupons/codes and /coupons/codes/generate: per code a transactional put, its pool and byBook entries; per shard touched, its counter', async () => {
    const token = await admin();
    const book = await createBook(api, { shards: 1, codePattern: 'GEN-****-****' });
    const codes = ['UP-AAA1', 'UP-AAA2', 'UP-AAA3'];
    let m = await measured(() => answer(api.client(token).coupons.codes.$post({ json: { bookId: book.id, codes } })), 200);
    const perCode = ['tx put code 2', 'pool add code 1', 'byBook add code 1'];
    expect(writePlan(m.records)).toEqual(sorted([...times(3, perCode).flat(), 'tx update bookStatsShard 2']));
    m = await measured(() => answer(api.client(token).coupons.codes.generate.$post({ json: { bookId: book.id, count: 3 } })), 201);
    expect(writePlan(m.records)).toEqual(sorted([...times(3, perCode).flat(), 'tx update bookStatsShard 2']));
    // Under an Idempotency-Key the work spans transactions: a pending record first, the response after.
    m = await measured(() => answer(api.client(token).coupons.codes.$post({ json: { bookId: book.id, codes: ['UP-AAA4'] } }, { headers: idem() })), 200);
    expect(writePlan(m.records)).toEqual(sorted([...perCode, 'tx update bookStatsShard 2', ...IDEM_MULTI_STEP]));
  });
});

describe('the generation job (the route’s branch above 10,000 codes)', () => {
  it('queues the job and its lane in one transaction, then per chunk one transaction of codes, counter and lane progress', { timeout: 90_000 }, async () => {
    const token = await admin();
    const book = await createBook(api, { shards: 1, codePattern: 'JOB-****-****' });
    meter.take();
    // The route queues a job only above 10,000 codes; the job itself is the same for 3.
    const { jobId } = await enqueueGeneration(api.core, { tenant: 't1', sub: 'admin-1', role: 'admin' }, { bookId: book.id, count: 3 });
    let status = '';
    for (const until = Date.now() + 50_000; status !== 'succeeded' && Date.now() < until; ) {
      status = (await answer(api.client(token).jobs[':jobId'].$get({ param: { jobId } }))).json.status;
      if (status !== 'succeeded') await new Promise((res) => setTimeout(res, 100));
    }
    expect(status).toBe('succeeded');
    // The job's last write commits before its answer reaches this process's meter: collect until it is in.
    const plan: string[] = [];
    await waitFor('the finishing write metered', () => plan.push(...writePlan(meter.take())) && plan.includes('byOwner remove job 1'), 5000, 20);
    expect(sorted(plan)).toEqual(
      sorted([
        // queued: the job and its one lane, and the job's entry in the unfinished-jobs partition
        'tx put job 2',
        'tx put jobLane 2',
        'byOwner add job 1',
        // started (lease taken), then finished (the unfinished-jobs entry leaves)
        'update job 1',
        'byOwner update job 1',
        'update job 1',
        'byOwner remove job 1',
        // the chunk: its codes and their pool entries, the shard counter, the lane's progress
        ...times(3, 'tx put code 2'),
        ...times(3, 'pool add code 1'),
        ...times(3, 'byBook add code 1'),
        'tx update bookStatsShard 2',
        'tx update jobLane 2',
      ]),
    );
  });
});

/** The multi-step idempotency record's writes (idempotency/run.ts): measured, pinned here. */
const IDEM_MULTI_STEP = ['put idempotencyRecord 1', 'update idempotencyRecord 1'];

describe('refusals and abuse protection', () => {
  it('claims on a sold-out book write nothing and read at most SOLD_OUT_CLAIM_RCU_BUDGET on average', async () => {
    const { book } = await bookWithCodes(api, 1, { shards: 4 });
    await answer(api.client(await user('first')).coupons.assign.$post({ json: { bookId: book.id } }));
    const late = await user('late');
    // The first refusal reads the pool shards the claim before it did not already find empty (2
    // queries x 0.5 RCU each, 4 shards); the instance then remembers each as empty for under a
    // second, so the crowd behind it reads nothing.
    const first = await measured(() => answer(api.client(late).coupons.assign.$post({ json: { bookId: book.id } })), 409);
    expect(writePlan(first.records)).toEqual([]);
    const firstQueries = first.records.filter((r) => r.command === 'QueryCommand').length;
    expect(firstQueries).toBeGreaterThanOrEqual(2);
    expect(firstQueries).toBeLessThanOrEqual(8);
    let rcu = totals(first.records).rcu;
    const refusals = 10;
    for (let i = 1; i < refusals; i++) {
      const m = await measured(() => answer(api.client(late).coupons.assign.$post({ json: { bookId: book.id } })), 409);
      expect(writePlan(m.records)).toEqual([]);
      expect(m.records.filter((r) => r.command === 'QueryCommand')).toEqual([]);
      rcu += totals(m.records).rcu;
    }
    expect(rcu / refusals).toBeLessThanOrEqual(SOLD_OUT_CLAIM_RCU_BUDGET);
  });

  it('a new upload makes a sold-out book claimable again within a second', async () => {
    const { book } = await bookWithCodes(api, 1, { shards: 2 });
    const token = await user('again');
    expect((await answer(api.client(token).coupons.assign.$post({ json: { bookId: book.id } }))).status).toBe(201);
    expect((await answer(api.client(await user('again-2')).coupons.assign.$post({ json: { bookId: book.id } }))).status).toBe(409);
    await answer(api.client(await admin()).coupons.codes.$post({ json: { bookId: book.id, codes: [uniqueCode()] } }));
    await new Promise((r) => setTimeout(r, 1000));
    expect((await answer(api.client(await user('again-2')).coupons.assign.$post({ json: { bookId: book.id } }))).status).toBe(201);
  });

  it('a well-behaved request writes nothing for the limiter; a CODE_NOT_FOUND writes the caller’s miss count, once', async () => {
    const token = await user('miss');
    const m = await measured(() => answer(api.client(token).coupons.redeem[':code'].$post({ param: { code: 'NO-SUCH-CODE' }, json: {} })), 404);
    expect(writePlan(m.records)).toEqual(['update rateCounter 1']);
    // The caller's standing is read once (0.5 RCU, eventually consistent), then cached by the instance.
    expect(m.records.filter((r) => r.reads.some((x) => x.pk?.includes('#RATE#')))).toHaveLength(1);
  });
});

describe('erasing a user (the cost model’s ERASURE_COSTS)', () => {
  it('the request: the mark, the job and its lanes in one transaction; erasing again writes no second mark', async () => {
    // The job is held, as behind a queue: what it costs is the table's Scan and a write per item (docs/erasure.md#cost).
    useJobDispatcher(api.core, { kind: 'held', dispatch: async () => undefined });
    try {
      const token = await admin();
      let m = await measured(() => answer(api.client(token).users[':userId'].$delete({ param: { userId: 'erase-cost' } })), 202);
      expect(writePlan(m.records)).toEqual(ERASURE_COSTS.request(api.core.config.JOB_LANES));
      m = await measured(() => answer(api.client(token).users[':userId'].$delete({ param: { userId: 'erase-cost' } })), 202);
      expect(writePlan(m.records)).toEqual(ERASURE_COSTS.request(api.core.config.JOB_LANES).filter((l) => !l.includes('erasedUser')));
    } finally {
      useJobDispatcher(api.core, inProcessJobDispatcher(api.core, { kinds: JOB_KINDS }));
    }
  });

  it("the door: a user's requests read the erased mark once per instance per window, eventually consistent", async () => {
    const sub = `door-${randomUUID().slice(0, 8)}`;
    const list = () => answer(api.client(token).users[':userId'].coupons.$get({ param: { userId: sub }, query: {} }));
    const token = await user(sub);
    const markReads = (records: RequestCharge[]) => records.flatMap((r) => r.reads).filter((x) => x.pk?.includes('#ERASED#'));
    let m = await measured(list, 200);
    expect(markReads(m.records)).toEqual([{ pk: `T#t1#ERASED#${pseudonymOf(api.core, 't1', sub)}`, rcu: ERASURE_COSTS.doorRcu, consistent: false }]);
    expect(writePlan(m.records)).toEqual([]);
    m = await measured(list, 200);
    expect(markReads(m.records)).toEqual([]);
  });
});

describe('API keys (the cost model’s API_KEY_COSTS)', () => {
  const keyOps = (records: RequestCharge[]) => records.filter((r) => r.reads.some((x) => x.pk?.includes('#APIKEY#')) || r.writes.some((w) => w.entity === 'apiKey'));

  it("create and revoke: one transaction of the key and the tenant's counts (active keys, keys created today), and the list entry", async () => {
    const token = await admin('t-keycost');
    // The tenant's first key starts its count of active keys (a put); every later one moves it.
    let m = await measured(() => api.call('POST', '/api-keys', { token, body: { name: 'first', role: 'service' } }), 201);
    expect(writePlan(m.records)).toEqual(sorted(['byOwner add apiKey 1', 'tx put apiKey 2', 'tx put tenantQuota 2', 'tx update tenantQuota 2']));
    m = await measured(() => api.call('POST', '/api-keys', { token, body: { name: 'cost', role: 'service' } }), 201);
    expect(writePlan(m.records)).toEqual(API_KEY_COSTS.create.plan);
    const { keyId } = m.r.json;
    m = await measured(() => api.call('POST', '/api-keys', { token, body: { name: 'cost, keyed', role: 'service' }, headers: idem() }), 201);
    expect(writePlan(m.records)).toEqual(sorted([...API_KEY_COSTS.create.plan, IDEMPOTENCY_RECORD_LINE]));
    m = await measured(() => api.call('DELETE', `/api-keys/${keyId}`, { token }), 204);
    expect(writePlan(m.records)).toEqual(API_KEY_COSTS.revoke.plan);
  });

  it('a key signing requests: one consistent read per instance per cache window, no write on the request, lastUsedAt once an hour', async () => {
    expect(API_KEY_COSTS.cacheMs).toBe(DEFAULT_API_KEY_CACHE_MS);
    expect(api.core.config.API_KEY_CACHE_MS).toBe(DEFAULT_API_KEY_CACHE_MS);
    expect(API_KEY_COSTS.lastUsed.everyMs).toBe(LAST_USED_EVERY_MS);
    const { key, keyId } = (await api.call('POST', '/api-keys', { token: await admin(), body: { name: 'signing', role: 'service' } })).json;
    const sign = () => api.call('GET', '/users/u-cost/coupons', { token: key });
    let m = await measured(sign, 200);
    const reads = keyOps(m.records).flatMap((r) => r.reads);
    expect(reads).toEqual([{ pk: `T#t1#APIKEY#${keyId}`, rcu: API_KEY_COSTS.verifyRcu, consistent: true }]);
    // lastUsedAt is not awaited: it lands beside the request, as the model's plan.
    const lastUsed: RequestCharge[] = [];
    await waitFor(
      'lastUsedAt written',
      () => {
        lastUsed.push(...keyOps(m.records).filter((r) => r.writes.length), ...keyOps(meter.take()));
        return lastUsed.some((r) => r.writes.length);
      },
      5000,
    );
    expect(writePlan(lastUsed)).toEqual(API_KEY_COSTS.lastUsed.plan);
    // Within the window and the hour: neither a read nor a write.
    for (let i = 0; i < 5; i++) {
      m = await measured(sign, 200);
      expect(keyOps(m.records)).toEqual([]);
    }
    // The planner's figure: 1,000 warm instances each read a key once per 5 s.
    expect(apiKeyItemRcuPerSecond({ instances: 1000 })).toBe(200);
    expect(apiKeyItemRcuPerSecond({ instances: 1000, requestsPerSecond: 50 })).toBe(50);
  });
});

describe('what the change stream’s consumers write per code change, and what a chart reads', () => {
  // Off the request path, so the route plans above leave it out; the capacity planner adds it
  // (STREAM_WRITES). The consumers are handed the changes the stream would hand them: each code
  // item as it was before and after a real request.
  let api: TestApi;
  let meter: CostMeter;
  let close: () => Promise<unknown>;
  let receiver: Receiver;
  beforeAll(async () => {
    ({ api, meter, close } = await startMeteredApi('cost-stream', { RATE_LIMIT_CALLER_PER_MINUTE: '0', WEBHOOK_ALLOW_LOOPBACK: 'true' }));
    receiver = await startReceiver();
  });
  afterAll(async () => {
    await receiver.close();
    await close();
  });

  const codeItem = async (code: string) => (await api.scan()).find((i) => i.__edb_e__ === 'code' && i.code === code);
  /** The stream record of a request's write to a code. */
  async function changeOf(code: string, run: () => Promise<CallResult>): Promise<TableChange> {
    const before = await codeItem(code);
    expect((await run()).status).toBeLessThan(300);
    const after = await codeItem(code);
    return { eventName: 'MODIFY', keys: { pk: after!.pk, sk: after!.sk }, oldImage: before, newImage: after, sequenceNumber: '1', at: Date.now() };
  }
  const bucketsOf = (changes: TableChange[]) =>
    new Set(changes.flatMap((c) => ACTIVITY_INTERVALS.map((i) => `${i} ${bucketStart(Date.parse(c.newImage!.lastChange.at), i)}`))).size;

  it('a history entry per change, and per transaction one activity counter per interval and bucket; a replay writes nothing', async () => {
    const { book, codes } = await bookWithCodes(api, 4, { shards: 2 });
    const svc = await service();
    const changes: TableChange[] = [];
    for (const code of codes.slice(0, 3)) changes.push(await changeOf(code, () => api.call('POST', `/coupons/assign/${code}`, { token: svc, body: { userId: `s-${code}`, bookId: book.id } })));
    changes.push(await changeOf(codes[0]!, () => api.call('POST', `/coupons/lock/${codes[0]}`, { token: svc, body: { userId: `s-${codes[0]}` } })));
    const consumer = codeHistoryConsumer(api.core.store, { counter: activityCounter() });
    meter.take();
    await consumer.handle(changes);
    const records = meter.take();
    // One transaction; its counters: minute, hour and day of the one minute the changes fell in (or two, across a minute's end).
    expect(records.filter((r) => r.writes.length).map((r) => r.command)).toEqual(['TransactWriteItemsCommand']);
    const counters = bucketsOf(changes);
    const plan = writePlan(records);
    expect(plan).toEqual(sorted([...times(4, STREAM_WRITES.historyEntry).flat(), ...times(counters, 'tx update activityCounter 2')]));
    // Within one minute (unless the requests straddled a minute's end): the model's plan, and the
    // planner's price per change at this batch size.
    if (counters === 3) {
      expect(plan).toEqual(sorted([...times(4, STREAM_WRITES.historyEntry).flat(), ...STREAM_WRITES.activityTransaction]));
      expect(planWcu(plan)).toBe(4 * streamWcuPerChange({ changesPerStreamTransaction: 4, webhookEndpoints: 0 }).total);
    }
    // Handed over again: one cancelled transaction, nothing written.
    await consumer.handle(changes);
    const replay = meter.take();
    expect(replay.map((r) => [r.command, r.outcome])).toEqual([['TransactWriteItemsCommand', 'cancelled']]);
    expect(totals(replay).wcu).toBe(0);
    // A counter as stored, and the largest one can be (a 64-character tenant, ten-digit counts): within the model's size.
    const stored = (await api.scan()).find((i) => i.__edb_e__ === 'activityCounter' && i.bookId === book.id)!;
    const tenant = 'T'.repeat(64);
    const largest = { ...stored, tenant, pk: stored.pk.replace('T#t1#', `T#${tenant}#`), ...Object.fromEntries(['assigned', 'locked', 'unlocked', 'redeemed', 'rolledBack'].map((t) => [t, 9_999_999_999])) };
    expect(itemSize(marshall(largest))).toBeLessThanOrEqual(ACTIVITY_COUNTER_MAX_BYTES);
    expect(ACTIVITY_COUNTER_SLOTS).toBe(ACTIVITY_SLOTS);
  });

  it('a delivery record per event and subscribed endpoint, when the first attempt succeeds (the queue worker on AWS)', async () => {
    const r = await api.call('POST', '/webhooks', { token: await admin(), body: { url: `${receiver.url}/hook`, events: ['code.assigned'] } });
    expect(r.status).toBe(201);
    receiver.trust(r.json.secret);
    const { book, codes } = await bookWithCodes(api, 1);
    const change = await changeOf(codes[0]!, async () => api.call('POST', `/coupons/assign/${codes[0]}`, { token: await service(), body: { userId: 'hooked', bookId: book.id } }));
    const directory = new EndpointDirectory(api.core);
    const jobs: DeliveryJob[] = [];
    await createWebhookEmitter(api.core, { directory, codeEventsOf, sink: { enqueue: async (j) => void jobs.push(...j) } }).handle([change]);
    expect(jobs).toHaveLength(1);
    meter.take();
    await processDeliveryMessage(api.core, directory, jobs[0]!, 1);
    expect(writePlan(meter.take())).toEqual([...STREAM_WRITES.webhookDelivery]);
    expect(receiver.delivered().map((d) => d.body.type)).toEqual(['code.assigned']);
  });

  it('a chart is one GetItem and one Query per slot, however much the book did: bounded by its buckets', async () => {
    const token = await admin();
    const empty = await createBook(api);
    const busy = (await api.scan()).find((i) => i.__edb_e__ === 'activityCounter')!.bookId as string;
    // The day of minutes up to this one: 1,440 buckets.
    const end = bucketStart(Date.now(), 'minute') + 60_000;
    const day = { from: new Date(end - 86_400_000).toISOString(), to: new Date(end).toISOString(), interval: 'minute' };
    for (const [bookId, filled] of [[empty.id, 0], [busy, ACTIVITY_COUNTER_SLOTS]] as const) {
      const m = await measuredHere(() => api.call('GET', `/coupons/${bookId}/activity?${new URLSearchParams(day)}`, { token }), 200);
      expect(m.r.json.buckets).toHaveLength(1440);
      expect(m.records.map((r) => r.command).sort()).toEqual(['GetItemCommand', ...times(ACTIVITY_COUNTER_SLOTS, 'QueryCommand')]);
      expect(m.records).toHaveLength(activityChartReads(1440, filled).requests);
      expect(totals(m.records).rcu).toBeLessThanOrEqual(activityChartReads(1440, filled).rcu);
      expect(totals(m.records).wcu).toBe(0);
    }
    // The empty book reads exactly the floor: 0.5 RCU per request.
    const m = await measuredHere(() => api.call('GET', `/coupons/${empty.id}/activity?${new URLSearchParams(day)}`, { token }), 200);
    expect(totals(m.records).rcu).toBe(activityChartReads(1440, 0).rcu);
  });

  /** Runs one request with the meter cleared before and read after (this block's meter). */
  async function measuredHere(run: () => Promise<CallResult>, status: number) {
    meter.take();
    const r = await run();
    if (r.status !== status) throw new Error(`expected ${status}, got ${r.status} ${r.text.slice(0, 300)}`);
    return { r, records: meter.take() };
  }
});
