import { always, and, eq } from '../db/condition.ts';
import { Refused, transition, type Item } from '../db/transition.ts';

/**
 * The life of an idempotency record (db/transition.ts says what a
 * transition is): created `done` in the work's own transaction, or claimed
 * `pending` for work of many transactions and then completed, released or,
 * once stale, taken over. A pending claim is named by its `createdAt`, which
 * a takeover sets anew, so a request whose claim was taken over can neither
 * complete nor release the claim that replaced it.
 */

/** Another request with this key made the record first: the caller replays it. */
export class IdempotentReplay extends Refused<'taken'> {
  constructor(item: Item | null) {
    super('taken', 'a request with this key made its record first', item);
  }
}

/** The key's record is created (done, or a pending claim): there is none yet. */
export const claimKey = transition({
  refusals: ['taken'],
  presence: 'absent',
  condition: () => always,
  refusal: (item) => new IdempotentReplay(item),
});

/**
 * The record is still the pending claim made at `createdAt`: completing or
 * releasing one's own claim, or taking over one seen stale.
 */
export const pendingClaim = transition({
  refusals: ['moved'],
  condition: ({ createdAt }: { createdAt: string }) => and(eq('state', 'pending'), eq('createdAt', createdAt)),
  refusal: (item) => new Refused('moved', item ? `the key's record is ${item.state} since ${item.createdAt}` : "the key's record is gone", item),
});
