import type { CoreContext } from '../context.ts';
import { transact } from '../db/transact.ts';
import type { JOB_KIND_NAMES } from '../entities/job.ts';
import { iso } from './model.ts';

/**
 * Writes a job and its lanes (one per target, each with exact progress of its
 * own) in one transaction, without dispatching it: for a caller that runs the
 * job itself with `runJob`, as the migration runner does. Answers false when a
 * job with this id exists already, so racing callers agree on one job.
 */
export async function recordJob(
  ctx: CoreContext,
  input: {
    tenant: string;
    jobId: string;
    kind: (typeof JOB_KIND_NAMES)[number];
    laneTargets: number[];
    chunkSize: number;
    createdBy: string;
    attributes: Record<string, unknown>;
    /** ISO time; now unless given. */
    queuedAt?: string;
  },
): Promise<boolean> {
  const ref = { tenant: input.tenant, jobId: input.jobId };
  let exists = false;
  await transact(
    ctx.store,
    ({ job, jobLane }) => ({
      job: job
        .create({
          ...ref,
          ...(input.attributes as any),
          kind: input.kind,
          total: input.laneTargets.reduce((a, b) => a + b, 0),
          lanes: input.laneTargets.length,
          chunkSize: input.chunkSize,
          status: 'queued',
          createdBy: input.createdBy,
          queuedAt: input.queuedAt ?? iso(ctx.now()),
        })
        .commit(),
      ...Object.fromEntries(input.laneTargets.map((target, lane) => [`lane${lane}`, jobLane.create({ ...ref, lane, target }).commit()])),
    }),
    {
      onConditionFailed: () => {
        exists = true;
        return new Error('job exists');
      },
    },
  ).catch((e) => {
    if (!exists) throw e;
  });
  return !exists;
}
