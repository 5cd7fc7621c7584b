import { randomUUID } from 'node:crypto';
import type { CoreContext } from '../context.ts';
import { requireRole, type Actor } from '../actor.ts';
import { AppError, validationFailed } from '../errors.ts';
import { transact } from '../db/transact.ts';
import { assertWindow, gateOf } from './gate.ts';
import { parsePattern, PatternError } from '../code-format/pattern.ts';
import { assertPatternForCheckChar } from '../code-format/check-char.ts';
import { idempotencyGuard, type IdempotencyClaim } from '../idempotency/run.ts';
import { DEFAULT_BOOK_SHARDS, shardsForClaimRate } from '../cost/shards.ts';
import { DEFAULT_LOCK_TTL_SECONDS, DEFAULT_MAX_REDEMPTIONS, toBook, type Book, type CreateBookInput } from './book.ts';

/**
 * Creates the book's N stats shards, then the book. Up to 100 shards and the
 * book do not fit one transaction (100 items), so the shards go first as
 * plain puts (1 WCU each, not 2): until the book exists nothing can reach
 * them, and if the book's write never happens they are unreachable leftovers
 * under a fresh UUID, never a book without its gate.
 */
export async function createBook(
  ctx: CoreContext,
  actor: Actor,
  input: CreateBookInput,
  opts: { idempotency?: IdempotencyClaim } = {},
): Promise<Book> {
  requireRole(actor, 'admin');
  assertWindow(input.validFrom, input.validUntil);
  if (input.codePattern) {
    try {
      assertPatternForCheckChar(parsePattern(input.codePattern), input.checkChar ?? false);
    } catch (e) {
      if (e instanceof PatternError) throw validationFailed([{ field: 'codePattern', reason: e.message }]);
      throw e;
    }
  }
  const now = new Date(ctx.now()).toISOString();
  const record = {
    tenant: actor.tenant,
    bookId: randomUUID(),
    name: input.name,
    description: input.description,
    validFrom: input.validFrom,
    validUntil: input.validUntil,
    maxRedemptionsPerUser: input.maxRedemptionsPerUser ?? DEFAULT_MAX_REDEMPTIONS,
    maxCodesPerUser: input.maxCodesPerUser,
    lockTtlSeconds: input.lockTtlSeconds ?? DEFAULT_LOCK_TTL_SECONDS,
    discount: input.discount,
    codePattern: input.codePattern?.trim().toUpperCase(),
    checkChar: input.checkChar,
    metadata: input.metadata,
    lowStockThreshold: input.lowStockThreshold,
    status: 'active' as const,
    poolShards: bookShards(input),
    createdAt: now,
    updatedAt: now,
  };
  const gate = gateOf(record);
  const shards = Array.from({ length: record.poolShards }, (_, shard) => ({ tenant: actor.tenant, bookId: record.bookId, shard, ...gate }));
  const { unprocessed } = await ctx.store.bookStatsShard.put(shards).go();
  if (unprocessed.length) throw new AppError('UNAVAILABLE', 'The book could not be created; retry shortly.', { retryAfterSeconds: 1 });
  await transact(
    ctx.store,
    ({ book }) => ({ book: book.create(record).commit() }),
    {
      // A fresh UUID cannot collide; if it ever did, a new attempt is the right answer.
      onConditionFailed: () => new Error('book id collision'),
      guard: idempotencyGuard(opts.idempotency, () => toBook(record)),
    },
  );
  return toBook(record);
}

/** Shards chosen at creation: as asked, sized for the expected claim rate, or the default. */
function bookShards(input: CreateBookInput): number {
  if (input.shards !== undefined && input.expectedClaimsPerSecond !== undefined) {
    throw validationFailed([{ field: 'shards', reason: 'give shards or expectedClaimsPerSecond, not both' }]);
  }
  if (input.shards !== undefined) return input.shards;
  if (input.expectedClaimsPerSecond !== undefined) return shardsForClaimRate(input.expectedClaimsPerSecond);
  return DEFAULT_BOOK_SHARDS;
}

