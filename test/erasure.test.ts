import { gunzipSync, gzipSync } from 'node:zlib';
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERASURES_PER_DAY, getJob, idempotencyScope, inProcessJobDispatcher, pseudonymOf, queueJob, runJob, useJobDispatcher, type ChangeFollower } from '@coupons/core';
import { followChanges, JOB_KINDS } from '@coupons/api';
import { admin, answer, bookWithCodes, expectError, service, startTestApi, uniqueCode, user, type TestApi } from './support/harness.ts';
import { checkInvariants } from './support/invariants.ts';
import { startReceiver, waitFor, type Receiver } from './support/webhook-receiver.ts';

// DELETE /users/{userId} end to end over DynamoDB Local with its stream: a user who did everything
// a user can (claims, locks, redeems, a rollback, misses up to the rate limit, idempotency keys,
// webhook deliveries about their codes) is erased; then the WHOLE table is scanned, every attribute
// (gzip-kept answers unpacked), for the id. Nothing is mocked.
const ENV = {
  ERASURE_SETTLE_MS: '3000',
  JOB_LANES: '4',
  RATE_LIMIT_MISSES_PER_10_MINUTES: '2',
  // The racing claims below are many from one caller; the miss limit above stays on.
  RATE_LIMIT_CALLER_PER_MINUTE: '0',
  WEBHOOK_ALLOW_LOOPBACK: 'true',
  WEBHOOK_RETRY_SCHEDULE: '0.3,0.3',
  WEBHOOK_POLL_MS: '50',
  WEBHOOK_DELIVERY_SHARDS: '4',
};
let api: TestApi;
let follower: ChangeFollower;
let receiver: Receiver;
beforeAll(async () => {
  api = await startTestApi('erasure', ENV, { stream: true });
  follower = followChanges(api.core, { name: 'erasure', idleMs: 20 });
  receiver = await startReceiver();
  const hook = await answer(api.client(await admin()).webhooks.$post({ json: { url: `${receiver.url}/hook` } }));
  expect(hook.status).toBe(201);
  receiver.trust(hook.json.secret);
});
afterAll(async () => {
  await follower?.stop();
  await receiver?.close();
  await api?.close();
});

/** The table as text: every item, every attribute, stored answers (gzip) unpacked. */
async function tableText(): Promise<string> {
  const items = await api.scan();
  return JSON.stringify(items, (_k, v) => {
    if (v instanceof Uint8Array || (v && v.type === 'Buffer')) {
      const bytes = Buffer.from(v instanceof Uint8Array ? v : v.data);
      // A whole gzip (an answer kept inline) is unpacked; a part of one is checked with its record (below).
      try {
        return gunzipSync(bytes).toString('utf8');
      } catch {
        return bytes.toString('base64');
      }
    }
    return v;
  });
}

const key = () => ({ headers: { 'idempotency-key': randomUUID() } });

/** What the stream's consumers and the webhook dispatcher write on their own, a moment after the requests. */
const BACKGROUND = new Set(['streamCheckpoint', 'codeHistory', 'activityCounter', 'webhookDelivery', 'bookAlert']);
/** The table as requests leave it (rate counters aside, as `scanState`), without what the background writes meanwhile. */
const requestState = async () => (await api.scanState()).filter((i) => !BACKGROUND.has(i.__edb_e__));

async function erase(userId: string, token?: string) {
  return answer(api.client(token ?? (await admin())).users[':userId'].$delete({ param: { userId } }));
}

async function finished(jobId: string, tenant = 't1') {
  const asAdmin = api.client(await admin(tenant));
  return waitFor(
    `erasure job ${jobId}`,
    async () => {
      const job = await answer(asAdmin.jobs[':jobId'].$get({ param: { jobId } }));
      return ['succeeded', 'failed'].includes(job.json.status) && job.json;
    },
    30_000,
    50,
  );
}

/** Every code change has its history item, and every delivery to the receiver was made. */
async function streamSettled() {
  await waitFor('history and deliveries', async () => {
    const items = await api.scan();
    const changes = items.filter((i) => i.__edb_e__ === 'code').reduce((n, c) => n + (c.changeSeq ?? 0), 0);
    const history = items.filter((i) => i.__edb_e__ === 'codeHistory').length;
    const deliveries = items.filter((i) => i.__edb_e__ === 'webhookDelivery');
    return history === changes && deliveries.length > 0 && deliveries.every((d) => d.status === 'delivered');
  });
}

describe('DELETE /users/{userId}', () => {
  const userId = `erin.${randomUUID().slice(0, 8)}@example|42`;
  const bystander = `bystander-${randomUUID().slice(0, 8)}`;

  it("leaves no item naming the user, the pseudonym in every place the id was, and every count and cap intact", async () => {
    const { book } = await bookWithCodes(api, 6, { maxCodesPerUser: 3, maxRedemptionsPerUser: 2 });
    const asUser = api.client(await user(userId));
    const asService = api.client(await service());
    // Claim and lock in one step, redeem twice, roll one back: each keyed, so their answers are kept.
    const first = await answer(asUser.coupons.assign.$post({ json: { bookId: book.id, lock: true } }, key()));
    expect(first.status).toBe(201);
    const code = first.json.code as string;
    const redeemed = await answer(asUser.coupons.redeem[':code'].$post({ param: { code }, json: { lockId: first.json.lockId, orderId: 'o-1' } }, key()));
    expect(redeemed.status).toBe(200);
    const rolled = await answer(asService.redemptions[':redemptionId'].rollback.$post({ param: { redemptionId: redeemed.json.redemptionId }, json: { reason: 'returned' } }, key()));
    expect(rolled.status).toBe(200);
    expect((await answer(asUser.coupons.redeem[':code'].$post({ param: { code }, json: { orderId: 'o-2' } }, key()))).status).toBe(200);
    // A service claims a second code for the user (its kept answer names the user); the user locks and unlocks it.
    const second = await answer(asService.coupons.assign.$post({ json: { bookId: book.id, userId } }, key()));
    expect(second.status).toBe(201);
    const lock = await answer(asUser.coupons.lock[':code'].$post({ param: { code: second.json.code }, json: {} }, key()));
    expect(lock.status).toBe(200);
    expect((await answer(asUser.coupons.unlock[':code'].$post({ param: { code: second.json.code }, json: { lockId: lock.json.lockId } }, key()))).status).toBe(200);
    // Guessing codes until the limit trips: the misses are counted under the user.
    for (let i = 0; i < 3; i++) await answer(asUser.coupons.lock[':code'].$post({ param: { code: uniqueCode('NOPE') }, json: {} }));
    expectError(await answer(asUser.coupons.lock[':code'].$post({ param: { code: uniqueCode('NOPE') }, json: {} })), 429, 'RATE_LIMITED');
    // Someone else, who must stay as they are.
    expect((await answer(api.client(await user(bystander)).coupons.assign.$post({ json: { bookId: book.id } }))).status).toBe(201);
    await streamSettled();

    const before = await tableText();
    expect(before).toContain(userId);
    const beforeItems = await api.scan();
    const statsBefore = beforeItems.filter((i) => i.__edb_e__ === 'bookStatsShard' && i.bookId === book.id);

    const accepted = await erase(userId);
    expect(accepted.status).toBe(202);
    const job = await finished(accepted.json.jobId);
    const pseudonym = pseudonymOf(api.core, 't1', userId);
    expect(job).toMatchObject({ id: accepted.json.jobId, kind: 'erasure', status: 'succeeded', pseudonym, lanes: 4, lanesDone: 4 });
    expect(pseudonym).toMatch(/^erased-[0-9a-f]{32}$/);
    expect(job.erased).toBeGreaterThan(10);
    expect(job.scanned).toBeGreaterThanOrEqual(beforeItems.length);

    const after = await tableText();
    expect(after).not.toContain(userId);
    expect(after).toContain(pseudonym);
    expect(after).toContain(bystander);
    const items = await api.scan();
    expect(checkInvariants(items).violations).toEqual([]);
    // The counts hold under the pseudonym: two codes, one holding of 2 under the cap, three redemption records (one rolled back).
    const held = items.filter((i) => i.__edb_e__ === 'code' && i.userId === pseudonym);
    expect(held.map((c) => c.code).sort()).toEqual([code, second.json.code].sort());
    expect(held.every((c) => c.gsi2pk === `T#t1#USER#${pseudonym}`)).toBe(true);
    expect(items.filter((i) => i.__edb_e__ === 'userBookHolding' && i.userId === pseudonym).map((h) => h.held)).toEqual([2]);
    expect(items.filter((i) => i.__edb_e__ === 'redemption' && i.userId === pseudonym)).toHaveLength(2);
    expect(items.filter((i) => i.__edb_e__ === 'codeHistory' && (i.userId === pseudonym || i.by === pseudonym)).length).toBeGreaterThanOrEqual(6);
    const keyed = items.filter((i) => i.__edb_e__ === 'idempotencyRecord' && i.caller === pseudonym);
    expect(keyed.length).toBeGreaterThanOrEqual(5);
    // Moved to the key the pseudonym's own request would have: no key is a hash of the id any more.
    for (const r of keyed) expect(r.scope).toBe(idempotencyScope({ role: r.role, caller: pseudonym, key: r.key }));
    expect(items.filter((i) => i.__edb_e__ === 'rateCounter' && i.scope === `misses#${pseudonym}`)).toHaveLength(1);
    expect(items.filter((i) => i.__edb_e__ === 'webhookDelivery' && i.body.includes(pseudonym)).length).toBeGreaterThan(0);
    // The erasure moved no stock: the book's stats items are as they were.
    const statsAfter = items.filter((i) => i.__edb_e__ === 'bookStatsShard' && i.bookId === book.id);
    expect(statsAfter).toEqual(statsBefore);
    // The job's own record keeps the pseudonym, not the id; the user's codes are listed under the pseudonym.
    const record = items.find((i) => i.__edb_e__ === 'job' && i.jobId === accepted.json.jobId)!;
    expect(record).toMatchObject({ kind: 'erasure', pseudonym, status: 'succeeded' });
    expect(record.userId).toBeUndefined();
    const listed = await answer(api.client(await admin()).users[':userId'].coupons.$get({ param: { userId: pseudonym }, query: {} }));
    expect(listed.json.items.map((c: { code: string }) => c.code).sort()).toEqual(held.map((c) => c.code).sort());

    // The erased id is refused from now on, by its own token or named by a service, and nothing is written.
    const state = await requestState();
    expectError(await answer(asUser.coupons.assign.$post({ json: { bookId: book.id } }, key())), 403, 'FORBIDDEN');
    expectError(await answer(asService.coupons.assign.$post({ json: { bookId: book.id, userId } })), 403, 'FORBIDDEN');
    expectError(await answer(asService.coupons.lock[':code'].$post({ param: { code }, json: { userId } })), 404, 'CODE_NOT_FOUND');
    // Nor does anyone act for the pseudonym: the erased person's codes stay as they were left.
    expectError(await answer(asService.coupons.lock[':code'].$post({ param: { code }, json: { userId: pseudonym } })), 403, 'FORBIDDEN');
    expectError(await answer(asService.coupons.assign.$post({ json: { bookId: book.id, userId: pseudonym } })), 403, 'FORBIDDEN');
    expectError(await answer(api.client(await user(pseudonym)).coupons.redeem[':code'].$post({ param: { code }, json: {} })), 403, 'FORBIDDEN');
    expect(await requestState()).toEqual(state);
    expect((await api.scan()).filter((i) => i.__edb_e__ === 'rateCounter' && i.scope.includes(userId))).toEqual([]);
    expect(await tableText()).not.toContain(userId);
  });

  it('erasing again, and erasing an id that never existed, answer 202 with a job that succeeds', async () => {
    const ids = [userId, `never-${randomUUID()}`];
    const accepted = await Promise.all(ids.map((id) => erase(id)));
    expect(accepted.map((a) => a.status)).toEqual([202, 202]);
    const jobs = await Promise.all(accepted.map((a) => finished(a.json.jobId)));
    for (const [i, job] of jobs.entries()) expect(job).toMatchObject({ status: 'succeeded', pseudonym: pseudonymOf(api.core, 't1', ids[i]!), erased: 0 });
    const text = await tableText();
    for (const id of ids) expect(text).not.toContain(id);
  });

  it("an erased admin's sub leaves the API keys it made and revoked, which keep working", async () => {
    const sub = `admin-${randomUUID().slice(0, 8)}`;
    const asThem = api.client(await admin('t1', sub));
    const made = await answer(asThem['api-keys'].$post({ json: { name: 'made by the erased admin', role: 'service' } }));
    expect(made.status).toBe(201);
    const revoked = await answer(asThem['api-keys'].$post({ json: { name: 'revoked by them', role: 'service' } }));
    expect((await answer(asThem['api-keys'][':keyId'].$delete({ param: { keyId: revoked.json.keyId } }))).status).toBe(204);
    expect(await tableText()).toContain(sub);
    const job = await finished((await erase(sub)).json.jobId);
    expect(job.status).toBe('succeeded');
    expect(job.erased).toBe(2);
    expect(await tableText()).not.toContain(sub);
    // The key it made still signs requests.
    expect((await api.call('GET', '/users/u-1/coupons', { token: made.json.key })).status).toBe(200);
  });

  it('kept answers too large for one item (in parts) are rewritten with their parts: moved for the user, in place for a service', async () => {
    const big = `big-${randomUUID().slice(0, 8)}`;
    // As idempotency/run.ts keeps an answer whose gzip passes 300 KB: the gzip cut into parts of 350 KB.
    const answerFor = (who: string) => gzipSync(JSON.stringify({ userId: who, blob: randomBytes(420_000).toString('base64') }));
    const store = api.core.store;
    const expiresAt = Math.floor(Date.now() / 1000) + 3600;
    const keep = async (role: string, caller: string) => {
      const bytes = answerFor(big);
      const parts = [bytes.subarray(0, 350_000), bytes.subarray(350_000)];
      const scope = idempotencyScope({ role, caller, key: 'k-big' });
      await store.idempotencyRecord
        .create({ tenant: 't1', scope, role, caller, key: 'k-big', requestHash: 'h', state: 'done', status: 201, parts: 2, createdAt: new Date().toISOString(), expiresAt })
        .go();
      for (const [part, body] of parts.entries()) await store.idempotencyPart.create({ tenant: 't1', scope, part, body, expiresAt }).go();
      return scope;
    };
    const own = await keep('user', big);
    const services = await keep('service', 'svc-1');
    const job = await finished((await erase(big)).json.jobId);
    expect(job.status).toBe('succeeded');
    const pseudonym = pseudonymOf(api.core, 't1', big);
    const answerAt = async (scope: string) => {
      const { data: record } = await store.idempotencyRecord.get({ tenant: 't1', scope }).go({ consistent: true });
      const { data: parts } = await store.idempotencyPart.query.byScope({ tenant: 't1', scope }).go({ consistent: true });
      if (!record) return { record, parts };
      const bytes = record.body ?? Buffer.concat(parts.sort((a, b) => a.part - b.part).map((p) => p.body as Uint8Array));
      return { record, parts, answer: JSON.parse(gunzipSync(bytes).toString('utf8')) };
    };
    // The user's own record: gone from the key hashed from the id, whole under the pseudonym's.
    expect(await answerAt(own)).toMatchObject({ record: null, parts: [] });
    const moved = await answerAt(idempotencyScope({ role: 'user', caller: pseudonym, key: 'k-big' }));
    expect(moved.record).toMatchObject({ caller: pseudonym, status: 201, parts: moved.parts.length });
    expect(moved.answer.userId).toBe(pseudonym);
    // The service's record keeps its key; its answer names the pseudonym.
    const rewritten = await answerAt(services);
    expect(rewritten.record).toMatchObject({ caller: 'svc-1', parts: rewritten.parts.length });
    expect(rewritten.answer.userId).toBe(pseudonym);
    expect(await tableText()).not.toContain(big);
  });

  it('refuses a bad id precisely (400) and callers other than an admin (403), writing nothing', async () => {
    const before = await requestState();
    const bad = await api.call('DELETE', `/users/${encodeURIComponent('has#hash')}`, { token: await admin() });
    expectError(bad, 400, 'VALIDATION_FAILED');
    expect(JSON.stringify(bad.json.error.details)).toContain('userId');
    expectError(await api.call('DELETE', `/users/${'x'.repeat(129)}`, { token: await admin() }), 400, 'VALIDATION_FAILED');
    expectError(await erase('someone', await service()), 403, 'FORBIDDEN');
    expectError(await erase('someone', await user('someone')), 403, 'FORBIDDEN');
    expectError(await api.call('DELETE', '/users/someone'), 401, 'UNAUTHENTICATED');
    expect(await requestState()).toEqual(before);
  });

  it('refuses the erasures of a day past the cap (409), writing nothing, and counts the others', async () => {
    const day = new Date().toISOString().slice(0, 10);
    const count = async () => (await api.core.store.tenantQuota.get({ tenant: 't-cap', kind: `erasures#${day}` }).go({ consistent: true })).data?.used;
    const accepted = await erase('capped-1', await admin('t-cap'));
    expect(accepted.status).toBe(202);
    expect(await count()).toBe(1);
    expect((await finished(accepted.json.jobId, 't-cap')).status).toBe('succeeded');
    await api.core.store.tenantQuota.patch({ tenant: 't-cap', kind: `erasures#${day}` }).set({ used: ERASURES_PER_DAY }).go();
    const before = await requestState();
    const refused = await erase('capped-2', await admin('t-cap'));
    expectError(refused, 409, 'TENANT_LIMIT_REACHED');
    expect(refused.json.error.details).toEqual({ limit: ERASURES_PER_DAY });
    expect(await requestState()).toEqual(before);
  });

  it('a job stopped mid-way resumes where its lanes stopped, with exact counts; run again, it is done', async () => {
    const resumer = `resumer-${randomUUID().slice(0, 8)}`;
    const { book } = await bookWithCodes(api, 4, { maxCodesPerUser: 3 });
    const asService = api.client(await service());
    for (let i = 0; i < 3; i++) expect((await answer(asService.coupons.assign.$post({ json: { bookId: book.id, userId: resumer } }))).status).toBe(201);
    // What names the user: three codes, their three history entries, one holding, three deliveries of code.assigned.
    const expected = ['code', 'code', 'code', 'codeHistory', 'codeHistory', 'codeHistory', 'userBookHolding', 'webhookDelivery', 'webhookDelivery', 'webhookDelivery'];
    const naming = await waitFor('the stream to write history and deliveries', async () => {
      const found = (await api.scan()).filter((i) => JSON.stringify(i).includes(resumer));
      return JSON.stringify(found.map((i) => i.__edb_e__).sort()) === JSON.stringify(expected) && found;
    });
    // Queued as DELETE /users/{userId} queues it, but with pages of 5 items, so that a run can stop between pages; run here, not dispatched.
    const actor = { tenant: 't1', sub: 'admin-1', role: 'admin' as const };
    const pseudonym = pseudonymOf(api.core, 't1', resumer);
    const held = { kind: 'held', dispatch: async () => undefined };
    useJobDispatcher(api.core, held);
    let jobId: string;
    try {
      ({ jobId } = await queueJob(api.core, actor, { kind: 'erasure', laneTargets: [1, 1, 1, 1], chunkSize: 5, attributes: { userId: resumer, pseudonym, settleUntil: 0 }, transient: ['userId'] }));
    } finally {
      useJobDispatcher(api.core, inProcessJobDispatcher(api.core, { kinds: JOB_KINDS }));
    }
    const ref = { tenant: 't1', jobId };
    const stop = new AbortController();
    let pages = 0;
    const first = await runJob(api.core, ref, JOB_KINDS, { signal: stop.signal, onChunk: (c) => c.chunks > 0 && ++pages === 3 && stop.abort() });
    expect(first.outcome).toBe('paused');
    const midway = (await getJob(api.core, actor, jobId)) as { scanned: number; lanesDone: number; status: string };
    expect(midway.status).toBe('running');
    expect(midway.lanesDone).toBeLessThan(4);
    expect((await runJob(api.core, ref, JOB_KINDS)).outcome).toBe('succeeded');
    expect((await runJob(api.core, ref, JOB_KINDS)).outcome).toBe('succeeded');
    const done = (await getJob(api.core, actor, jobId)) as { erased: number; scanned: number; status: string };
    // Exact: each item naming the user counted once, however the pages fell between the runs.
    expect(done).toMatchObject({ status: 'succeeded', erased: naming.length });
    expect(await tableText()).not.toContain(resumer);
    expect(checkInvariants(await api.scan()).violations).toEqual([]);
  });

  it('two erasures of one user at once: both succeed, and between them every item is rewritten exactly once', async () => {
    const twice = `twice-${randomUUID().slice(0, 8)}`;
    const { book } = await bookWithCodes(api, 4, { maxCodesPerUser: 3 });
    const asTwice = api.client(await user(twice));
    for (let i = 0; i < 3; i++) expect((await answer(asTwice.coupons.assign.$post({ json: { bookId: book.id } }, key()))).status).toBe(201);
    const expected = ['code', 'code', 'code', 'codeHistory', 'codeHistory', 'codeHistory', 'idempotencyRecord', 'idempotencyRecord', 'idempotencyRecord', 'userBookHolding', 'webhookDelivery', 'webhookDelivery', 'webhookDelivery'];
    const naming = await waitFor('the stream to write history and deliveries', async () => {
      const found = (await api.scan()).filter((i) => JSON.stringify(i).includes(twice) || (i.__edb_e__ === 'idempotencyRecord' && i.caller === twice));
      return JSON.stringify(found.map((i) => i.__edb_e__).sort()) === JSON.stringify(expected) && found;
    });
    const [a, b] = await Promise.all([erase(twice), erase(twice)]);
    expect([a.status, b.status]).toEqual([202, 202]);
    const [jobA, jobB] = await Promise.all([finished(a.json.jobId), finished(b.json.jobId)]);
    expect([jobA.status, jobB.status]).toEqual(['succeeded', 'succeeded']);
    expect(jobA.pseudonym).toBe(jobB.pseudonym);
    expect(jobA.erased + jobB.erased).toBe(naming.length);
    const items = await api.scan();
    expect(checkInvariants(items).violations).toEqual([]);
    expect(await tableText()).not.toContain(twice);
    expect(items.filter((i) => i.__edb_e__ === 'userBookHolding' && i.userId === jobA.pseudonym).map((h) => h.held)).toEqual([3]);
  });

  it("the user's own claims racing the erasure: each lands before and is rewritten, or is refused; nothing names the user", async () => {
    const racer = `racer-${randomUUID().slice(0, 8)}`;
    const { book } = await bookWithCodes(api, 300, { maxCodesPerUser: 1000 });
    const asRacer = api.client(await user(racer));
    const asService = api.client(await service());
    const claim = (i: number) =>
      answer(i % 2 ? asRacer.coupons.assign.$post({ json: { bookId: book.id, lock: i % 4 === 1 } }, key()) : asService.coupons.assign.$post({ json: { bookId: book.id, userId: racer } }));
    // Six callers claim for the user one claim after another until they are refused; the erasure
    // starts as the first claim is answered, so claims are in flight while the mark lands.
    const answers: { status: number; text: string }[] = [];
    let first!: () => void;
    const firstAnswered = new Promise<void>((r) => (first = r));
    const loops = Array.from({ length: 6 }, async (_, i) => {
      for (;;) {
        const a = await claim(i);
        answers.push(a);
        first();
        if (a.status !== 201) return;
      }
    });
    const accepted = await firstAnswered.then(() => erase(racer));
    await Promise.all(loops);
    expect(accepted.status).toBe(202);
    // A claim is a success or refused as the erased user's (403); never anything else.
    for (const a of answers) expect([201, 403], a.text).toContain(a.status);
    const won = answers.filter((a) => a.status === 201).length;
    expect(won, 'claims landed before the mark').toBeGreaterThan(0);
    expect(answers.filter((a) => a.status === 403)).toHaveLength(6);
    const job = await finished(accepted.json.jobId);
    expect(job.status).toBe('succeeded');
    const pseudonym = pseudonymOf(api.core, 't1', racer);
    const items = await api.scan();
    expect(checkInvariants(items).violations).toEqual([]);
    expect(await tableText()).not.toContain(racer);
    expect(items.filter((i) => i.__edb_e__ === 'code' && i.userId === pseudonym)).toHaveLength(won);
    expect(items.find((i) => i.__edb_e__ === 'userBookHolding' && i.userId === pseudonym)?.held).toBe(won);
  });
});
