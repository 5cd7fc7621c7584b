import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { CoreContext } from '../context.ts';
import { requireRole, resolveUserId, type Actor } from '../actor.ts';
import { refuseErased } from '../erased-users.ts';
import { AppError } from '../errors.ts';
import { backoffMs, transact, failed } from '../db/transact.ts';
import { where } from '../db/condition.ts';
import { claimGate, gateOf, type Gate } from '../book/gate.ts';
import { assign, codeNotFound, holdUnderCap, marked } from './transitions.ts';
import { applied, asUpdate, assertAllowed, refusalsOf, type Change } from '../db/transition.ts';
import type { CodeRecord } from './state.ts';
import { toCodeView, type CodeView } from './view.ts';
import { loadBookCached } from '../book/load-book.ts';
import type { BookRecord } from '../book/book.ts';
import { idempotencyGuard, type IdempotencyClaim } from '../idempotency/run.ts';
import { isKnownSoldOut } from './empty-pools.ts';
import { pickCandidate, release, type Candidate } from './pick.ts';
import { isMistypedCheckedCode } from '../code-format/check-char.ts';
import { ownerKeyOf, ownerSortOf } from '../entities/code.ts';

export interface AssignInput {
  bookId: string;
  userId?: string;
  /** Claim and lock in one atomic step (the checkout's common case). */
  lock?: boolean;
  ttlSeconds?: number;
}

export type AssignResult = CodeView & { lockId?: string };

/** The code was taken by someone else between the pick and the write. */
class LostRace extends Error {}

const bookExhausted = () => new AppError('BOOK_EXHAUSTED', 'No codes are left in this book.');

/**
 * The one transaction every assignment is: the code leaves the pool for the
 * user (`assign`), the shard counter moves under the book's gate
 * (`claimGate`, active and in its window) and, for capped books, the user's
 * holding grows (`holdUnderCap`).
 */
async function commitAssignment(
  ctx: CoreContext,
  actor: Actor,
  book: BookRecord,
  candidate: Candidate,
  userId: string,
  lock: { lockId: string; ttlSeconds: number } | undefined,
  onCodeTaken: (item: Record<string, any> | null) => Error,
  idempotency: IdempotencyClaim | undefined,
): Promise<CodeRecord> {
  const tenant = book.tenant;
  const cap = book.maxCodesPerUser;
  let assigned: CodeRecord | undefined;
  await transact(
    ctx.store,
    ({ code, bookStatsShard, userBookHolding }) => {
      const now = ctx.now();
      // The pool index's composites (bookId, shard, poolSlot) go with the status, so ElectroDB drops the pool keys.
      const change: Change = marked(
        {
          set: {
            bookId: book.bookId,
            shard: candidate.shard,
            poolSlot: candidate.poolSlot,
            status: 'assigned',
            userId,
            ownerKey: ownerKeyOf(tenant, userId),
            ownerSort: ownerSortOf(book.bookId, candidate.code),
            assignedAt: new Date(now).toISOString(),
            maxRedemptions: book.maxRedemptionsPerUser,
            ...(lock ? { lockId: lock.lockId, lockExpiresAt: now + lock.ttlSeconds * 1000, locksSinceRedemption: 1 } : {}),
          },
        },
        'assigned',
        now,
        actor.sub,
        { userId, lockId: lock?.lockId },
        { alsoLocked: lock !== undefined },
      );
      assigned = applied({ tenant, code: candidate.code, redemptionCount: 0 } as CodeRecord, change);
      return {
        code: asUpdate(code.patch({ tenant, code: candidate.code }), change, assign.condition({ code: candidate.code, bookId: book.bookId })).commit({
          response: 'all_old',
        }),
        stats: bookStatsShard
          .patch({ tenant, bookId: book.bookId, shard: candidate.shard })
          .add({ available: -1, assigned: 1 })
          .where(where(claimGate.condition({ now })))
          .commit({ response: 'all_old' }),
        ...(cap !== undefined
          ? {
              holding: userBookHolding
                .upsert({ tenant, userId, bookId: book.bookId })
                .add({ held: 1 })
                .where(where(holdUnderCap.condition({ cap })))
                .commit(),
            }
          : {}),
      };
    },
    {
      onConditionFailed: (reasons) => {
        if (failed(reasons, 'stats')) return claimGate.refusal(reasons.stats.item as Gate | null, { now: ctx.now() });
        if (failed(reasons, 'holding')) return holdUnderCap.refusal(null, { cap: cap! });
        return onCodeTaken(reasons.code?.item ?? null);
      },
      guard: idempotencyGuard(idempotency, () => withLock(toCodeView(assigned!, book, ctx.now()), lock)),
    },
  );
  ctx.metrics.add('Claims', 1, { tenant });
  return assigned!;
}

/**
 * The book of a claim, refused early when closed. The copy may be a second
 * old: an open one is re-checked by the transaction's gate condition anyway,
 * and a closed one is read again before the claim is refused on its word.
 */
async function loadOpenBook(ctx: CoreContext, tenant: string, bookId: string): Promise<BookRecord> {
  let book = await loadBookCached(ctx, tenant, bookId);
  if (claimGate.allows(gateOf(book), { now: ctx.now() })) return book;
  book = await loadBookCached(ctx, tenant, bookId, { fresh: true });
  assertAllowed(claimGate, gateOf(book), { now: ctx.now() });
  return book;
}

function lockRequest(book: BookRecord, input: { lock?: boolean; ttlSeconds?: number }) {
  return input.lock ? { lockId: randomUUID(), ttlSeconds: input.ttlSeconds ?? book.lockTtlSeconds } : undefined;
}

const withLock = (view: CodeView, lock: { lockId: string } | undefined): AssignResult => (lock ? { ...view, lockId: lock.lockId } : view);

/**
 * What a random claim can refuse: the gate and the cap (its transaction), a
 * missing book, a sold-out pool. A code lost to another claim is not refused:
 * the claim picks again. A copy of a keyed claim can find the pool emptied or
 * the cap reached by the first one.
 */
export const assignRandomCodeRefusals = refusalsOf({
  runs: [claimGate, assign, holdUnderCap],
  handles: ['CODE_NOT_FOUND', 'CODE_ALREADY_ASSIGNED'],
  own: ['BOOK_NOT_FOUND', 'BOOK_EXHAUSTED'],
  ownAlreadyDone: ['BOOK_EXHAUSTED'],
});

/**
 * Assigns a random available code of a book (code/pick.ts: a random
 * shard, a random start key, a pick no one can predict from upload order); a
 * lost race picks again; BOOK_EXHAUSTED only once every shard's pool is
 * empty, and then this instance answers the next claims of the book from
 * memory for under a second (code/empty-pools.ts).
 */
export async function assignRandomCode(
  ctx: CoreContext,
  actor: Actor,
  input: AssignInput,
  opts: { idempotency?: IdempotencyClaim } = {},
): Promise<AssignResult> {
  requireRole(actor, 'admin', 'service', 'user');
  const userId = resolveUserId(actor, input.userId, { required: true })!;
  await refuseErased(ctx, actor.tenant, userId);
  const book = await loadOpenBook(ctx, actor.tenant, input.bookId);
  if (isKnownSoldOut(ctx, actor.tenant, input.bookId, book.poolShards)) throw bookExhausted();
  const lock = lockRequest(book, input);
  for (let attempt = 0; attempt < ctx.config.CLAIM_ATTEMPTS; attempt++) {
    const candidate = await pickCandidate(ctx, book);
    if (candidate === 'soldOut') throw bookExhausted();
    if (!candidate) {
      // Every code seen is one this instance saw leave the pool: on DynamoDB the pool index can trail
      // a commit by a moment, so let it catch up rather than spend the attempts at once.
      await sleep(backoffMs(attempt, 10, 200));
      continue;
    }
    let gone = false;
    try {
      const assigned = await commitAssignment(ctx, actor, book, candidate, userId, lock, () => new LostRace(), opts.idempotency);
      gone = true;
      return withLock(toCodeView(assigned, book, ctx.now()), lock);
    } catch (e) {
      if (!(e instanceof LostRace)) throw e;
      gone = true;
      ctx.metrics.add('LostRaces', 1, { tenant: book.tenant });
    } finally {
      release(ctx, book.tenant, candidate, gone);
    }
  }
  ctx.log.warn('claim gave up after losing every race', { bookId: book.bookId, attempts: ctx.config.CLAIM_ATTEMPTS });
  throw new AppError('UNAVAILABLE', 'The book is under heavy contention; retry shortly.', { retryAfterSeconds: 1 });
}

/** What a claim of a named code can refuse: the code (checked first in memory, then by the write), the gate, the cap. */
export const assignNamedCodeRefusals = refusalsOf({ runs: [assign, claimGate, holdUnderCap] });

/** Assigns one named code to a user (admin or service only: a user naming codes could enumerate them). */
export async function assignNamedCode(
  ctx: CoreContext,
  actor: Actor,
  code: string,
  input: { userId: string; bookId?: string; lock?: boolean; ttlSeconds?: number },
  opts: { idempotency?: IdempotencyClaim } = {},
): Promise<AssignResult> {
  requireRole(actor, 'admin', 'service');
  // A checked code whose check character is wrong is a typo: refused before any read.
  if (isMistypedCheckedCode(code)) throw codeNotFound(code);
  await refuseErased(ctx, actor.tenant, input.userId);
  const { data } = await ctx.store.code.get({ tenant: actor.tenant, code }).go({ consistent: true });
  const bookId = input.bookId ?? data?.bookId ?? '';
  assertAllowed(assign, data as CodeRecord | null, { code, bookId });
  const book = await loadOpenBook(ctx, actor.tenant, data!.bookId);
  const lock = lockRequest(book, input);
  const assigned = await commitAssignment(
    ctx,
    actor,
    book,
    { code, shard: data!.shard, poolSlot: data!.poolSlot },
    input.userId,
    lock,
    (item) => assign.refusal(item as CodeRecord | null, { code, bookId: book.bookId }),
    opts.idempotency,
  );
  return withLock(toCodeView(assigned, book, ctx.now()), lock);
}
