import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { CoreContext } from '../context.ts';
import { conditionalWrite } from '../db/conditional-write.ts';
import { where } from '../db/condition.ts';
import { asUpdate, passRefusalsOf, refusedBy } from '../db/transition.ts';
import { readJob } from './read-job.ts';
import { finishJob, keepLease, takeLease } from './lease.ts';
import { isFinished, iso, JobFailure, type JobKinds, type JobRecord, type JobRef, type RunOptions, type RunOutcome, type RunResult } from './model.ts';


/**
 * Runs a job of any kind until it is done or told to stop. The runner first
 * takes the job's lease (free, lapsed, or already its own) and keeps it with
 * a heartbeat; the lease keeps two runners from working one job at once, as
 * an efficiency measure only: a kind's exactness comes from its own
 * conditional progress (lanes). A kind that finishes marks the job
 * succeeded; one that stops early leaves it resumable.
 */
export async function runJob(ctx: CoreContext, ref: JobRef, kinds: JobKinds, options: RunOptions = {}): Promise<RunResult> {
  const runnerId = options.runnerId ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  const leaseMs = ctx.config.JOB_LEASE_SECONDS * 1000;
  const found = await readJob(ctx, ref);
  if (!found) return { outcome: 'missing' };
  const { job } = found;
  if (isFinished(job.status)) return { outcome: job.status as RunOutcome };
  const kind = kinds[job.kind];
  if (!kind) throw new Error(`no runner for jobs of kind ${job.kind}`);

  // Take the lease: free, lapsed, or already ours. A refusal says why, from the job as it was.
  const lease = { runnerId, now: ctx.now() };
  const change = {
    set: { status: 'running', startedAt: job.startedAt ?? iso(lease.now), leaseOwner: runnerId, leaseUntil: lease.now + leaseMs, queuedAt: job.queuedAt },
    add: { attempts: 1 },
  };
  try {
    await conditionalWrite(ctx.store, (s) => asUpdate(s.job.patch(ref), change, takeLease.condition(lease)), (item) => takeLease.refusal(item as JobRecord | null, lease));
  } catch (e) {
    const refused = refusedBy(takeLease, e);
    if (!refused) throw e;
    return refused.code === 'busy' ? { outcome: 'busy', leaseUntil: refused.item?.leaseUntil } : { outcome: refused.code };
  }

  let stopped: 'deadline' | 'signal' | 'lease lost' | null = null;
  const shouldStop = () => {
    if (!stopped && options.signal?.aborted) stopped = 'signal';
    if (!stopped && options.deadline !== undefined && Date.now() >= options.deadline) stopped = 'deadline';
    return stopped !== null;
  };
  const heartbeat = setInterval(() => {
    const now = ctx.now();
    conditionalWrite(
      ctx.store,
      (s) => asUpdate(s.job.patch(ref), { set: { leaseUntil: now + leaseMs } }, keepLease.condition({ runnerId })),
      (item) => keepLease.refusal(item as JobRecord | null, { runnerId }),
    ).catch((e) => {
      if (refusedBy(keepLease, e)) stopped = 'lease lost'; // else a missed beat: the next one renews the lease
    });
  }, Math.max(200, leaseMs / 3));
  heartbeat.unref();

  try {
    const done = await kind.work(ctx, job, { shouldStop, options });
    if (!done) {
      if (stopped !== 'lease lost') await releaseLease(ctx, ref, runnerId);
      return { outcome: 'paused' };
    }
    await finish(ctx, job, { status: 'succeeded' }, kind.transient);
    return { outcome: 'succeeded' };
  } catch (e) {
    if (e instanceof JobFailure) {
      await finish(ctx, job, { status: 'failed', error: e.message }, kind.transient);
      return { outcome: 'failed' };
    }
    await releaseLease(ctx, ref, runnerId).catch(() => undefined);
    throw e;
  } finally {
    clearInterval(heartbeat);
  }
}

async function releaseLease(ctx: CoreContext, ref: JobRef, runnerId: string) {
  await conditionalWrite(
    ctx.store,
    (s) => s.job.patch(ref).remove(['leaseOwner', 'leaseUntil']).where(where(keepLease.condition({ runnerId }))),
    (item) => keepLease.refusal(item as JobRecord | null, { runnerId }),
  ).catch(passRefusalsOf(keepLease));
}

/**
 * Marks the job finished; the write also drops its unfinished-jobs entry and what the kind holds
 * only while it runs. A second runner finishing too is harmless.
 */
async function finish(ctx: CoreContext, job: JobRecord, outcome: { status: 'succeeded' | 'failed'; error?: string }, transient: readonly string[] = []) {
  const change = {
    set: { status: outcome.status, finishedAt: iso(ctx.now()), queuedAt: job.queuedAt, ...(outcome.error ? { error: outcome.error } : {}) },
    remove: ['leaseOwner', 'leaseUntil', ...transient],
  };
  await conditionalWrite(
    ctx.store,
    (s) => asUpdate(s.job.patch({ tenant: job.tenant, jobId: job.jobId }), change, finishJob.condition(undefined)),
    (item) => finishJob.refusal(item as JobRecord | null, undefined),
  ).catch(passRefusalsOf(finishJob)); // a second runner finishing too is harmless
}
