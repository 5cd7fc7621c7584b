import { randomInt, randomUUID } from 'node:crypto';
import type { CoreContext } from '../context.ts';
import { requireRole, resolveUserId, type Actor } from '../actor.ts';
import { AppError } from '../errors.ts';
import { transact, failed, type CancellationReason } from '../db/transact.ts';
import { loadBookCached, gateCondition, gateError, gateOf, type BookRecord } from './books.ts';
import { codeNotFound, toCodeView, type CodeRecord, type CodeView } from './code-view.ts';
import { poolPartition, randomPoolSlot } from './insert-codes.ts';
import type { IdempotencyClaim } from './idempotency.ts';
import { isMistypedCheckedCode } from '../codes/check-char.ts';

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

interface Candidate {
  code: string;
  shard: number;
  poolSlot: string;
}

/**
 * The one transaction every assignment is: the code leaves the pool for the
 * user (condition: still available, in this book), the shard counter moves
 * (condition: book active and in its window) and, for capped books, the
 * user's holding grows (condition: under the cap).
 */
async function commitAssignment(
  ctx: CoreContext,
  book: BookRecord,
  candidate: Candidate,
  userId: string,
  lock: { lockId: string; ttlSeconds: number } | undefined,
  onCodeTaken: () => Error,
  idempotency: IdempotencyClaim | undefined,
): Promise<CodeRecord> {
  const tenant = book.tenant;
  let assigned: CodeRecord | undefined;
  await transact(
    ctx.store,
    ({ code, bookStatsShard, userBookHolding }) => {
      const now = ctx.now();
      assigned = {
        tenant,
        code: candidate.code,
        bookId: book.bookId,
        shard: candidate.shard,
        poolPartition: poolPartition(tenant, book.bookId, candidate.shard),
        poolSlot: candidate.poolSlot,
        status: 'assigned',
        userId,
        assignedAt: new Date(now).toISOString(),
        maxRedemptions: book.maxRedemptionsPerUser,
        redemptionCount: 0,
        ...(lock ? { lockId: lock.lockId, lockExpiresAt: now + lock.ttlSeconds * 1000 } : {}),
      };
      const { tenant: _t, code: _c, redemptionCount: _r, ...changes } = assigned;
      const items = [
        code
          .patch({ tenant, code: candidate.code })
          .set({ ...changes, ownerKey: `T#${tenant}#USER#${userId}`, ownerSort: `BOOK#${book.bookId}#CODE#${candidate.code}` })
          .where((a, op) => `${op.eq(a.status, 'available')} AND ${op.eq(a.bookId, book.bookId)}`)
          .commit(),
        bookStatsShard
          .patch({ tenant, bookId: book.bookId, shard: candidate.shard })
          .add({ available: -1, assigned: 1 })
          .where(gateCondition(now, { requireActive: true }))
          .commit({ response: 'all_old' }),
      ];
      if (book.maxCodesPerUser !== undefined) {
        const cap = book.maxCodesPerUser;
        items.push(
          userBookHolding
            .upsert({ tenant, userId, bookId: book.bookId })
            .add({ held: 1 })
            .where((a, op) => `${op.notExists(a.held)} OR ${op.lt(a.held, cap)}`)
            .commit(),
        );
      }
      return items;
    },
    {
      onConditionFailed: (reasons: CancellationReason[]) => {
        if (failed(reasons, 1)) return gateError(reasons[1]!.item, ctx.now(), { forAssignment: true });
        if (failed(reasons, 2)) {
          return new AppError('USER_CODE_LIMIT_REACHED', `This user already holds ${book.maxCodesPerUser} code(s) of this book.`);
        }
        return onCodeTaken();
      },
      idempotency: { claim: idempotency, response: () => withLock(toCodeView(assigned!, book, ctx.now()), lock) },
    },
  );
  return assigned!;
}

/** Up to `limit` available codes of one shard, from a random point of its key space, wrapping around. */
async function pickFromShard(ctx: CoreContext, book: BookRecord, shard: number, limit: number): Promise<Candidate[]> {
  const partition = poolPartition(book.tenant, book.bookId, shard);
  const from = randomPoolSlot();
  const codePrefix = `T#${book.tenant}#CODE#`;
  // The pool index projects keys only: the code is read off the table key, the slot off the index key.
  const query = async (where: 'gte' | 'lt') => {
    const res: any = await ctx.store.code.query
      .pool({ poolPartition: partition })
      [where]({ poolSlot: from })
      .go({ limit, data: 'raw', ignoreOwnership: true, originalErr: true });
    return (res.data?.Items ?? []) as { pk: string; gsi1sk: string }[];
  };
  let items = await query('gte');
  if (!items.length) items = await query('lt');
  return items.map((i) => ({ code: i.pk.slice(codePrefix.length), shard, poolSlot: i.gsi1sk }));
}

function shuffled(n: number): number[] {
  const a = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

const isOpen = (gate: ReturnType<typeof gateOf>, now: number) =>
  gate.bookStatus === 'active' &&
  (gate.validFromMs === undefined || gate.validFromMs <= now) &&
  (gate.validUntilMs === undefined || gate.validUntilMs > now);

/**
 * The book of a claim, refused early when closed. The copy may be a second
 * old: an open one is re-checked by the transaction's gate condition anyway,
 * and a closed one is read again before the claim is refused on its word.
 */
async function loadOpenBook(ctx: CoreContext, tenant: string, bookId: string): Promise<BookRecord> {
  let book = await loadBookCached(ctx, tenant, bookId);
  if (isOpen(gateOf(book), ctx.now())) return book;
  book = await loadBookCached(ctx, tenant, bookId, { fresh: true });
  const gate = gateOf(book);
  if (!isOpen(gate, ctx.now())) throw gateError(gate, ctx.now(), { forAssignment: true });
  return book;
}

function lockRequest(book: BookRecord, input: { lock?: boolean; ttlSeconds?: number }) {
  return input.lock ? { lockId: randomUUID(), ttlSeconds: input.ttlSeconds ?? book.lockTtlSeconds } : undefined;
}

const withLock = (view: CodeView, lock: { lockId: string } | undefined): AssignResult => (lock ? { ...view, lockId: lock.lockId } : view);

/**
 * Assigns a random available code of a book. A random shard and a random
 * start key give a pick no one can predict from upload order; a lost race
 * picks again; BOOK_EXHAUSTED only once every shard's pool is empty.
 */
export async function assignRandomCode(
  ctx: CoreContext,
  actor: Actor,
  input: AssignInput,
  opts: { idempotency?: IdempotencyClaim } = {},
): Promise<AssignResult> {
  requireRole(actor, 'admin', 'service', 'user');
  const userId = resolveUserId(actor, input.userId, { required: true })!;
  const book = await loadOpenBook(ctx, actor.tenant, input.bookId);
  const lock = lockRequest(book, input);
  const lost = new Set<string>();
  const emptyShards = new Set<number>();
  // Candidates per query: enough that racing claimers rarely pick the same code.
  const spread = 8;

  for (let attempt = 0; attempt < ctx.config.CLAIM_ATTEMPTS; attempt++) {
    let candidates: Candidate[] = [];
    for (const shard of shuffled(book.poolShards)) {
      if (emptyShards.has(shard)) continue;
      const picked = await pickFromShard(ctx, book, shard, spread);
      if (!picked.length) {
        emptyShards.add(shard);
        continue;
      }
      candidates = picked.filter((c) => !lost.has(c.code));
      if (candidates.length) break;
    }
    if (!candidates.length) {
      if (emptyShards.size >= book.poolShards) throw new AppError('BOOK_EXHAUSTED', 'No codes are left in this book.');
      continue;
    }
    const candidate = candidates[randomInt(candidates.length)]!;
    try {
      const assigned = await commitAssignment(ctx, book, candidate, userId, lock, () => new LostRace(), opts.idempotency);
      return withLock(toCodeView(assigned, book, ctx.now()), lock);
    } catch (e) {
      if (!(e instanceof LostRace)) throw e;
      lost.add(candidate.code);
    }
  }
  throw new AppError('UNAVAILABLE', 'The book is under heavy contention; retry shortly.', { retryAfterSeconds: 1 });
}

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
  const { data } = await ctx.store.code.get({ tenant: actor.tenant, code }).go({ consistent: true });
  if (!data || (input.bookId !== undefined && data.bookId !== input.bookId)) throw codeNotFound(code);
  if (data.status !== 'available') throw new AppError('CODE_ALREADY_ASSIGNED', `Code ${code} is already assigned.`);
  const book = await loadOpenBook(ctx, actor.tenant, data.bookId);
  const lock = lockRequest(book, input);
  const assigned = await commitAssignment(
    ctx,
    book,
    { code, shard: data.shard, poolSlot: data.poolSlot },
    input.userId,
    lock,
    () => new AppError('CODE_ALREADY_ASSIGNED', `Code ${code} is already assigned.`),
    opts.idempotency,
  );
  return withLock(toCodeView(assigned, book, ctx.now()), lock);
}
