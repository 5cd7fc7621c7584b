import { and, eq, lte, notExists, or } from '../db/condition.ts';
import { Refused, transition } from '../db/transition.ts';
import { UNFINISHED_JOB } from '../entities/job.ts';
import type { JobRecord } from './model.ts';

/**
 * A job's lease and end as transitions (db/transition.ts). The lease keeps
 * two runners from working one job at once, as an efficiency measure only;
 * a refusal is read from the job as the failed write found it, at no read.
 */

/** A runner takes the lease of an unfinished job: free, lapsed, or already its own. Refused: the job is missing, finished, or busy. */
export const takeLease = transition({
  refusals: ['missing', 'succeeded', 'failed', 'busy'],
  condition: ({ runnerId, now }: { runnerId: string; now: number }) =>
    and(UNFINISHED_JOB, or(notExists('leaseUntil'), lte('leaseUntil', now), eq('leaseOwner', runnerId))),
  refusal: (job: JobRecord | null, { now }) => {
    if (!job) return new Refused('missing', 'no such job', job);
    if (job.status === 'succeeded' || job.status === 'failed') return new Refused(job.status, `the job has ${job.status}`, job);
    return new Refused('busy', `runner ${job.leaseOwner} holds the lease for ${(job.leaseUntil ?? now) - now} ms more`, job);
  },
});

/** The heartbeat and the release: only while the runner still holds the lease. */
export const keepLease = transition({
  refusals: ['lost'],
  condition: ({ runnerId }: { runnerId: string }) => eq('leaseOwner', runnerId),
  refusal: (job: JobRecord | null) => new Refused('lost', job ? `the lease is ${job.leaseOwner ?? 'free'}'s now` : 'the job is gone', job),
});

/** The job is marked succeeded or failed once; a second runner finishing it too is refused, harmlessly. */
export const finishJob = transition({
  refusals: ['finished', 'missing'],
  condition: () => UNFINISHED_JOB,
  refusal: (job: JobRecord | null) => (job ? new Refused('finished', `the job has ${job.status}`, job) : new Refused('missing', 'no such job', job)),
});
