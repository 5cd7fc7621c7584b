import { where, type Cond } from './condition.ts';

/**
 * One state change of an item, described once: the condition its write
 * carries, the same rule in memory (`allows`), and the explanation of a
 * refusal read from the item as it was (`refusal`). Every domain's writes
 * are built from these; tests hold `allows` and the condition to the same
 * verdict on the same items.
 */
export interface Transition<I, T = Record<string, any>> {
  condition(input: I): Cond;
  allows(item: T | null, input: I): boolean;
  refusal(item: T | null, input: I): Error;
}

/** What a write sets, adds and removes on an item, kept as data so the answer can be built from it. */
export interface Change {
  set: Record<string, unknown>;
  add?: Record<string, number>;
  remove?: string[];
}

/** The change applied to a record in memory: what the write leaves behind, for the answer. */
export function applied<T extends Record<string, any>>(record: T, change: Change): T {
  const out: Record<string, any> = { ...record, ...change.set };
  for (const [k, n] of Object.entries(change.add ?? {})) out[k] = (typeof out[k] === 'number' ? out[k] : 0) + n;
  for (const k of change.remove ?? []) delete out[k];
  return out as T;
}

/** A change under its condition on ElectroDB's update chain (`entity.patch(key)`). */
export function asUpdate(patch: any, change: Change, condition: Cond) {
  let update = patch.set(change.set);
  if (change.add && Object.keys(change.add).length) update = update.add(change.add);
  if (change.remove?.length) update = update.remove(change.remove);
  return update.where(where(condition));
}
