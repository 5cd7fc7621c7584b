import { and, eq, isAt, notExists } from '../db/condition.ts';
import { Refused, transition, type Item } from '../db/transition.ts';

/**
 * The conditional writes of the migrations' own bookkeeping and of the items
 * they make in today's shape (db/transition.ts says what a transition is).
 * Items in the previous release's shape have no entity; their writes are
 * conditioned on the attributes they were read with (legacy-writes.ts).
 */

/** Made once: an earlier run (or today's code) made it already. */
export const createOnce = transition({
  refusals: ['exists'],
  presence: 'absent',
  condition: () => and(),
  refusal: (item: Item | null) => new Refused('exists', 'made already', item),
});

/** A pending copy of an old idempotency record is finished only while it is still that request's, pending. */
export const finishPendingCopy = transition({
  refusals: ['settled'],
  condition: ({ createdAt, requestHash }: { createdAt: string; requestHash: string }) =>
    and(eq('state', 'pending'), eq('createdAt', createdAt), eq('requestHash', requestHash)),
  refusal: (item: Item | null) => new Refused('settled', 'finished already, or another request under that key', item),
});

/** The job that runs a phase is named once, from what the runner read (`named`, or none). */
export const nameJob = transition({
  refusals: ['named'],
  presence: 'any',
  condition: ({ field, named }: { field: 'prepareJobId' | 'finishJobId'; named?: string }) => isAt(field, named),
  refusal: (item: Item | null) => new Refused('named', 'another runner named the job first', item),
});

/** A migration is recorded complete once, by the run of its finish job. */
export const recordComplete = transition({
  refusals: ['complete'],
  presence: 'any',
  condition: ({ finishJobId }: { finishJobId?: string }) => (finishJobId === undefined ? notExists('completedAt') : and(eq('finishJobId', finishJobId), notExists('completedAt'))),
  refusal: (item: Item | null) => new Refused('complete', 'recorded complete already', item),
});
