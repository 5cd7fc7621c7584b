import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { CoreContext } from '../context.ts';
import { isConditionalFailure } from '../db/aws-errors.ts';
import { readJob } from './read-job.ts';
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
    const done = await kind.work(ctx, job, { shouldStop, options });
    if (!done) {
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
