import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  enqueueGeneration,
  inProcessJobDispatcher,
  installFaultInjection,
  isMistypedCheckedCode,
  listUnfinishedJobs,
  resumeUnfinishedJobs,
  runGenerationJob,
  sqsJobDispatcher,
  createSqsClient,
  useJobDispatcher,
  type CoreContext,
  type JobRef,
} from '@coupons/core';
import { createJobWorker, SAFETY_MARGIN_MS } from '../packages/api/src/job-worker.ts';
import { JOB_KINDS } from '@coupons/api';
import { admin, answer, bookStats, createBook, expectError, service, startTestApi, user, type TestApi } from './support/harness.ts';
import { expectInvariants } from './support/invariants.ts';
import { waitFor } from './support/wait-for.ts';

// Generation jobs: the HTTP API (202, GET /jobs), and the runner's mechanics with small totals
// and a small chunk size (DynamoDB Local commits ~30 transactions a second, so a 10,000,000-code
// job is for the benchmark, not for tests). Ground truth is the table: codes, stats shards and
// job lanes, read back with api.scan().
let api: TestApi;
beforeAll(async () => {
  // A one-second lease, so a crashed runner's job is resumable a second later.
  api = await startTestApi('jobs', { JOB_LEASE_SECONDS: '1' });
});
afterAll(() => api.close());

const T = 't1';
const actor = { sub: 'admin-1', tenant: T, role: 'admin' as const };
const DIGIT = '[23456789]';
const EITHER = '[ABCDEFGHJKMNPQRSTUVWXYZ23456789]';


const codesOf = async (bookId: string) => (await api.scan()).filter((i) => i.__edb_e__ === 'code' && i.tenant === T && i.bookId === bookId);
const stats = (bookId: string) => bookStats(api, bookId, T);
const job = async (jobId: string, tenant = T) => answer(api.client(await admin(tenant)).jobs[':jobId'].$get({ param: { jobId } }));

/** A context with small jobs (chunks of 5 codes, 3 lanes) whose dispatcher only records. */
function smallJobs(over: Record<string, unknown> = {}) {
  const dispatched: JobRef[] = [];
  const ctx: CoreContext = { ...api.core, config: { ...api.core.config, JOB_CHUNK_SIZE: 5, JOB_LANES: 3, ...over } };
  useJobDispatcher(ctx, { kind: 'recording', dispatch: async (ref) => void dispatched.push(ref) });
  return { ctx, dispatched };
}


describe('POST /coupons/codes/generate above 10,000 codes', () => {
  it('answers 202 { jobId }, runs in the background and ends with exactly `total` codes of the pattern', async () => {
    const book = await createBook(api, { name: 'Big job', codePattern: 'BIG-#****' });
    const token = await admin();
    const headers = { 'idempotency-key': `big-${book.id}` };
    const r = await answer(api.client(token).coupons.codes.generate.$post({ json: { bookId: book.id, count: 10_050 } }, { headers }));
    expect(r.status).toBe(202);
    expect(r.json).toEqual({ jobId: expect.any(String) });
    // A retry of the request answers the same job; it does not start another.
    const retry = await answer(api.client(token).coupons.codes.generate.$post({ json: { bookId: book.id, count: 10_050 } }, { headers }));
    expect(retry.status).toBe(202);
    expect(retry.json.jobId).toBe(r.json.jobId);

    const seen = new Set<string>();
    const done = await waitFor('the job', async () => {
      const j = await job(r.json.jobId);
      expect(j.status).toBe(200);
      seen.add(j.json.status);
      expect(j.json.generated).toBeLessThanOrEqual(10_050);
      return ['succeeded', 'failed'].includes(j.json.status) && j.json;
    }, 60_000, 100); // each poll is an HTTP request: every 100 ms
    expect(done).toEqual({
      id: r.json.jobId,
      bookId: book.id,
      status: 'succeeded',
      generated: 10_050,
      total: 10_050,
      pattern: 'BIG-#****',
      checkChar: false,
      createdAt: expect.any(String),
      startedAt: expect.any(String),
      finishedAt: expect.any(String),
    });
    expect(Date.parse(done.finishedAt)).toBeGreaterThanOrEqual(Date.parse(done.startedAt));
    const items = await codesOf(book.id);
    expect(items).toHaveLength(10_050);
    const re = new RegExp(`^BIG-${DIGIT}${EITHER}{4}$`);
    for (const i of items) expect(i.code).toMatch(re);
    expect(await stats(book.id)).toEqual({ codes: 10_050, available: 10_050, assigned: 0, redeemed: 0 });
    // Finished jobs leave the unfinished-jobs index.
    expect((await listUnfinishedJobs(api.core)).map((j) => j.jobId)).not.toContain(r.json.jobId);
    await expectInvariants(api);
  });

  it('refuses a count too large for the pattern, counting existing codes and unfinished jobs (400, says the space size)', async () => {
    const book = await createBook(api, { name: 'Crowded job', codePattern: 'J-######' }); // 8^6 = 262,144; 5% = 13,107
    const token = await admin();
    const tooMany = await answer(api.client(token).coupons.codes.generate.$post({ json: { bookId: book.id, count: 20_000 } }));
    expectError(tooMany, 400, 'VALIDATION_FAILED');
    expect(tooMany.json.error.message).toMatch(/262144/);
    expect(tooMany.json.error.message).toMatch(/longer pattern/);
    // A queued job's codes count as if they existed already.
    const { ctx } = smallJobs();
    const { jobId } = await enqueueGeneration(ctx, actor, { bookId: book.id, count: 12_000 });
    const second = await enqueueGeneration(ctx, actor, { bookId: book.id, count: 2_000 }).catch((e) => e);
    expect(second.code).toBe('VALIDATION_FAILED');
    expect(second.message).toMatch(/262144/);
    expect((await job(jobId)).json).toMatchObject({ status: 'queued', generated: 0, startedAt: null });
    // Tidy: this job is never run here.
    await api.core.store.job.patch({ tenant: T, jobId }).set({ status: 'failed', error: 'test', queuedAt: (await job(jobId)).json.createdAt }).go();
    expect(await stats(book.id)).toEqual({ codes: 0, available: 0, assigned: 0, redeemed: 0 });
  });

  it('refuses counts above 10,000,000 and bad patterns before queueing anything', async () => {
    const book = await createBook(api, { name: 'No job', codePattern: 'NJ-**********' });
    const token = await admin();
    expectError(await answer(api.client(token).coupons.codes.generate.$post({ json: { bookId: book.id, count: 10_000_001 } })), 400, 'VALIDATION_FAILED');
    expectError(await answer(api.client(token).coupons.codes.generate.$post({ json: { bookId: book.id, count: 20_000, pattern: 'NOPE' } })), 400, 'VALIDATION_FAILED');
    expectError(await answer(api.client(token).coupons.codes.generate.$post({ json: { bookId: 'nope', count: 20_000 } })), 404, 'BOOK_NOT_FOUND');
    expect((await api.scan()).filter((i) => i.__edb_e__ === 'job' && i.bookId === book.id)).toEqual([]);
  });
});

describe('GET /jobs/{jobId}', () => {
  it('is for admins of the job’s tenant: another tenant gets 404 JOB_NOT_FOUND, as for an unknown id', async () => {
    const book = await createBook(api, { name: 'Scoped', codePattern: 'SC-******' });
    const { ctx } = smallJobs();
    const { jobId } = await enqueueGeneration(ctx, actor, { bookId: book.id, count: 10 });
    expect((await job(jobId)).json).toMatchObject({ id: jobId, status: 'queued', generated: 0, total: 10, startedAt: null });
    expectError(await job(jobId, 't2'), 404, 'JOB_NOT_FOUND');
    expectError(await job('no-such-job'), 404, 'JOB_NOT_FOUND');
    for (const token of [await service(), await user('u-jobs')]) {
      expectError(await answer(api.client(token).jobs[':jobId'].$get({ param: { jobId } })), 403, 'FORBIDDEN');
    }
    expect((await runGenerationJob(ctx, { tenant: T, jobId })).outcome).toBe('succeeded');
    expect((await job(jobId)).json).toMatchObject({ status: 'succeeded', generated: 10 });
  });
});

describe('the runner', () => {
  it('a job stopped mid-way keeps exactly what it committed, and restarted ends with exactly `total`', async () => {
    const book = await createBook(api, { name: 'Stop and go', codePattern: 'SG-******', checkChar: true });
    const { ctx } = smallJobs();
    const { jobId } = await enqueueGeneration(ctx, actor, { bookId: book.id, count: 203 });
    const ref = { tenant: T, jobId };
    const stop = new AbortController();
    let chunks = 0;
    const first = await runGenerationJob(ctx, ref, { signal: stop.signal, onChunk: () => ++chunks === 7 && stop.abort() });
    expect(first.outcome).toBe('paused');

    const paused = (await job(jobId)).json;
    expect(paused.status).toBe('running');
    expect(paused.generated).toBeGreaterThanOrEqual(35);
    expect(paused.generated).toBeLessThan(203);
    // Exactly what the lanes say is in the table, and in the stats: no half chunk.
    expect(await codesOf(book.id)).toHaveLength(paused.generated);
    expect((await stats(book.id)).codes).toBe(paused.generated);

    const second = await runGenerationJob(ctx, ref);
    expect(second.outcome).toBe('succeeded');
    expect((await job(jobId)).json).toMatchObject({ status: 'succeeded', generated: 203, total: 203 });
    const items = await codesOf(book.id);
    expect(items).toHaveLength(203);
    for (const i of items) {
      expect(i.code).toMatch(new RegExp(`^SG-${EITHER}{6}_${EITHER}$`));
      expect(isMistypedCheckedCode(i.code)).toBe(false);
    }
    expect(await stats(book.id)).toEqual({ codes: 203, available: 203, assigned: 0, redeemed: 0 });
    const jobItem = (await api.scan()).find((i) => i.__edb_e__ === 'job' && i.jobId === jobId)!;
    expect(jobItem.attempts).toBe(2);
    expect(jobItem.gsi2pk).toBeUndefined();
    await expectInvariants(api);
  });

  it('a runner killed with SIGKILL mid-job resumes when the service starts again, from its last committed chunk', async () => {
    const book = await createBook(api, { name: 'Crash', codePattern: 'CR-******' });
    const { ctx } = smallJobs({ JOB_LANES: 2 });
    const { jobId } = await enqueueGeneration(ctx, actor, { bookId: book.id, count: 300 });

    // The runner in its own process, killed without warning once it has committed a few chunks.
    // `node --import tsx`, not the tsx wrapper: SIGKILL must reach the process that runs the job.
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/support/job-runner.ts', T, jobId], {
      env: { ...process.env, DYNAMODB_ENDPOINT: inject('dynamoDbEndpoint'), TABLE_NAME: api.table, JOB_LEASE_SECONDS: '1', AWS_REGION: 'us-east-1' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    await waitFor('8 chunks from the child', async () => (out.match(/chunk/g)?.length ?? 0) >= 8, 30_000);
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    expect(out).not.toMatch(/done/);

    const crashed = (await job(jobId)).json;
    expect(crashed.status).toBe('running');
    expect(crashed.generated).toBeGreaterThanOrEqual(40);
    expect(crashed.generated).toBeLessThan(300);
    expect(await codesOf(book.id)).toHaveLength(crashed.generated);

    // "The service starts again": it finds the job without a scan and resumes it once the
    // dead runner's lease has lapsed.
    expect((await listUnfinishedJobs(api.core)).map((j) => j.jobId)).toContain(jobId);
    const dispatcher = inProcessJobDispatcher(ctx, { kinds: JOB_KINDS });
    const resumed = await resumeUnfinishedJobs(ctx, { kind: 'only-this-test', dispatch: (ref) => (ref.jobId === jobId ? dispatcher.dispatch(ref) : Promise.resolve()) });
    expect(resumed.map((j) => j.jobId)).toContain(jobId);
    await dispatcher.idle();

    expect((await job(jobId)).json).toMatchObject({ status: 'succeeded', generated: 300, total: 300 });
    expect(await codesOf(book.id)).toHaveLength(300);
    expect(await stats(book.id)).toEqual({ codes: 300, available: 300, assigned: 0, redeemed: 0 });
    await expectInvariants(api);
  });

  it('two runners on one job (a lease that lapsed under a live runner) still make exactly `total`', async () => {
    const book = await createBook(api, { name: 'Two runners', codePattern: 'TR-******' });
    const { ctx } = smallJobs();
    const { jobId } = await enqueueGeneration(ctx, actor, { bookId: book.id, count: 600 });
    const ref = { tenant: T, jobId };
    let aChunks = 0;
    let released = false;
    const a = runGenerationJob(ctx, ref, {
      runnerId: 'runner-a',
      onChunk: () => {
        if (++aChunks === 3 && !released) {
          released = true;
          // As if runner A had stalled past its lease and someone's claim had lapsed since: B may
          // take the job while A still has chunks in flight (A notices at its next heartbeat).
          void api.core.store.job.patch(ref).set({ leaseUntil: 0, leaseOwner: 'lapsed' }).go().then(() => {
            b = runGenerationJob(ctx, ref, { runnerId: 'runner-b', onChunk: () => bChunks++ });
          });
        }
      },
    });
    let b: ReturnType<typeof runGenerationJob> | undefined;
    let bChunks = 0;
    const outA = await a;
    await waitFor('runner b', async () => b !== undefined);
    const outB = await b!;
    expect([outA.outcome, outB.outcome]).toContain('succeeded');
    // Both really worked the job: B committed chunks while A had committed some already.
    expect(aChunks).toBeGreaterThanOrEqual(3);
    expect(bChunks).toBeGreaterThan(0);
    expect((await job(jobId)).json).toMatchObject({ status: 'succeeded', generated: 600 });
    expect(await codesOf(book.id)).toHaveLength(600);
    expect(await stats(book.id)).toEqual({ codes: 600, available: 600, assigned: 0, redeemed: 0 });
    await expectInvariants(api);
  });

  it('a throttled database slows a job down but does not change its count', async () => {
    const book = await createBook(api, { name: 'Throttled', codePattern: 'TH-******' });
    const { ctx } = smallJobs();
    const { jobId } = await enqueueGeneration(ctx, actor, { bookId: book.id, count: 60 });
    const faults = installFaultInjection(api.core.store.client);
    try {
      // Enough throttled transactions that a chunk exhausts transact's own retries (UNAVAILABLE).
      faults.inject('Throttling', 8, 'TransactWriteItemsCommand');
      faults.inject('TransactionConflict', 3, 'TransactWriteItemsCommand');
      expect((await runGenerationJob(ctx, { tenant: T, jobId })).outcome).toBe('succeeded');
      expect(faults.seen.filter((c) => c === 'TransactWriteItemsCommand').length).toBeGreaterThan(12);
    } finally {
      faults.clear();
      api.core.store.client.middlewareStack.remove('testFaultInjection');
    }
    expect((await job(jobId)).json).toMatchObject({ status: 'succeeded', generated: 60 });
    expect(await codesOf(book.id)).toHaveLength(60);
    await expectInvariants(api);
  });

  it('a job whose book is gone fails, with the reason', async () => {
    const book = await createBook(api, { name: 'Vanishing', codePattern: 'VN-******' });
    const { ctx } = smallJobs();
    const { jobId } = await enqueueGeneration(ctx, actor, { bookId: book.id, count: 10 });
    await api.core.store.book.delete({ tenant: T, bookId: book.id }).go();
    expect((await runGenerationJob(ctx, { tenant: T, jobId })).outcome).toBe('failed');
    expect((await job(jobId)).json).toMatchObject({ status: 'failed', generated: 0, error: 'the book no longer exists', finishedAt: expect.any(String) });
    expect((await listUnfinishedJobs(api.core)).map((j) => j.jobId)).not.toContain(jobId);
  });
});

describe('on AWS: the queue and its worker', () => {
  // The SQS service cannot run on these machines. The API's side runs the real AWS SDK client
  // against a stand-in that answers SQS's JSON protocol on 127.0.0.1 (the one part mocked,
  // because it is AWS-only), and the queue's side hands that very message body to the worker's
  // handler, as Lambda's event source mapping would.
  const QUEUE_URL = 'https://sqs.us-east-1.amazonaws.com/123456789012/GenerationJobs';
  const servers: Server[] = [];
  afterAll(() => Promise.all(servers.map((s) => new Promise((r) => s.close(r)))));

  async function fakeSqs(status = 200) {
    const sent: { url: string; headers: Record<string, string | string[] | undefined>; body: any }[] = [];
    const server = createServer((req, res) => {
      let raw = '';
      req.on('data', (d) => (raw += d));
      req.on('end', () => {
        const body = JSON.parse(raw);
        sent.push({ url: req.url ?? '', headers: req.headers, body });
        const reply =
          status === 200
            ? { MessageId: `m-${sent.length}`, MD5OfMessageBody: createHash('md5').update(body.MessageBody).digest('hex') }
            : { __type: 'com.amazonaws.sqs#InternalError', message: 'boom' };
        res.writeHead(status, { 'content-type': 'application/x-amz-json-1.0' }).end(JSON.stringify(reply));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    servers.push(server);
    const client = createSqsClient({
      region: 'us-east-1',
      endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      credentials: { accessKeyId: 'AKIATEST', secretAccessKey: 'x', sessionToken: 'tok' },
    });
    return { sent, client };
  }

  it('enqueue sends a signed SendMessage; the worker runs the job, queues a continuation when time runs out, and finishes', async () => {
    const book = await createBook(api, { name: 'Queued', codePattern: 'QU-******' });
    const sqs = await fakeSqs();
    const { ctx } = smallJobs();
    useJobDispatcher(ctx, sqsJobDispatcher(ctx, { queueUrl: QUEUE_URL, client: sqs.client }));
    const { jobId } = await enqueueGeneration(ctx, actor, { bookId: book.id, count: 600 });

    expect(sqs.sent).toHaveLength(1);
    const [request] = sqs.sent;
    expect(request!.url).toBe('/');
    expect(request!.headers['x-amz-target']).toBe('AmazonSQS.SendMessage');
    expect(request!.headers['x-amz-security-token']).toBe('tok');
    expect(request!.headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIATEST\/\d{8}\/us-east-1\/sqs\/aws4_request, /);
    expect(request!.body.QueueUrl).toBe(QUEUE_URL);
    expect(JSON.parse(request!.body.MessageBody)).toEqual({ type: 'generation', tenant: T, jobId });

    const worker = createJobWorker(ctx);
    // A tenth of a second left before the safety margin: the worker stops early and continues itself.
    const short = await worker({ Records: [{ messageId: 'm-1', body: request!.body.MessageBody }] }, { getRemainingTimeInMillis: () => SAFETY_MARGIN_MS + 100 });
    expect(short).toEqual({ batchItemFailures: [] });
    const midway = (await job(jobId)).json;
    expect(midway.status).toBe('running');
    expect(midway.generated).toBeLessThan(600);
    expect(sqs.sent).toHaveLength(2);
    expect(sqs.sent[1]!.body.MessageBody).toBe(request!.body.MessageBody);

    const long = await worker({ Records: [{ messageId: 'm-2', body: sqs.sent[1]!.body.MessageBody }] }, { getRemainingTimeInMillis: () => 15 * 60_000 });
    expect(long).toEqual({ batchItemFailures: [] });
    expect((await job(jobId)).json).toMatchObject({ status: 'succeeded', generated: 600 });
    expect(sqs.sent).toHaveLength(2); // done: no further continuation
    expect(await codesOf(book.id)).toHaveLength(600);

    // A message for a finished job (SQS delivers at least once) changes nothing.
    await worker({ Records: [{ messageId: 'm-3', body: request!.body.MessageBody }] }, { getRemainingTimeInMillis: () => 15 * 60_000 });
    expect(await codesOf(book.id)).toHaveLength(600);
    // A message no one can read is dropped, not retried forever.
    expect(await worker({ Records: [{ messageId: 'junk', body: 'not json' }] }, { getRemainingTimeInMillis: () => 60_000 })).toEqual({ batchItemFailures: [] });
    await expectInvariants(api);
  });

  it('when SQS refuses the message the request answers 503 and the job is marked failed, not left queued', async () => {
    const book = await createBook(api, { name: 'Unqueued', codePattern: 'UQ-******' });
    const sqs = await fakeSqs(500);
    const { ctx } = smallJobs();
    useJobDispatcher(ctx, sqsJobDispatcher(ctx, { queueUrl: QUEUE_URL, client: sqs.client }));
    const e = await enqueueGeneration(ctx, actor, { bookId: book.id, count: 50 }).catch((x) => x);
    expect(e.code).toBe('UNAVAILABLE');
    const jobs = (await api.scan()).filter((i) => i.__edb_e__ === 'job' && i.bookId === book.id);
    expect(jobs).toHaveLength(1);
    expect(jobs[0]).toMatchObject({ status: 'failed', error: 'the job could not be queued' });
    expect(jobs[0]!.gsi2pk).toBeUndefined();
  });
});
