import { randomUUID } from 'node:crypto';
import type { CoreContext } from '../context.ts';
import { requireRole, type Actor } from '../actor.ts';
import { AppError, validationFailed } from '../errors.ts';
import { transact } from '../db/transact.ts';
import { loadBook } from '../book/load-book.ts';
import { planGeneration } from '../stock/generation.ts';
import { jobDispatcher, type JobDispatcher } from './dispatch.ts';
import { iso, MAX_JOB_CODES, type JobRecord, type JobRef, type JobView, type LaneRecord } from './model.ts';

// Use cases: queue a job, read its progress, find the unfinished ones.

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

export async function readJob(ctx: CoreContext, ref: JobRef): Promise<{ job: JobRecord; lanes: LaneRecord[] } | null> {
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
