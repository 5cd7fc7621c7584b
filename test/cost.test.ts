import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  API_KEY_COSTS,
  DEFAULT_API_KEY_CACHE_MS,
  LAST_USED_EVERY_MS,
  apiKeyItemRcuPerSecond,
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
} from '@coupons/core';
import { admin, bookWithCodes, createBook, service, uniqueCode, user, type CallResult, type TestApi } from './support/harness.ts';
import { startMeteredApi } from './support/cost-meter.ts';
import { waitFor } from './support/wait-for.ts';

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
      api.call('POST', '/coupons/assign', { token, body: { bookId, ...body }, headers });

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
    let m = await measured(() => api.call('POST', `/coupons/assign/${codes[0]}`, { token: svc, body: { userId: 'named', bookId: book.id } }), 201);
    expect(writePlan(m.records)).toEqual(OPERATIONS.claimCapped.plan);

    const token = await user('named');
    m = await measured(() => api.call('POST', `/coupons/lock/${codes[0]}`, { token, body: {} }), 200);
    expect(writePlan(m.records)).toEqual(OPERATIONS.lock.plan);
    m = await measured(() => api.call('POST', `/coupons/unlock/${codes[0]}`, { token, body: {} }), 200);
    expect(writePlan(m.records)).toEqual(OPERATIONS.unlock.plan);
    m = await measured(() => api.call('POST', `/coupons/redeem/${codes[0]}`, { token, body: { orderId: 'o-1' } }), 200);
    expect(writePlan(m.records)).toEqual(OPERATIONS.redeem.plan);

    await api.call('POST', `/coupons/assign/${codes[1]}`, { token: svc, body: { userId: 'named', bookId: book.id } });
    m = await measured(() => api.call('POST', `/coupons/redeem/${codes[1]}`, { token, body: {}, headers: idem() }), 200);
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
    let m = await measured(() => api.call('POST', '/coupons', { token, body: { name: 'four', shards: 4 } }), 201);
    expect(writePlan(m.records)).toEqual(sorted(['byOwner add book 1', 'tx put book 2', ...times(4, 'put bookStatsShard 1')]));
    expect(totals(m.records).wcu).toBe(4 + 3);
    m = await measured(() => api.call('POST', '/coupons', { token, body: { name: 'one' , shards: 1 }, headers: idem() }), 201);
    expect(writePlan(m.records)).toEqual(sorted(['byOwner add book 1', 'tx put book 2', 'put bookStatsShard 1', IDEMPOTENCY_RECORD_LINE]));
  });

  it('PATCH /coupons/{id}: a rename rewrites the book; a pause also every shard’s gate, in one transaction', async () => {
    const token = await admin();
    const book = await createBook(api, { shards: 3 });
    let m = await measured(() => api.call('PATCH', `/coupons/${book.id}`, { token, body: { name: 'renamed' } }), 200);
    expect(writePlan(m.records)).toEqual(['byOwner update book 1', 'tx update book 2']);
    m = await measured(() => api.call('PATCH', `/coupons/${book.id}`, { token, body: { status: 'paused' } }), 200);
    expect(writePlan(m.records)).toEqual(sorted(['byOwner update book 1', 'tx update book 2', ...times(3, 'tx update bookStatsShard 2')]));
    expect(m.records.filter((r) => r.writes.length)).toHaveLength(1);
  });

  it('POST /coupons/codes and /coupons/codes/generate: per code a transactional put, its pool and byBook entries; per shard touched, its counter', async () => {
    const token = await admin();
    const book = await createBook(api, { shards: 1, codePattern: 'GEN-****-****' });
    const codes = ['UP-AAA1', 'UP-AAA2', 'UP-AAA3'];
    let m = await measured(() => api.call('POST', '/coupons/codes', { token, body: { bookId: book.id, codes } }), 200);
    const perCode = ['tx put code 2', 'pool add code 1', 'byBook add code 1'];
    expect(writePlan(m.records)).toEqual(sorted([...times(3, perCode).flat(), 'tx update bookStatsShard 2']));
    m = await measured(() => api.call('POST', '/coupons/codes/generate', { token, body: { bookId: book.id, count: 3 } }), 201);
    expect(writePlan(m.records)).toEqual(sorted([...times(3, perCode).flat(), 'tx update bookStatsShard 2']));
    // Under an Idempotency-Key the work spans transactions: a pending record first, the response after.
    m = await measured(() => api.call('POST', '/coupons/codes', { token, body: { bookId: book.id, codes: ['UP-AAA4'] }, headers: idem() }), 200);
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
      status = (await api.call('GET', `/jobs/${jobId}`, { token })).json.status;
      if (status !== 'succeeded') await new Promise((res) => setTimeout(res, 100));
    }
    expect(status).toBe('succeeded');
    expect(writePlan(meter.take())).toEqual(
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
    await api.call('POST', '/coupons/assign', { token: await user('first'), body: { bookId: book.id } });
    const late = await user('late');
    // The first refusal reads the pool shards the claim before it did not already find empty (2
    // queries x 0.5 RCU each, 4 shards); the instance then remembers each as empty for under a
    // second, so the crowd behind it reads nothing.
    const first = await measured(() => api.call('POST', '/coupons/assign', { token: late, body: { bookId: book.id } }), 409);
    expect(writePlan(first.records)).toEqual([]);
    const firstQueries = first.records.filter((r) => r.command === 'QueryCommand').length;
    expect(firstQueries).toBeGreaterThanOrEqual(2);
    expect(firstQueries).toBeLessThanOrEqual(8);
    let rcu = totals(first.records).rcu;
    const refusals = 10;
    for (let i = 1; i < refusals; i++) {
      const m = await measured(() => api.call('POST', '/coupons/assign', { token: late, body: { bookId: book.id } }), 409);
      expect(writePlan(m.records)).toEqual([]);
      expect(m.records.filter((r) => r.command === 'QueryCommand')).toEqual([]);
      rcu += totals(m.records).rcu;
    }
    expect(rcu / refusals).toBeLessThanOrEqual(SOLD_OUT_CLAIM_RCU_BUDGET);
  });

  it('a new upload makes a sold-out book claimable again within a second', async () => {
    const { book } = await bookWithCodes(api, 1, { shards: 2 });
    const token = await user('again');
    expect((await api.call('POST', '/coupons/assign', { token, body: { bookId: book.id } })).status).toBe(201);
    expect((await api.call('POST', '/coupons/assign', { token: await user('again-2'), body: { bookId: book.id } })).status).toBe(409);
    await api.call('POST', '/coupons/codes', { token: await admin(), body: { bookId: book.id, codes: [uniqueCode()] } });
    await new Promise((r) => setTimeout(r, 1000));
    expect((await api.call('POST', '/coupons/assign', { token: await user('again-2'), body: { bookId: book.id } })).status).toBe(201);
  });

  it('a well-behaved request writes nothing for the limiter; a CODE_NOT_FOUND writes the caller’s miss count, once', async () => {
    const token = await user('miss');
    const m = await measured(() => api.call('POST', '/coupons/redeem/NO-SUCH-CODE', { token, body: {} }), 404);
    expect(writePlan(m.records)).toEqual(['update rateCounter 1']);
    // The caller's standing is read once (0.5 RCU, eventually consistent), then cached by the instance.
    expect(m.records.filter((r) => r.reads.some((x) => x.pk?.includes('#RATE#')))).toHaveLength(1);
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
    await waitFor('lastUsedAt written', () => (lastUsed.push(...keyOps(m.records).filter((r) => r.writes.length), ...keyOps(meter.take())), lastUsed.some((r) => r.writes.length)), 5000);
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
