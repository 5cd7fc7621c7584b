import type { CoreContext } from '../context.ts';
import { jobDispatcher } from './dispatch.ts';
import { runJob } from './run-job.ts';
import type { JobKinds, JobMessage, RunOutcome } from './model.ts';

/**
 * What the queue's subscriber does with one message: run the job until it is
 * done or the invocation's time is nearly up, then queue a continuation. A
 * job whose lease another runner holds is left to it (if that runner dies,
 * its own message comes back after the visibility timeout).
 */
export async function processJobMessage(
  ctx: CoreContext,
  message: unknown,
  options: { deadline: number; kinds: JobKinds; runnerId?: string },
): Promise<RunOutcome> {
  const m = message as Partial<JobMessage>;
  if (typeof m?.type !== 'string' || typeof m.tenant !== 'string' || typeof m.jobId !== 'string') return 'missing';
  const ref = { tenant: m.tenant, jobId: m.jobId };
  const { outcome } = await runJob(ctx, ref, options.kinds, { deadline: options.deadline, runnerId: options.runnerId });
  if (outcome === 'paused') await jobDispatcher(ctx).dispatch({ ...ref, kind: m.type });
  return outcome;
}
