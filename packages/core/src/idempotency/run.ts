import { setTimeout as sleep } from 'node:timers/promises';
import type { CoreContext } from '../context.ts';
import { AppError, type ErrorCode } from '../errors.ts';
import type { Role } from '../actor.ts';
import { recordKey } from './scope.ts';
import { decodeResponse, encodeResponse, INLINE_BYTES, MAX_PARTS, splitParts, summarize } from './stored-response.ts';
import type { Guard } from '../db/transact.ts';
import { conditionalWrite } from '../db/conditional-write.ts';
import { where } from '../db/condition.ts';
import { asUpdate, refusedBy } from '../db/transition.ts';
import { claimKey, IdempotentReplay, pendingClaim } from './key-transitions.ts';

export const IDEMPOTENCY_TTL_SECONDS = 24 * 3600;

/** A request made with an Idempotency-Key, as the API layer describes it. */
export interface IdempotencyClaim {
  tenant: string;
  /** The token's role: part of the record's scope, so another role never shares a record. */
  role: Role;
  /** The token's sub. */
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


type StoredRecord = {
  role: string;
  caller: string;
  requestHash: string;
  state: 'pending' | 'done';
  status?: number;
  body?: Uint8Array;
  parts?: number;
  createdAt: string;
  expiresAt: number;
};

const keyOf = (c: IdempotencyClaim) => recordKey(c);
const expiresAt = (now: number) => Math.floor(now / 1000) + IDEMPOTENCY_TTL_SECONDS;
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
    onFailed: () => claimKey.refusal(null, undefined),
  };
}

/** The record's put itself, for a transaction built by hand (tests). */
export function idempotencyPut(entities: any, claim: IdempotencyClaim, body: unknown, now: number) {
  let bytes = encodeResponse(body);
  if (bytes.length > INLINE_BYTES) bytes = encodeResponse(summarize(body, INLINE_BYTES));
  return entities.idempotencyRecord
    .create({
      ...keyOf(claim),
      role: claim.role,
      caller: claim.caller,
      key: claim.key,
      requestHash: claim.requestHash,
      state: 'done',
      status: claim.status,
      body: bytes,
      createdAt: new Date(now).toISOString(),
      expiresAt: expiresAt(now),
    })
    .commit();
}

async function readRecord(ctx: CoreContext, claim: IdempotencyClaim): Promise<StoredRecord | null> {
  const { data } = await ctx.store.idempotencyRecord.get(keyOf(claim)).go({ consistent: true });
  if (!data || data.expiresAt * 1000 <= ctx.now()) return null; // TTL deletes late; an expired record is gone.
  // The scope is a hash of (role, sub, key); the record must also say so, or it is not this caller's.
  if (data.role !== claim.role || data.caller !== claim.caller) return null;
  return data as StoredRecord;
}

async function storedBody(ctx: CoreContext, claim: IdempotencyClaim, record: StoredRecord): Promise<unknown> {
  if (!record.parts) return decodeResponse(record.body!);
  const { data } = await ctx.store.idempotencyPart.query.byScope(keyOf(claim)).go({ consistent: true, pages: 'all' });
  const parts = [...data].sort((a, b) => a.part - b.part);
  if (parts.length !== record.parts) throw new Error(`idempotency record: ${parts.length} of ${record.parts} parts`);
  return decodeResponse(Buffer.concat(parts.map((p) => p.body as Uint8Array)));
}

async function replay<T>(ctx: CoreContext, claim: IdempotencyClaim, record: StoredRecord): Promise<Outcome<T>> {
  if (record.requestHash !== claim.requestHash) {
    throw new AppError('IDEMPOTENCY_KEY_REUSED', 'This Idempotency-Key was used with another request body.');
  }
  if (record.state !== 'done') throw new AppError('UNAVAILABLE', 'A request with this Idempotency-Key is still being processed.', { retryAfterSeconds: 2 });
  return { status: record.status!, body: (await storedBody(ctx, claim, record)) as T, replayed: true };
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
    if (record.requestHash !== claim.requestHash || record.state === 'done') return replay(ctx, claim, record);
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
 * (`idempotencyGuard`), so concurrent retries do the work once: the losers'
 * transactions are cancelled on the record, and they answer its response.
 * A loser refused by the state the winner left reads the record first and
 * answers it too: `copyRefusals` are those refusals, the use case's
 * `ofACopy` (db/transition.ts `refusalsOf`, built from what its transitions
 * declare). Failed requests write nothing, so a retry of one runs again.
 *
 * A replay goes only to the caller that made the record: same tenant, role and
 * sub (the record's scope, checked again against the record), and the same
 * request (method, path, body, hence the same target user). Authorisation is a
 * function of exactly these, so the caller is allowed the replay exactly when
 * it was allowed the first request.
 */
export async function runIdempotent<T>(
  ctx: CoreContext,
  claim: IdempotencyClaim | undefined,
  status: number,
  work: (claim: IdempotencyClaim | undefined) => Promise<T>,
  copyRefusals: readonly ErrorCode[] = [],
): Promise<Outcome<T>> {
  if (!claim) return { status, body: await work(undefined), replayed: false };
  const existing = await readRecord(ctx, claim);
  if (existing) return replay(ctx, claim, existing);
  try {
    return { status, body: await work(claim), replayed: false };
  } catch (e) {
    const copyRefused = e instanceof AppError && copyRefusals.includes(e.code);
    if (!(e instanceof IdempotentReplay) && !copyRefused) throw e;
    const record = await readRecord(ctx, claim);
    if (record) return replay(ctx, claim, record);
    if (copyRefused) throw e;
    throw new AppError('UNAVAILABLE', 'Retry shortly.', { retryAfterSeconds: 1 });
  }
}

/** Frees this request's claim of a key, unless it is done or was taken over; never masks the error that made the caller release it. */
async function release(ctx: CoreContext, claim: IdempotencyClaim, createdAt: string) {
  await conditionalWrite(
    ctx.store,
    (s) => s.idempotencyRecord.delete(keyOf(claim)).where(where(pendingClaim.condition({ createdAt }))),
    (item) => pendingClaim.refusal(item, { createdAt }),
  ).catch(() => undefined); // a key that could not be freed is taken over once stale (STALE_PENDING_MS)
}

/** Stores a multi-step response: inline, or in parts first and then the claim marked done (if it is still this request's). */
async function storeResponse(ctx: CoreContext, claim: IdempotencyClaim, createdAt: string, status: number, body: unknown) {
  let bytes = encodeResponse(body);
  let parts = bytes.length > INLINE_BYTES ? splitParts(bytes) : [];
  if (parts.length > MAX_PARTS) {
    bytes = encodeResponse(summarize(body, INLINE_BYTES));
    parts = [];
  }
  const expires = expiresAt(ctx.now());
  // Parts first: a record marked done always has every part it names.
  for (const [part, slice] of parts.entries()) {
    await ctx.store.idempotencyPart.put({ ...keyOf(claim), part, body: slice, expiresAt: expires }).go();
  }
  const done = parts.length ? { state: 'done', status, parts: parts.length } : { state: 'done', status, body: bytes };
  await conditionalWrite(
    ctx.store,
    (s) => asUpdate(s.idempotencyRecord.patch(keyOf(claim)), { set: done }, pendingClaim.condition({ createdAt })),
    (item) => pendingClaim.refusal(item, { createdAt }),
  );
}

/**
 * For work that spans many transactions (uploads, generation): claim the key
 * with a `pending` record first, do the work, then store the response. A
 * concurrent retry waits for the response. A failure of the work releases the
 * key; a failure to store the response releases it too (the work is done and
 * answered; a later retry runs again), so no key stays pending.
 */
export async function runIdempotentMultiStep<T>(
  ctx: CoreContext,
  claim: IdempotencyClaim | undefined,
  status: number,
  work: () => Promise<T>,
): Promise<Outcome<T>> {
  if (!claim) return { status, body: await work(), replayed: false };
  // The claim's name: the time it was made, written by the create or the takeover.
  const createdAt = new Date(ctx.now()).toISOString();
  const record = {
    ...keyOf(claim),
    role: claim.role,
    caller: claim.caller,
    key: claim.key,
    requestHash: claim.requestHash,
    state: 'pending' as const,
    createdAt,
    expiresAt: expiresAt(ctx.now()),
  };
  const claimed = await conditionalWrite(ctx.store, (s) => s.idempotencyRecord.create(record), (item) => claimKey.refusal(item, undefined)).then(
    () => true,
    (e: unknown) => {
      if (refusedBy(claimKey, e)) return false;
      throw e;
    },
  );
  if (!claimed) {
    const outcome = await awaitDone<T>(ctx, claim);
    if (!outcome) return runIdempotentMultiStep(ctx, claim, status, work);
    if (!('stale' in outcome)) return outcome;
    // Take the abandoned key over; of racing retries, the one whose condition holds wins.
    const stale = { createdAt: outcome.stale };
    const tookOver = await conditionalWrite(
      ctx.store,
      (s) => asUpdate(s.idempotencyRecord.patch(keyOf(claim)), { set: { createdAt } }, pendingClaim.condition(stale)),
      (item) => pendingClaim.refusal(item, stale),
    ).then(
      () => true,
      (e: unknown) => {
        if (refusedBy(pendingClaim, e)) return false;
        throw e;
      },
    );
    if (!tookOver) return runIdempotentMultiStep(ctx, claim, status, work);
  }
  let body: T;
  try {
    body = await work();
  } catch (e) {
    await release(ctx, claim, createdAt);
    throw e;
  }
  try {
    await storeResponse(ctx, claim, createdAt, status, body);
  } catch (e) {
    // The answer stands; only its replay is lost. A claim taken over meanwhile is the other request's to keep.
    if (!refusedBy(pendingClaim, e)) await release(ctx, claim, createdAt);
  }
  return { status, body, replayed: false };
}
