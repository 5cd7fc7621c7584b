import { randomUUID } from 'node:crypto';
import type { CoreContext } from '../context.ts';
import { requireRole, type Actor } from '../actor.ts';
import { AppError } from '../errors.ts';
import { jobDispatcher, type JobDispatcher, type QueuedJob } from './dispatch.ts';
import { iso, type ErasureJobView, type GenerationJobView, type JobRecord, type JobView, type LaneRecord } from './model.ts';
import { recordJob } from './record-job.ts';
import type { ScanLane } from './scan-lanes.ts';
import type { JobKindName } from '../entities/job.ts';
import { readJob } from './read-job.ts';

// Queue a job, read its progress, find the unfinished ones.

const laneTargets = (total: number, lanes: number) => Array.from({ length: lanes }, (_, i) => Math.floor(total / lanes) + (i < total % lanes ? 1 : 0));

/** How a job's work is cut into lanes: shares of a total (generation), or given targets (a scan: one lane per segment, target 1). */
export type JobLanes = { total: number } | { laneTargets: number[]; chunkSize: number };

/**
 * Queues a job and starts it: writes the job and its lanes (each a share of
 * the work, with exact progress) in one transaction, then hands it to the
 * dispatcher. If the hand-off fails the job is marked failed and the request
 * answers 503, so nothing is left queued that nobody will run.
 */
export async function queueJob(
  ctx: CoreContext,
  actor: Actor,
  input: { kind: JobKindName; attributes: Record<string, unknown>; /** Removed if the job cannot be queued, as by its finish. */ transient?: readonly string[] } & JobLanes,
): Promise<{ jobId: string }> {
  const jobId = randomUUID();
  const ref = { tenant: actor.tenant, jobId };
  let targets: number[];
  let chunkSize: number;
  if ('total' in input) {
    chunkSize = ctx.config.JOB_CHUNK_SIZE;
    targets = laneTargets(input.total, Math.max(1, Math.min(ctx.config.JOB_LANES, Math.ceil(input.total / chunkSize))));
  } else {
    ({ laneTargets: targets, chunkSize } = input);
  }
  const queuedAt = iso(ctx.now());
  const recorded = await recordJob(ctx, { ...ref, kind: input.kind, laneTargets: targets, chunkSize, createdBy: actor.sub, attributes: input.attributes, queuedAt });
  if (!recorded) throw new Error('job id collision');
  try {
    await jobDispatcher(ctx).dispatch({ ...ref, kind: input.kind });
  } catch (e) {
    await ctx.store.job
      .patch(ref)
      .set({ status: 'failed', error: 'the job could not be queued', finishedAt: iso(ctx.now()), queuedAt })
      .remove([...(input.transient ?? [])] as any)
      .go()
      .catch(() => undefined);
    throw new AppError('UNAVAILABLE', 'The job could not be queued; retry shortly.', { retryAfterSeconds: 2, cause: e });
  }
  return { jobId };
}

function generationView(job: JobRecord, lanes: LaneRecord[]): GenerationJobView {
  const view: GenerationJobView = {
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

function erasureView(job: JobRecord, lanes: ScanLane[]): ErasureJobView {
  const view: ErasureJobView = {
    id: job.jobId,
    kind: 'erasure',
    status: job.status,
    pseudonym: job.pseudonym,
    lanes: lanes.length,
    lanesDone: lanes.filter((l) => l.generated >= l.target).length,
    scanned: lanes.reduce((n, l) => n + (l.scanned ?? 0), 0),
    erased: lanes.reduce((n, l) => n + (l.changed ?? 0), 0),
    createdAt: job.queuedAt,
    startedAt: job.startedAt ?? null,
  };
  if (job.finishedAt) view.finishedAt = job.finishedAt;
  if (job.error) view.error = job.error;
  return view;
}

function toJobView(job: JobRecord, lanes: LaneRecord[]): JobView | undefined {
  if (job.kind === 'generation') return generationView(job, lanes);
  if (job.kind === 'erasure') return erasureView(job, lanes);
  return undefined; // a migration's job belongs to the table, not a tenant (it is never under a tenant a token names)
}

/** A job of the caller's tenant (admin only); another tenant's job answers as one that does not exist. */
export async function getJob(ctx: CoreContext, actor: Actor, jobId: string): Promise<JobView> {
  requireRole(actor, 'admin');
  const found = await readJob(ctx, { tenant: actor.tenant, jobId });
  const view = found && toJobView(found.job, found.lanes);
  if (!view) throw new AppError('JOB_NOT_FOUND', `No job ${jobId}.`);
  return view;
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
