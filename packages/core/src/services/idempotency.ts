import { setTimeout as sleep } from 'node:timers/promises';
import type { CoreContext } from '../context.ts';
import { AppError } from '../errors.ts';
import { isConditionalFailure } from '../db/aws-errors.ts';
import type { Guard } from '../db/transact.ts';

export const IDEMPOTENCY_TTL_SECONDS = 24 * 3600;

/** A request made with an Idempotency-Key, as the API layer describes it. */
export interface IdempotencyClaim {
  tenant: string;
  caller: string;
  key: string;
  requestHash: string;
  /** The status a success answers with, stored beside the body for replays. */
  status: number;
}

export interface Outcome<T> {
  status: number;
  body: T;
  replayed: boolean;
}

/**
 * Thrown by `transact` when the idempotency record in the transaction already
 * exists: another request with the same key committed first.
 */
export class IdempotentReplay extends Error {}

const keyOf = (c: IdempotencyClaim) => ({ tenant: c.tenant, caller: c.caller, key: c.key });

/**
 * The record's put as a transaction guard: it goes into the transaction that
 * does the work, and if it already exists the work is a replay. `response`
 * is read after the work's items are built, so it can describe them.
 */
export function idempotencyGuard(claim: IdempotencyClaim | undefined, response: () => unknown): Guard | undefined {
  if (!claim) return undefined;
  return {
    name: 'idempotency',
    build: (entities) => idempotencyPut(entities, claim, response(), Date.now()),
    onFailed: () => new IdempotentReplay(),
  };
}

function idempotencyPut(entities: any, claim: IdempotencyClaim, body: unknown, now: number) {
  return entities.idempotencyRecord
    .create({
      ...keyOf(claim),
      requestHash: claim.requestHash,
      state: 'done',
      status: claim.status,
      response: JSON.stringify(body),
      createdAt: new Date(now).toISOString(),
      expiresAt: Math.floor(now / 1000) + IDEMPOTENCY_TTL_SECONDS,
    })
    .commit();
}

async function readRecord(ctx: CoreContext, claim: IdempotencyClaim) {
  const { data } = await ctx.store.idempotencyRecord.get(keyOf(claim)).go({ consistent: true });
  if (data && data.expiresAt * 1000 <= ctx.now()) return null; // TTL deletes late; an expired record is gone.
  return data;
}

function replay<T>(claim: IdempotencyClaim, record: { requestHash: string; status?: number; response?: string }): Outcome<T> {
  if (record.requestHash !== claim.requestHash) {
    throw new AppError('IDEMPOTENCY_KEY_REUSED', 'This Idempotency-Key was used with another request body.');
  }
  return { status: record.status!, body: JSON.parse(record.response!) as T, replayed: true };
}

/** How long a retry waits for the first request's multi-step work before answering 503. */
const PENDING_WAIT_MS = 5000;

/**
 * A `pending` record older than this was left by a process that died mid-work (a Lambda times
 * out after seconds; an upload of 5,000 codes takes a few): a retry takes the key over instead of
 * waiting 24 hours for TTL. What the dead request had written stays (codes are never written
 * twice), so the retry reports those codes as duplicates.
 */
export const STALE_PENDING_MS = 120_000;

async function awaitDone<T>(ctx: CoreContext, claim: IdempotencyClaim): Promise<Outcome<T> | null | { stale: string }> {
  const deadline = Date.now() + PENDING_WAIT_MS;
  for (;;) {
    const record = await readRecord(ctx, claim);
    if (!record) return null;
    if (record.requestHash !== claim.requestHash) return replay(claim, record);
    if (record.state === 'done') return replay(claim, record);
    if (Date.parse(record.createdAt) < ctx.now() - STALE_PENDING_MS) return { stale: record.createdAt };
    if (Date.now() > deadline) {
      throw new AppError('UNAVAILABLE', 'A request with this Idempotency-Key is still being processed.', { retryAfterSeconds: 2 });
    }
    await sleep(100);
  }
}

/**
 * Runs a use case whose work is one transaction, under an optional
 * Idempotency-Key. The use case puts the record in its own transaction
 * (`idempotencyPut`), so concurrent retries do the work once: the losers'
 * transactions are cancelled on the record, and they answer its response.
 * Failed requests write nothing, so a retry of one runs again.
 */
export async function runIdempotent<T>(
  ctx: CoreContext,
  claim: IdempotencyClaim | undefined,
  status: number,
  work: (claim: IdempotencyClaim | undefined) => Promise<T>,
): Promise<Outcome<T>> {
  if (!claim) return { status, body: await work(undefined), replayed: false };
  const existing = await readRecord(ctx, claim);
  if (existing?.state === 'done' || (existing && existing.requestHash !== claim.requestHash)) return replay(claim, existing);
  try {
    return { status, body: await work(claim), replayed: false };
  } catch (e) {
    if (!(e instanceof IdempotentReplay)) throw e;
    const record = await readRecord(ctx, claim);
    if (!record) throw new AppError('UNAVAILABLE', 'Retry shortly.', { retryAfterSeconds: 1 });
    return replay(claim, record);
  }
}

/**
 * For work that spans many transactions (uploads, generation): claim the key
 * with a `pending` record first, do the work, then store the response. A
 * concurrent retry waits for the response; a failure releases the key.
 */
export async function runIdempotentMultiStep<T>(
  ctx: CoreContext,
  claim: IdempotencyClaim | undefined,
  status: number,
  work: () => Promise<T>,
): Promise<Outcome<T>> {
  if (!claim) return { status, body: await work(), replayed: false };
  const now = ctx.now();
  const claimed = await ctx.store.idempotencyRecord
    .create({
      ...keyOf(claim),
      requestHash: claim.requestHash,
      state: 'pending',
      createdAt: new Date(now).toISOString(),
      expiresAt: Math.floor(now / 1000) + IDEMPOTENCY_TTL_SECONDS,
    })
    .go()
    .then(() => true)
    .catch((e: unknown) => {
      if (isConditionalFailure(e)) return false;
      throw e;
    });
  if (!claimed) {
    const outcome = await awaitDone<T>(ctx, claim);
    if (!outcome) return runIdempotentMultiStep(ctx, claim, status, work);
    if (!('stale' in outcome)) return outcome;
    // Take the abandoned key over; of racing retries, the one whose condition holds wins.
    const tookOver = await ctx.store.idempotencyRecord
      .patch(keyOf(claim))
      .set({ createdAt: new Date(now).toISOString() })
      .where((a, op) => `${op.eq(a.state, 'pending')} AND ${op.eq(a.createdAt, outcome.stale)}`)
      .go()
      .then(() => true)
      .catch((e: unknown) => {
        if (isConditionalFailure(e)) return false;
        throw e;
      });
    if (!tookOver) return runIdempotentMultiStep(ctx, claim, status, work);
  }
  let body: T;
  try {
    body = await work();
  } catch (e) {
    await ctx.store.idempotencyRecord.delete(keyOf(claim)).go();
    throw e;
  }
  await ctx.store.idempotencyRecord
    .patch(keyOf(claim))
    .set({ state: 'done', status, response: JSON.stringify(body) })
    .go();
  return { status, body, replayed: false };
}
