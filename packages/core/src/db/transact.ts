import { randomInt } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { isTransientAwsError, unavailable } from './aws-errors.ts';
import { writeTransaction, type Store } from '../entities/index.ts';

/** One item's verdict from a cancelled transaction. */
export interface CancellationReason {
  /** `None` where this item was fine. */
  code: string;
  rejected: boolean;
  /** The item as it was, for items committed with `{ response: 'all_old' }`. */
  item: Record<string, any> | null;
}

/** A cancelled transaction's verdicts, by the name each item was given in `build`. */
export type Reasons<N extends string = string> = Record<N, CancellationReason>;

/** The entities as ElectroDB hands them to a write transaction (each operation ends in `.commit()`). */
export type Entities = Parameters<Parameters<Store['service']['transaction']['write']>[0]>[0];
// ElectroDB's commit() output; kept opaque here.
type Committed = any;

/**
 * An item added to every attempt whose failed condition means one thing
 * (an idempotency record that already exists): its error is thrown before
 * anything else is considered.
 */
export interface Guard {
  name: string;
  build: (entities: Entities) => Committed;
  onFailed: () => Error;
}

export interface TransactOptions<N extends string> {
  /** Turn ConditionalCheckFailed reasons into the precise domain error. `'retry'` runs the whole attempt again. */
  onConditionFailed: (reasons: Reasons<N>) => Error | 'retry';
  maxAttempts?: number;
  /** Built after `build` on each attempt, so it can describe what build computed. */
  guard?: Guard;
}

const CONFLICT = 'TransactionConflict';
const CONDITION_FAILED = 'ConditionalCheckFailed';
const THROTTLED = new Set(['ThrottlingError', 'ProvisionedThroughputExceeded', 'RequestLimitExceeded']);

/** Full-jitter exponential backoff: spreads retries of racing writers apart. */
export const backoffMs = (attempt: number, baseMs = 15, capMs = 400) =>
  randomInt(Math.max(1, Math.round(Math.min(capMs, baseMs * 2 ** attempt))) + 1);

/** Did the item named `name` fail its condition? */
export const failed = (reasons: Reasons, name: string) => reasons[name]?.code === CONDITION_FAILED;

/**
 * Runs one TransactWriteItems built by `build`, whose items are named and
 * whose conditions name the state each item requires. A cancellation is read
 * by item name, never by position: conflicts are retried with jittered
 * backoff, throttling becomes UNAVAILABLE, and a failed condition becomes the
 * error `onConditionFailed` chooses.
 *
 * `build` is called again on every attempt so it can take fresh timestamps.
 */
export async function transact<N extends string>(
  store: Store,
  build: (entities: Entities) => Partial<Record<N, Committed>>,
  options: TransactOptions<N>,
): Promise<void> {
  // Conflicts on a busy stats shard are routine in a sale; eight jittered attempts (about 1.5 s at worst) before 503.
  const maxAttempts = options.maxAttempts ?? 8;
  const guard = options.guard;
  for (let attempt = 0; ; attempt++) {
    let names: string[] = [];
    let result: { canceled: boolean; data: CancellationReason[] };
    try {
      const write = (entities: Entities) => {
        const items: Record<string, Committed> = { ...build(entities) };
        if (guard) {
          if (guard.name in items) throw new Error(`transaction item name ${guard.name} is taken`);
          items[guard.name] = guard.build(entities);
        }
        names = Object.keys(items);
        return Object.values(items);
      };
      // originalErr: ElectroDB otherwise builds an Error (a stack trace) on every call, in case one is thrown: 2% of a claim's CPU.
      result = (await writeTransaction(store, write as any).go({ originalErr: true } as any)) as any;
    } catch (e) {
      if (isTransientAwsError(e)) {
        if (attempt + 1 < maxAttempts) {
          await sleep(backoffMs(attempt));
          continue;
        }
        throw unavailable(e);
      }
      throw e;
    }
    if (!result.canceled) return;
    const list = result.data;
    const reasons = Object.fromEntries(names.map((name, i) => [name, list[i] ?? { code: 'None', rejected: false, item: null }])) as Reasons<N>;
    if (guard && failed(reasons, guard.name)) throw guard.onFailed();
    if (list.some((r) => r.code === CONDITION_FAILED)) {
      const verdict = options.onConditionFailed(reasons);
      if (verdict !== 'retry') throw verdict;
    } else if (list.some((r) => THROTTLED.has(r.code))) {
      if (attempt + 1 >= maxAttempts) throw unavailable(list);
    } else if (!list.some((r) => r.code === CONFLICT)) {
      throw new Error(`transaction cancelled: ${names.map((n, i) => `${n}=${list[i]?.code}`).join(',')}`);
    }
    if (attempt + 1 >= maxAttempts) throw unavailable(list);
    await sleep(backoffMs(attempt));
  }
}
