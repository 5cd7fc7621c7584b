import { setTimeout as sleep } from 'node:timers/promises';
import type { CoreContext } from '../context.ts';
import { requireRole, type Actor } from '../actor.ts';
import { AppError, validationFailed } from '../errors.ts';
import { backoffMs } from '../db/transact.ts';
import { RandomPicker, parsePattern, PatternError } from '../code-format/pattern.ts';
import { loadBook } from '../book/load-book.ts';
import type { BookRecord } from '../book/book.ts';
import { commitCodes } from './insert-codes.ts';
import { drawCodes, planGeneration, type GenerationPlan } from './generation.ts';
import { queueJob } from '../jobs/jobs.ts';
import { runJob } from '../jobs/run-job.ts';
import { iso, JobFailure, type JobKind, type JobRecord, type JobRef, type LaneRecord, type RunOptions, type RunResult } from '../jobs/model.ts';
import { advanceLane } from '../jobs/lane.ts';
import { asUpdate, refusedBy } from '../db/transition.ts';

/** The most codes one job may make. */
export const MAX_JOB_CODES = 10_000_000;

/**
 * Queues a generation of `count` codes (up to 10,000,000) and starts it:
 * checks the pattern and the capacity now (400 at once, not a failed job
 * later), then queues the job with its lanes (jobs/jobs.ts).
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
  return queueJob(ctx, actor, {
    kind: 'generation',
    total: input.count,
    attributes: { bookId: book.bookId, pattern: plan.pattern, checkChar: plan.checkChar },
  });
}

function isRetryable(e: unknown) {
  return e instanceof AppError && e.code === 'UNAVAILABLE';
}

/**
 * A generation job's work: chunk by chunk, each lane commits fresh random
 * codes, their stats and its new progress in one transaction whose
 * condition names the progress it started from; codes that collide with
 * existing ones are redrawn, and the lane keeps drawing until it reaches its
 * target. So a job ends with exactly `total` codes whatever crashed, retried
 * or raced on the way.
 */
export const generationJob: JobKind = {
  async work(ctx, job, { shouldStop, options }) {
    let book: BookRecord;
    let plan: Pick<GenerationPlan, 'parsed' | 'checkChar'>;
    try {
      book = await loadBook(ctx, job.tenant, job.bookId);
      plan = { parsed: parsePattern(job.pattern), checkChar: job.checkChar };
    } catch (e) {
      if (e instanceof AppError && e.code === 'BOOK_NOT_FOUND') throw new JobFailure('the book no longer exists');
      if (e instanceof PatternError) throw new JobFailure(`the pattern is not valid: ${e.message}`);
      throw e;
    }
    const { data: lanes } = await ctx.store.jobLane.query.byJob({ tenant: job.tenant, jobId: job.jobId }).go({ pages: 'all', consistent: true });
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
    return finished.every(Boolean);
  },
};

/** Runs a generation job until it is done or told to stop, resuming wherever its lanes are. */
export const runGenerationJob = (ctx: CoreContext, ref: JobRef, options: RunOptions = {}): Promise<RunResult> =>
  runJob(ctx, ref, { generation: generationJob }, options);

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
              asUpdate(
                jobLane.patch({ tenant: job.tenant, jobId: job.jobId, lane: lane.lane }),
                { set: { generated: before.generated + n, chunks: before.chunks + 1 } },
                advanceLane.condition(before),
              ).commit({ response: 'all_old' }),
            onFailed: (item) => advanceLane.refusal(item as LaneRecord | null, before),
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
        // Another runner moved the lane, or a commit whose answer was lost: carry on from where it is.
        const moved = refusedBy(advanceLane, e);
        if (moved?.code === 'missing') throw new JobFailure('the job lost a lane');
        if (moved) {
          generated = moved.item!.generated;
          chunks = moved.item!.chunks;
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
