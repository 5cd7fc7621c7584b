import { randomUUID } from 'node:crypto';
import type { CoreContext } from '../context.ts';
import { requireRole, type Actor } from '../actor.ts';
import { AppError } from '../errors.ts';
import { transact } from '../db/transact.ts';
import { jobDispatcher, type JobDispatcher, type QueuedJob } from './dispatch.ts';
import { iso, type JobRecord, type JobView, type LaneRecord } from './model.ts';
import { readJob } from './read-job.ts';

// Queue a job, read its progress, find the unfinished ones.

const laneTargets = (total: number, lanes: number) => Array.from({ length: lanes }, (_, i) => Math.floor(total / lanes) + (i < total % lanes ? 1 : 0));

/**
 * Queues a job of `total` units of work and starts it: writes the job and
 * its lanes (each a share of `total`, with exact progress) in one
 * transaction, then hands it to the dispatcher. If the hand-off fails the
 * job is marked failed and the request answers 503, so nothing is left
 * queued that nobody will run.
 */
export async function queueJob(
  ctx: CoreContext,
  actor: Actor,
  input: { kind: 'generation'; total: number; attributes: Record<string, unknown> },
): Promise<{ jobId: string }> {
  const jobId = randomUUID();
  const chunkSize = ctx.config.JOB_CHUNK_SIZE;
  const lanes = Math.max(1, Math.min(ctx.config.JOB_LANES, Math.ceil(input.total / chunkSize)));
  const queuedAt = iso(ctx.now());
  const ref = { tenant: actor.tenant, jobId };
  await transact(
    ctx.store,
    ({ job, jobLane }) => ({
      job: job
        .create({ ...ref, ...(input.attributes as any), kind: input.kind, total: input.total, lanes, chunkSize, status: 'queued', createdBy: actor.sub, queuedAt })
        .commit(),
      ...Object.fromEntries(laneTargets(input.total, lanes).map((target, lane) => [`lane${lane}`, jobLane.create({ ...ref, lane, target }).commit()])),
    }),
    { onConditionFailed: () => new Error('job id collision') },
  );
  try {
    await jobDispatcher(ctx).dispatch({ ...ref, kind: input.kind });
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
export async function listUnfinishedJobs(ctx: CoreContext): Promise<QueuedJob[]> {
  const { data } = await ctx.store.job.query.unfinished({}).go({ pages: 'all' });
  return data.map((j) => ({ tenant: j.tenant, jobId: j.jobId, kind: j.kind }));
}

/** At start-up: hands every unfinished job to the dispatcher; each resumes from its lanes' last committed chunk. */
export async function resumeUnfinishedJobs(ctx: CoreContext, dispatcher: JobDispatcher = jobDispatcher(ctx)): Promise<QueuedJob[]> {
  const refs = await listUnfinishedJobs(ctx);
  for (const ref of refs) await dispatcher.dispatch(ref);
  return refs;
}
