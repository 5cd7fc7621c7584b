import { randomInt } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { isTransientAwsError, unavailable } from './aws-errors.ts';
import type { Store } from '../entities/index.ts';
import { IdempotentReplay, idempotencyPut, type IdempotencyClaim } from '../services/idempotency.ts';

/** One item's verdict from a cancelled transaction, in request order. */
export interface CancellationReason {
  /** `None` where this item was fine. */
  code: string;
  rejected: boolean;
  /** The item as it was, for items committed with `{ response: 'all_old' }`. */
  item: Record<string, any> | null;
}

/** The entities as ElectroDB hands them to a write transaction (each operation ends in `.commit()`). */
type Entities = Parameters<Parameters<Store['service']['transaction']['write']>[0]>[0];
// ElectroDB's commit() output; kept opaque here.
type Committed = any;

export interface TransactOptions {
  /** Turn ConditionalCheckFailed reasons into the precise domain error. `'retry'` runs the whole attempt again. */
  onConditionFailed: (reasons: CancellationReason[]) => Error | 'retry';
  maxAttempts?: number;
  /**
   * Puts the idempotency record in the same transaction; `response` is read
   * after `build`, so it can describe what build computed.
   */
  idempotency?: { claim: IdempotencyClaim | undefined; response: () => unknown };
}

const CONFLICT = 'TransactionConflict';
const THROTTLED = new Set(['ThrottlingError', 'ProvisionedThroughputExceeded', 'RequestLimitExceeded']);

/** Full-jitter exponential backoff: spreads retries of racing writers apart. */
export const backoffMs = (attempt: number, baseMs = 15, capMs = 400) =>
  randomInt(Math.max(1, Math.round(Math.min(capMs, baseMs * 2 ** attempt))) + 1);

/**
 * Runs one TransactWriteItems built by `build`, whose conditions name the
 * state each item requires. A cancellation is read item by item: conflicts
 * are retried with jittered backoff, throttling becomes UNAVAILABLE, and a
 * failed condition becomes the error `onConditionFailed` chooses.
 *
 * `build` is called again on every attempt so it can take fresh timestamps.
 */
export async function transact(
  store: Store,
  build: (entities: Entities) => Committed[],
  options: TransactOptions,
): Promise<void> {
  const maxAttempts = options.maxAttempts ?? 6;
  for (let attempt = 0; ; attempt++) {
    let result: { canceled: boolean; data: CancellationReason[] };
    try {
      const idem = options.idempotency?.claim ? options.idempotency : undefined;
      const write = idem
        ? (entities: Entities) => [...build(entities), idempotencyPut(entities, idem.claim!, idem.response(), Date.now())]
        : build;
      // originalErr: ElectroDB otherwise builds an Error (a stack trace) on every call, in case one is thrown: 2% of a claim's CPU.
      result = (await store.service.transaction.write(write as any).go({ originalErr: true } as any)) as any;
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
    const reasons = result.data;
    if (options.idempotency?.claim && reasons.at(-1)?.code === 'ConditionalCheckFailed') throw new IdempotentReplay();
    if (reasons.some((r) => r.code === 'ConditionalCheckFailed')) {
      const verdict = options.onConditionFailed(reasons);
      if (verdict !== 'retry') throw verdict;
    } else if (reasons.some((r) => THROTTLED.has(r.code))) {
      if (attempt + 1 >= maxAttempts) throw unavailable(reasons);
    } else if (!reasons.some((r) => r.code === CONFLICT)) {
      throw new Error(`transaction cancelled: ${reasons.map((r) => r.code).join(',')}`);
    }
    if (attempt + 1 >= maxAttempts) throw unavailable(reasons);
    await sleep(backoffMs(attempt));
  }
}

export const failed = (reasons: CancellationReason[], index: number) => reasons[index]?.code === 'ConditionalCheckFailed';
