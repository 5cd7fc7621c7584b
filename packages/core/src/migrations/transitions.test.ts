import { describe, it } from 'vitest';
import fc from 'fast-check';
import { where, type Cond } from '../db/condition.ts';
import { checkTransition, itemOrNone, maybe, offlineStore as store } from '../db/transition.test-support.ts';
import { createOnce, finishPendingCopy, nameJob, recordComplete } from './transitions.ts';

// The migrations' conditional writes, held to the requests they send: the expression ElectroDB
// renders, the condition as data and allows agree on generated items, and every refusal is declared.

const STATE = { migration: '001-x' };
const RECORD = { tenant: 't1', scope: 's1' };
const jobId = fc.constantFrom('job-a', 'job-b');
const state = itemOrNone({ prepareJobId: maybe(jobId), finishJobId: maybe(jobId), completedAt: maybe(fc.constant('2026-12-04T00:00:00.000Z')) });

describe('migrations: the condition sent, the condition as data and allows agree; refusals are declared', () => {
  it('an item of today is made once', () =>
    checkTransition(createOnce, itemOrNone({ code: fc.constant('C1') }), fc.constant(undefined), () =>
      store.redemptionLookup.create({ tenant: 't1', redemptionId: 'r1', code: 'C1' }).params(),
    ));
  it("a pending copy of an old idempotency record is finished while it is that request's", () =>
    checkTransition(
      finishPendingCopy,
      itemOrNone({ state: maybe(fc.constantFrom('pending', 'done')), createdAt: maybe(fc.constantFrom('c1', 'c2')), requestHash: maybe(fc.constantFrom('h1', 'h2')) }),
      fc.record({ createdAt: fc.constantFrom('c1', 'c2'), requestHash: fc.constantFrom('h1', 'h2') }),
      (cond: Cond) => store.idempotencyRecord.patch(RECORD).set({ state: 'done', status: 200 }).where(where(cond)).params(),
    ));
  it("a phase's job is named once", () =>
    checkTransition(nameJob, state, fc.record({ field: fc.constantFrom('prepareJobId' as const, 'finishJobId' as const), named: maybe(jobId) }), (cond: Cond, input) =>
      store.migrationState.update(STATE).set({ [input.field]: 'job-c' }).where(where(cond)).params(),
    ));
  it('a migration is recorded complete once', () =>
    checkTransition(recordComplete, state, fc.record({ finishJobId: maybe(jobId) }), (cond: Cond) =>
      store.migrationState.update(STATE).set({ completedAt: 'now', scanned: 0, changed: 0 }).where(where(cond)).params(),
    ));
});
