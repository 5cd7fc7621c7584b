import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import type { CoreContext } from '../context.ts';
import { requireRole, type Actor } from '../actor.ts';
import { AppError, validationFailed } from '../errors.ts';
import { backoffMs, transact } from '../db/transact.ts';
import { isConditionalFailure } from '../db/aws-errors.ts';
import { RandomPicker, parsePattern, PatternError } from '../codes/pattern.ts';
import type { JobStatus } from '../entities/job.ts';
import { createSqsClient, sendSqsMessage, type LazySqsClient } from '../jobs/sqs.ts';
import { loadBook, type BookRecord } from './books.ts';
import { commitCodes } from './insert-codes.ts';
import { drawCodes, planGeneration, type GenerationPlan } from './generation.ts';

/** The most codes one job may make. */
export const MAX_JOB_CODES = 10_000_000;

export interface JobRef {
  tenant: string;
  jobId: string;
}

/** What GET /jobs/{jobId} answers. */
export interface JobView {
  id: string;
  bookId: string;
  status: JobStatus;
  /** Codes committed so far: exact, summed from the lanes. */
  generated: number;
  total: number;
  pattern: string;
  checkChar: boolean;
  createdAt: string;
  /** When a runner first took the job up; null while it is queued. */
  startedAt: string | null;
  finishedAt?: string;
  error?: string;
}

type JobRecord = Record<string, any> & {
  tenant: string;
  jobId: string;
  bookId: string;
  pattern: string;
  checkChar: boolean;
  total: number;
  lanes: number;
  chunkSize: number;
  status: JobStatus;
  queuedAt: string;
};

type LaneRecord = { tenant: string; jobId: string; lane: number; target: number; generated: number; chunks: number };

const iso = (ms: number) => new Date(ms).toISOString();
const isFinished = (status: JobStatus) => status === 'succeeded' || status === 'failed';

// ------------------------------------------------------------------------------------------
// Dispatch: where a queued job runs

/** Starts (or continues) a job somewhere: in this process, or through the SQS queue on AWS. */
export interface JobDispatcher {
  readonly kind: string;
  dispatch(ref: JobRef): Promise<void>;
}

const dispatchers = new WeakMap<CoreContext, JobDispatcher>();

/** The dispatcher of a context: SQS when QUEUE_URL is configured, in-process otherwise (or whatever `useJobDispatcher` set). */
export function jobDispatcher(ctx: CoreContext): JobDispatcher {
  let d = dispatchers.get(ctx);
  if (!d) {
    d = ctx.config.QUEUE_URL ? sqsJobDispatcher(ctx, { queueUrl: ctx.config.QUEUE_URL }) : inProcessJobDispatcher(ctx);
    dispatchers.set(ctx, d);
  }
  return d;
}

/** Replaces a context's dispatcher (tests; a process that wants its own). */
export function useJobDispatcher(ctx: CoreContext, dispatcher: JobDispatcher): void {
  dispatchers.set(ctx, dispatcher);
}

/** The message a job's queue carries. */
export interface JobMessage {
  type: 'generation';
  tenant: string;
  jobId: string;
}

export function sqsJobDispatcher(
  ctx: CoreContext,
  options: { queueUrl: string; client?: LazySqsClient },
): JobDispatcher {
  const client = options.client ?? createSqsClient({ region: ctx.config.AWS_REGION });
  return {
    kind: 'sqs',
    async dispatch(ref) {
      const message: JobMessage = { type: 'generation', tenant: ref.tenant, jobId: ref.jobId };
      await sendSqsMessage(client, options.queueUrl, JSON.stringify(message));
    },
  };
}

export interface InProcessDispatcher extends JobDispatcher {
  /** Resolves once every job this dispatcher started has stopped running here. */
  idle(): Promise<void>;
  /** Asks the running jobs to stop after their current chunk (they stay resumable). */
  stop(): Promise<void>;
}

/**
 * Runs jobs in this process (locally: `npm start`, tests). A job whose lease
 * another runner holds (a crashed process's, until it lapses) is retried
 * when the lease ends; an unexpected error is retried with backoff.
 */
export function inProcessJobDispatcher(
  ctx: CoreContext,
  options: { log?: (line: Record<string, unknown>) => void } = {},
): InProcessDispatcher {
  const running = new Map<string, Promise<void>>();
  const controller = new AbortController();
  const log = options.log ?? ((line) => console.error(JSON.stringify(line)));

  async function untilDone(ref: JobRef) {
    for (let attempt = 0; !controller.signal.aborted; attempt++) {
      try {
        const result = await runGenerationJob(ctx, ref, { signal: controller.signal });
        if (result.outcome !== 'busy') return;
        await sleep(Math.max(50, (result.leaseUntil ?? 0) - ctx.now() + 50));
      } catch (e) {
        log({ level: 'error', msg: 'generation job failed to run; retrying', jobId: ref.jobId, error: String((e as Error)?.message ?? e) });
        await sleep(Math.min(30_000, 200 * 2 ** Math.min(attempt, 8)));
      }
    }
  }

  return {
    kind: 'in-process',
    async dispatch(ref) {
      const key = `${ref.tenant}#${ref.jobId}`;
      if (running.has(key)) return;
      const run = untilDone(ref).finally(() => running.delete(key));
      running.set(key, run);
    },
    async idle() {
      while (running.size) await Promise.all([...running.values()]);
    },
    async stop() {
      controller.abort();
      await this.idle();
    },
  };
}

// ------------------------------------------------------------------------------------------
// Use cases

const laneTargets = (total: number, lanes: number) => Array.from({ length: lanes }, (_, i) => Math.floor(total / lanes) + (i < total % lanes ? 1 : 0));

/**
 * Queues a generation of `count` codes (up to 10,000,000) and starts it:
 * checks the pattern and the capacity now (400 at once, not a failed job
 * later), writes the job and its lanes in one transaction, then hands it to
 * the dispatcher. If the hand-off fails the job is marked failed and the
 * request answers 503, so nothing is left queued that nobody will run.
 */
export async function enqueueGeneration(
  ctx: CoreContext,
  actor: Actor,
  input: { bookId: string; count: number; pattern?: string; checkChar?: boolean },
): Promise<{ jobId: string }> {
  requireRole(actor, 'admin');
  const book = await loadBook(ctx, actor.tenant, input.bookId);
  if (!Number.isInteger(input.count) || input.count < 1 || input.count > MAX_JOB_CODES) {
    throw validationFailed([{ field: 'count', reason: `an integer from 1 to ${MAX_JOB_CODES}` }]);
  }
  const plan = await planGeneration(ctx, book, input);
  const jobId = randomUUID();
  const chunkSize = ctx.config.JOB_CHUNK_SIZE;
  const lanes = Math.max(1, Math.min(ctx.config.JOB_LANES, Math.ceil(input.count / chunkSize)));
  const queuedAt = iso(ctx.now());
  const ref = { tenant: actor.tenant, jobId };
  await transact(
    ctx.store,
    ({ job, jobLane }) => ({
      job: job
        .create({
          ...ref,
          kind: 'generation',
          bookId: book.bookId,
          pattern: plan.pattern,
          checkChar: plan.checkChar,
          total: input.count,
          lanes,
          chunkSize,
          status: 'queued',
          createdBy: actor.sub,
          queuedAt,
        })
        .commit(),
      ...Object.fromEntries(laneTargets(input.count, lanes).map((target, lane) => [`lane${lane}`, jobLane.create({ ...ref, lane, target }).commit()])),
    }),
    { onConditionFailed: () => new Error('job id collision') },
  );
  try {
    await jobDispatcher(ctx).dispatch(ref);
  } catch (e) {
    await ctx.store.job
      .patch(ref)
      .set({ status: 'failed', error: 'the job could not be queued', finishedAt: iso(ctx.now()), queuedAt })
      .go()
      .catch(() => undefined);
    throw new AppError('UNAVAILABLE', 'The job could not be queued; retry shortly.', { retryAfterSeconds: 2, cause: e });
  }
  return { jobId };
}

async function readJob(ctx: CoreContext, ref: JobRef): Promise<{ job: JobRecord; lanes: LaneRecord[] } | null> {
  const [{ data: job }, { data: lanes }] = await Promise.all([
    ctx.store.job.get(ref).go({ consistent: true }),
    ctx.store.jobLane.query.byJob(ref).go({ pages: 'all', consistent: true }),
  ]);
  return job ? { job: job as JobRecord, lanes: lanes as LaneRecord[] } : null;
}

function toJobView(job: JobRecord, lanes: LaneRecord[]): JobView {
  const view: JobView = {
    id: job.jobId,
    bookId: job.bookId,
    status: job.status,
    generated: lanes.reduce((n, l) => n + l.generated, 0),
    total: job.total,
    pattern: job.pattern,
    checkChar: job.checkChar,
    createdAt: job.queuedAt,
    startedAt: job.startedAt ?? null,
  };
  if (job.finishedAt) view.finishedAt = job.finishedAt;
  if (job.error) view.error = job.error;
  return view;
}

/** A job of the caller's tenant (admin only); another tenant's job answers as one that does not exist. */
export async function getJob(ctx: CoreContext, actor: Actor, jobId: string): Promise<JobView> {
  requireRole(actor, 'admin');
  const found = await readJob(ctx, { tenant: actor.tenant, jobId });
  if (!found) throw new AppError('JOB_NOT_FOUND', `No job ${jobId}.`);
  return toJobView(found.job, found.lanes);
}

/** Every job of every tenant that is queued or running: one Query of the sparse unfinished-jobs entry, no scan. */
export async function listUnfinishedJobs(ctx: CoreContext): Promise<JobRef[]> {
  const { data } = await ctx.store.job.query.unfinished({}).go({ pages: 'all' });
  return data.map((j) => ({ tenant: j.tenant, jobId: j.jobId }));
}

/** At start-up: hands every unfinished job to the dispatcher; each resumes from its lanes' last committed chunk. */
export async function resumeUnfinishedJobs(ctx: CoreContext, dispatcher: JobDispatcher = jobDispatcher(ctx)): Promise<JobRef[]> {
  const refs = await listUnfinishedJobs(ctx);
  for (const ref of refs) await dispatcher.dispatch(ref);
  return refs;
}

// ------------------------------------------------------------------------------------------
// The runner

export interface RunOptions {
  /** Identifies this runner in the job's lease; a fresh one per call by default. */
  runnerId?: string;
  /** Epoch ms after which no new chunk starts (a Lambda's remaining time); the job stays resumable. */
  deadline?: number;
  /** Aborting stops the job after the chunks in flight, leaving it resumable. */
  signal?: AbortSignal;
  /** Called after each committed chunk (progress display, tests). */
  onChunk?: (info: { lane: number; generated: number; chunks: number }) => void;
}

export type RunOutcome =
  /** Every lane reached its target: exactly `total` codes. */
  | 'succeeded'
  | 'failed'
  /** Stopped early (deadline, signal, lease lost); resumable. */
  | 'paused'
  /** Another runner holds the lease until `leaseUntil`. */
  | 'busy'
  | 'missing';

/** The job cannot succeed (book gone, pattern refused, space too crowded): it is marked failed. */
class JobFailure extends Error {}
/** A lane's progress is not what this runner read: another runner, or a commit whose answer was lost. */
class LaneMoved extends Error {}

function isRetryable(e: unknown) {
  return e instanceof AppError && e.code === 'UNAVAILABLE';
}

/**
 * Runs a generation job until it is done or told to stop, resuming wherever
 * its lanes are. Chunk by chunk, each lane commits fresh random codes, their
 * stats and its new progress in one transaction whose condition names the
 * progress it started from; codes that collide with existing ones are
 * redrawn, and the lane keeps drawing until it reaches its target. So a job
 * ends with exactly `total` codes whatever crashed, retried or raced on the
 * way.
 */
export async function runGenerationJob(ctx: CoreContext, ref: JobRef, options: RunOptions = {}): Promise<{ outcome: RunOutcome; leaseUntil?: number }> {
  const runnerId = options.runnerId ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  const leaseMs = ctx.config.JOB_LEASE_SECONDS * 1000;
  const found = await readJob(ctx, ref);
  if (!found) return { outcome: 'missing' };
  const { job } = found;
  if (isFinished(job.status)) return { outcome: job.status as RunOutcome };

  // Claim the lease: free, lapsed, or already ours.
  const claimedAt = ctx.now();
  try {
    await ctx.store.job
      .patch(ref)
      .set({ status: 'running', startedAt: job.startedAt ?? iso(claimedAt), leaseOwner: runnerId, leaseUntil: claimedAt + leaseMs, queuedAt: job.queuedAt })
      .add({ attempts: 1 })
      .where(
        (a, op) =>
          `(${op.eq(a.status, 'queued')} OR ${op.eq(a.status, 'running')}) AND ` +
          `(${op.notExists(a.leaseUntil)} OR ${op.lte(a.leaseUntil, claimedAt)} OR ${op.eq(a.leaseOwner, runnerId)})`,
      )
      .go();
  } catch (e) {
    if (!isConditionalFailure(e)) throw e;
    const again = await readJob(ctx, ref);
    if (!again) return { outcome: 'missing' };
    if (isFinished(again.job.status)) return { outcome: again.job.status as RunOutcome };
    return { outcome: 'busy', leaseUntil: again.job.leaseUntil };
  }

  let stopped: 'deadline' | 'signal' | 'lease lost' | null = null;
  const shouldStop = () => {
    if (!stopped && options.signal?.aborted) stopped = 'signal';
    if (!stopped && options.deadline !== undefined && Date.now() >= options.deadline) stopped = 'deadline';
    return stopped !== null;
  };
  const heartbeat = setInterval(() => {
    const now = ctx.now();
    ctx.store.job
      .patch(ref)
      .set({ leaseUntil: now + leaseMs })
      .where((a, op) => op.eq(a.leaseOwner, runnerId))
      .go()
      .catch((e) => {
        if (isConditionalFailure(e)) stopped = 'lease lost';
      });
  }, Math.max(200, leaseMs / 3));
  heartbeat.unref();

  try {
    let book: BookRecord;
    let plan: Pick<GenerationPlan, 'parsed' | 'checkChar'>;
    try {
      book = await loadBook(ctx, ref.tenant, job.bookId);
      plan = { parsed: parsePattern(job.pattern), checkChar: job.checkChar };
    } catch (e) {
      if (e instanceof AppError && e.code === 'BOOK_NOT_FOUND') throw new JobFailure('the book no longer exists');
      if (e instanceof PatternError) throw new JobFailure(`the pattern is not valid: ${e.message}`);
      throw e;
    }
    const { data: lanes } = await ctx.store.jobLane.query.byJob(ref).go({ pages: 'all', consistent: true });
    // The first lane that fails stops the others after their current chunk; then its error counts.
    let laneError: unknown;
    const finished = await Promise.all(
      (lanes as LaneRecord[])
        .filter((l) => l.generated < l.target)
        .map((lane) =>
          runLane(ctx, job, book, plan, lane, () => laneError !== undefined || shouldStop(), options).catch((e) => {
            laneError ??= e;
            return false;
          }),
        ),
    );
    if (laneError !== undefined) throw laneError;
    // Every lane at its target: done, even if a stop was asked for meanwhile.
    if (!finished.every(Boolean)) {
      if (stopped !== 'lease lost') await releaseLease(ctx, ref, runnerId);
      return { outcome: 'paused' };
    }
    await finish(ctx, job, { status: 'succeeded' });
    return { outcome: 'succeeded' };
  } catch (e) {
    if (e instanceof JobFailure) {
      await finish(ctx, job, { status: 'failed', error: e.message });
      return { outcome: 'failed' };
    }
    await releaseLease(ctx, ref, runnerId).catch(() => undefined);
    throw e;
  } finally {
    clearInterval(heartbeat);
  }
}

async function releaseLease(ctx: CoreContext, ref: JobRef, runnerId: string) {
  await ctx.store.job
    .patch(ref)
    .remove(['leaseOwner', 'leaseUntil'])
    .where((a, op) => op.eq(a.leaseOwner, runnerId))
    .go()
    .catch((e) => {
      if (!isConditionalFailure(e)) throw e;
    });
}

/** Marks the job finished; the write also drops its unfinished-jobs entry. A second runner finishing too is harmless. */
async function finish(ctx: CoreContext, job: JobRecord, outcome: { status: 'succeeded' | 'failed'; error?: string }) {
  await ctx.store.job
    .patch({ tenant: job.tenant, jobId: job.jobId })
    .set({ status: outcome.status, finishedAt: iso(ctx.now()), queuedAt: job.queuedAt, ...(outcome.error ? { error: outcome.error } : {}) })
    .remove(['leaseOwner', 'leaseUntil'])
    .where((a, op) => `${op.eq(a.status, 'queued')} OR ${op.eq(a.status, 'running')}`)
    .go()
    .catch((e) => {
      if (!isConditionalFailure(e)) throw e;
    });
}

/** Consecutive chunks in which most draws collided before a lane gives up on a pattern. */
const CROWDED_ROUNDS = 20;

async function runLane(
  ctx: CoreContext,
  job: JobRecord,
  book: BookRecord,
  plan: Pick<GenerationPlan, 'parsed' | 'checkChar'>,
  lane: LaneRecord,
  shouldStop: () => boolean,
  options: RunOptions,
): Promise<boolean> {
  const picker = new RandomPicker();
  const shards = book.poolShards;
  // Lanes start spread over the shards and each steps one shard per chunk, so the pool
  // shards fill evenly; `chunks` is committed with the progress, so a resumed lane continues
  // the rotation where it stopped.
  const offset = Math.floor((lane.lane * shards) / job.lanes);
  let { generated, chunks } = lane;
  let crowded = 0;
  let attempt = 0;
  while (generated < lane.target) {
    if (shouldStop()) return false;
    const n = Math.min(job.chunkSize, lane.target - generated);
    const shard = (offset + chunks) % shards;
    let codes = drawCodes(plan, n, picker);
    for (;;) {
      const before = { generated, chunks };
      try {
        const refused = await commitCodes(
          ctx.store,
          book,
          codes.map((code) => ({ code, shard })),
          iso(ctx.now()),
          {
            build: ({ jobLane }) =>
              jobLane
                .patch({ tenant: job.tenant, jobId: job.jobId, lane: lane.lane })
                .set({ generated: before.generated + n, chunks: before.chunks + 1 })
                .where((a: any, op: any) => `${op.eq(a.generated, before.generated)} AND ${op.eq(a.chunks, before.chunks)}`)
                .commit(),
            onFailed: () => new LaneMoved(),
          },
        );
        attempt = 0;
        if (!refused.size) {
          generated += n;
          chunks += 1;
          crowded = 0;
          options.onChunk?.({ lane: lane.lane, generated, chunks });
          break;
        }
        // Some draws exist already (this book or another of the tenant): redraw just those.
        crowded = refused.size * 2 > n ? crowded + 1 : 0;
        if (crowded >= CROWDED_ROUNDS) throw new JobFailure('the pattern is too crowded to make more codes; use a longer pattern');
        const keep = new Set(codes.filter((_, i) => !refused.has(i)));
        const fresh = drawCodes(plan, refused.size, picker, keep);
        let k = 0;
        codes = codes.map((c, i) => (refused.has(i) ? fresh[k++]! : c));
      } catch (e) {
        if (e instanceof LaneMoved) {
          const { data } = await ctx.store.jobLane.get({ tenant: job.tenant, jobId: job.jobId, lane: lane.lane }).go({ consistent: true });
          if (!data) throw new JobFailure('the job lost a lane');
          generated = data.generated;
          chunks = data.chunks;
          break;
        }
        if (isRetryable(e)) {
          // Throttled or unreachable: wait and try the same chunk again. If it had in fact
          // committed, the lane's condition fails and the progress is re-read instead.
          await sleep(backoffMs(Math.min(attempt++, 6), 100, 5000));
          if (shouldStop()) return false;
          continue;
        }
        throw e;
      }
    }
  }
  return true;
}

/**
 * What the queue's subscriber does with one message: run the job until it is
 * done or the invocation's time is nearly up, then queue a continuation. A
 * job whose lease another runner holds is left to it (if that runner dies,
 * its own message comes back after the visibility timeout).
 */
export async function processJobMessage(
  ctx: CoreContext,
  message: unknown,
  options: { deadline: number; runnerId?: string },
): Promise<RunOutcome> {
  const m = message as Partial<JobMessage>;
  if (m?.type !== 'generation' || typeof m.tenant !== 'string' || typeof m.jobId !== 'string') return 'missing';
  const ref = { tenant: m.tenant, jobId: m.jobId };
  const { outcome } = await runGenerationJob(ctx, ref, { deadline: options.deadline, runnerId: options.runnerId });
  if (outcome === 'paused') await jobDispatcher(ctx).dispatch(ref);
  return outcome;
}
