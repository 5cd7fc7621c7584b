import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { holds, where, type Cond } from '../db/condition.ts';
import { checkTransition, itemOrNone, maybe, offlineStore as store } from '../db/transition.test-support.ts';
import { JOB_STATUSES, UNFINISHED_JOB } from '../entities/job.ts';
import { finishJob, keepLease, takeLease } from './lease.ts';
import { advanceLane, advanceScan } from './lane.ts';

// A job's lease, end and lane progress, held to the requests run-job.ts and the generation
// kind send: the expression ElectroDB renders, the condition as data and allows agree on
// generated jobs, and every refusal is declared.

const NOW = 1_800_000_000_000;
const REF = { tenant: 't1', jobId: 'j1' };
const job = itemOrNone({
  status: maybe(fc.constantFrom(...JOB_STATUSES)),
  leaseOwner: maybe(fc.constantFrom('r1', 'r2')),
  leaseUntil: maybe(fc.constantFrom(NOW - 1, NOW, NOW + 1)),
});
const runner = fc.record({ runnerId: fc.constantFrom('r1', 'r2'), now: fc.constant(NOW) });
const onJob = (cond: Cond) =>
  store.job.patch(REF).set({ status: 'running', leaseOwner: 'r1', leaseUntil: NOW + 1, queuedAt: 'q' }).add({ attempts: 1 }).where(where(cond)).params();

describe('jobs: the condition sent, the condition as data and allows agree; refusals are declared', () => {
  it('taking the lease: an unfinished job whose lease is free, lapsed or the runner’s', () => checkTransition(takeLease, job, runner, onJob));
  it('the heartbeat and the release: only while the runner holds the lease', () => {
    checkTransition(keepLease, job, runner, onJob);
    checkTransition(keepLease, job, runner, (cond) => store.job.patch(REF).remove(['leaseOwner', 'leaseUntil']).where(where(cond)).params());
  });
  it('finishing: once, from queued or running', () => checkTransition(finishJob, job, fc.constant(undefined), onJob));
  it('a lane moves on from exactly the progress read', () =>
    checkTransition(
      advanceLane,
      itemOrNone({ generated: maybe(fc.constantFrom(0, 98)), chunks: maybe(fc.constantFrom(0, 1)) }),
      fc.record({ generated: fc.constantFrom(0, 98), chunks: fc.constantFrom(0, 1) }),
      (cond) => store.jobLane.patch({ ...REF, lane: 0 }).set({ generated: 196, chunks: 2 }).where(where(cond)).params(),
    ));
  it("a scan lane moves on from the page its runner read", () =>
    checkTransition(advanceScan, itemOrNone({ chunks: maybe(fc.integer({ min: 0, max: 2 })) }), fc.record({ chunks: fc.integer({ min: 0, max: 2 }) }), (cond) =>
      store.jobLane.patch({ ...REF, lane: 0 }).set({ chunks: 3 }).where(where(cond)).params(),
    ));
});

describe('the unfinished-jobs index follows the same data', () => {
  it.each(JOB_STATUSES)('a job set %s is in it exactly when it is unfinished', (status) => {
    const sent = store.job.patch(REF).set({ status, queuedAt: 'q' }).params() as { UpdateExpression: string };
    expect(sent.UpdateExpression.includes('#gsi2sk = '), 'the entry is written, not removed').toBe(holds(UNFINISHED_JOB, { status }));
    expect(holds(UNFINISHED_JOB, { status })).toBe(status === 'queued' || status === 'running');
  });
});
