import { and, isAt, type Scalar } from '../db/condition.ts';
import { Refused, transition, type Item } from '../db/transition.ts';

/**
 * The erasure's writes (db/transition.ts says what a transition is). Every
 * item it rewrites, deletes or moves away is conditioned on the attributes it
 * read that name the user or that a concurrent change moves (a code's
 * `changeSeq`, a holding's `held`): a request that changed the item since
 * makes the write refuse, and the job reads the item again.
 */
export const asRead = transition({
  refusals: ['moved'],
  condition: (read: Record<string, Scalar | undefined>) => and(...Object.entries(read).map(([attr, value]) => isAt(attr, value))),
  refusal: (item: Item | null) => new Refused('moved', item ? 'changed since it was read' : 'gone since it was read', item),
});

/**
 * Made once: an item moved under the pseudonym's key (a second run that got there first leaves it),
 * and the erased mark (a second erasure leaves the first one's).
 */
export const makeOnce = transition({
  refusals: ['exists'],
  presence: 'absent',
  condition: () => and(),
  refusal: (item: Item | null) => new Refused('exists', 'made already', item),
});
