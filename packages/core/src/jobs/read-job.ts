import type { CoreContext } from '../context.ts';
import type { JobRecord, JobRef, LaneRecord } from './model.ts';

/** A job and its lanes, read consistently; null when there is no such job. */
export async function readJob(ctx: CoreContext, ref: JobRef): Promise<{ job: JobRecord; lanes: LaneRecord[] } | null> {
  const [{ data: job }, { data: lanes }] = await Promise.all([
    ctx.store.job.get(ref).go({ consistent: true }),
    ctx.store.jobLane.query.byJob(ref).go({ pages: 'all', consistent: true }),
  ]);
  return job ? { job: job as JobRecord, lanes: lanes as LaneRecord[] } : null;
}
