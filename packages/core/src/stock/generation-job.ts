import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import type { CoreContext } from '../context.ts';
import { AppError } from '../errors.ts';
import { backoffMs } from '../db/transact.ts';
import { isConditionalFailure } from '../db/aws-errors.ts';
import { RandomPicker, parsePattern, PatternError } from '../code-format/pattern.ts';
import { loadBook } from '../book/load-book.ts';
import type { BookRecord } from '../book/book.ts';
import { commitCodes } from './insert-codes.ts';
import { drawCodes, type GenerationPlan } from './generation.ts';
import { jobDispatcher, type JobMessage } from '../jobs/dispatch.ts';
import { readJob } from '../jobs/jobs.ts';
import { isFinished, iso, type JobRecord, type JobRef, type LaneRecord } from '../jobs/model.ts';

// The runner: runs a job's lanes to their targets, exactly, resumably.

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
