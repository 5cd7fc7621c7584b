import { ERROR_CODES, type ErrorCode } from '../errors.ts';
import { holds, where, type Cond } from './condition.ts';

export type Item = Record<string, any>;

/**
 * A refusal as a transition gives it: an error whose `code` names the state
 * that refused the write. An `AppError` is one (the client gets its code);
 * so is `Refused`, for refusals the domain answers itself.
 */
export interface Refusal<R extends string = string> extends Error {
  readonly code: R;
}

/** A refusal the domain answers itself (a lease another runner holds, a lane another commit moved), never a client. */
export class Refused<R extends string> extends Error {
  /** The transition whose refusal this is (set by `transition`), so two transitions' refusals of one code stay apart. */
  by?: Transition<any, any, string>;
  constructor(
    readonly code: R,
    message: string,
    /** The item as it was when the write was refused. */
    readonly item: Item | null = null,
  ) {
    super(message);
    this.name = 'Refused';
  }
}

/** A failed condition that no state of the item explains: an invariant is broken. Answered as an internal error, never declared. */
export class BrokenInvariant extends Error {
  readonly invariant = true;
}

/**
 * What the write demands of the item by itself, before its condition:
 * ElectroDB's patch (and remove) that it exists, create that it does not,
 * put, upsert and delete nothing.
 */
export type Presence = 'exists' | 'absent' | 'any';

export interface TransitionSpec<I, T, R extends string> {
  /** Every code `refusal` may return: the type allows no other. */
  refusals: readonly R[];
  /**
   * The refusals that mean the state this write would create already exists
   * (the code taken, the lock held): a copy of a keyed request meets them
   * once the first one committed, so the idempotency layer reads the key's
   * record before answering one.
   */
  alreadyDone?: readonly NoInfer<R>[];
  /** Default `exists` (a patch). */
  presence?: Presence;
  /** The condition the write carries, as data (db/condition.ts). */
  condition(input: I): Cond;
  /** Why the write was refused, read from the item as it was (`null`: there was none). */
  refusal(item: T | null, input: I): Refusal<NoInfer<R>> | BrokenInvariant;
}

/**
 * One state change of an item, described once: the condition its write
 * carries, as data; the refusals it can give and the explanation of each,
 * read from the item as it was. `allows`, the same rule in memory, is the
 * condition evaluated on the item, never written a second time. Every
 * domain's writes are built from these, and each transition's property test
 * holds the expression ElectroDB sends, the data and the refusals together.
 */
export interface Transition<I, T = Item, R extends string = string> {
  readonly refusals: readonly R[];
  readonly alreadyDone: readonly R[];
  readonly presence: Presence;
  condition(input: I): Cond;
  allows(item: T | null, input: I): boolean;
  refusal(item: T | null, input: I): Refusal<R> | BrokenInvariant;
}

const present = (presence: Presence, item: unknown) => presence === 'any' || (presence === 'exists') === (item !== null && item !== undefined);

export function transition<I, T = Item, const R extends string = never>(spec: TransitionSpec<I, T, R>): Transition<I, T, R> {
  const presence = spec.presence ?? 'exists';
  const t: Transition<I, T, R> = {
    refusals: spec.refusals,
    alreadyDone: spec.alreadyDone ?? [],
    presence,
    condition: spec.condition,
    allows: (item, input) => present(presence, item) && holds(spec.condition(input), (item ?? null) as Item | null),
    refusal: (item, input) => {
      const refusal = spec.refusal(item, input);
      if (refusal instanceof Refused) refusal.by = t;
      return refusal;
    },
  };
  return t;
}

/** `e` as a refusal of `t` that the domain answers itself, or undefined. */
export function refusedBy<R extends string>(t: Transition<any, any, R>, e: unknown): Refused<R> | undefined {
  return e instanceof Refused && e.by === t ? (e as Refused<R>) : undefined;
}

/** A catch handler that lets `t`'s own refusals pass (what the write wanted is done, or someone else's to do) and rethrows anything else. */
export const passRefusalsOf =
  (t: Transition<any, any, string>) =>
  (e: unknown): void => {
    if (!refusedBy(t, e)) throw e;
  };

/** Throws the transition's refusal unless it allows the write: the in-memory pre-check before a write that could not succeed. */
export function assertAllowed<I, T>(t: Transition<I, T, string>, item: T | null, input: I): void {
  if (!t.allows(item, input)) throw t.refusal(item, input);
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

type RefusalOf<T> = T extends Transition<any, any, infer R> ? R : never;

/** What a use case can refuse, built from the transitions it runs. */
export interface UseCaseRefusals<C extends string = ErrorCode> {
  /** Every refusal it can answer, in the error table's order: its route documents these. */
  readonly codes: readonly C[];
  /** Those a copy of a keyed request can meet because the first one committed. */
  readonly ofACopy: readonly C[];
}

const inTableOrder = <C extends string>(codes: Iterable<C>): C[] => {
  const rank = (c: string) => {
    const i = (ERROR_CODES as readonly string[]).indexOf(c);
    return i < 0 ? ERROR_CODES.length : i;
  };
  return [...new Set(codes)].sort((a, b) => rank(a) - rank(b));
};

/**
 * A use case's refusals: those of the transitions it runs (or pre-checks),
 * less those it answers itself, plus its own. A refusal added to a
 * transition thus reaches the route's documented errors and the idempotency
 * layer without editing either; a route can only document `ErrorCode`s, so
 * a domain-internal refusal that is not handled fails to type-check there.
 */
export function refusalsOf<
  const T extends readonly Transition<any, any, string>[],
  const O extends ErrorCode = never,
  const H extends RefusalOf<T[number]> = never,
>(spec: {
  runs: T;
  /** Refusals of its own, found before any transition: a missing book, a sold-out pool. */
  own?: readonly O[];
  /** Of those, the ones a copy meets because the first request committed. */
  ownAlreadyDone?: readonly NoInfer<O>[];
  /** Transition refusals it answers itself and never passes on (a lost race picks another code). */
  handles?: readonly H[];
}): UseCaseRefusals<Exclude<RefusalOf<T[number]>, H> | O> {
  type C = Exclude<RefusalOf<T[number]>, H> | O;
  const handled = new Set<string>(spec.handles ?? []);
  const passedOn = (codes: readonly string[]) => codes.filter((c) => !handled.has(c)) as C[];
  return {
    codes: inTableOrder<C>([...spec.runs.flatMap((t) => passedOn(t.refusals)), ...(spec.own ?? [])]),
    ofACopy: inTableOrder<C>([...spec.runs.flatMap((t) => passedOn(t.alreadyDone)), ...(spec.ownAlreadyDone ?? [])]),
  };
}
