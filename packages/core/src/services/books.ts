import { randomUUID } from 'node:crypto';
import type { CoreContext } from '../context.ts';
import { requireRole, type Actor } from '../actor.ts';
import { AppError, validationFailed } from '../errors.ts';
import { transact, failed } from '../db/transact.ts';
import { gateOf } from '../code/gate.ts';
import { DEFAULT_MAX_REDEMPTIONS } from '../code/state.ts';
import { idempotencyGuard } from './idempotency.ts';
import { parsePattern, PatternError } from '../codes/pattern.ts';
import { assertPatternForCheckChar } from '../codes/check-char.ts';
import type { IdempotencyClaim } from './idempotency.ts';
import { readPage } from './pagination.ts';

export interface Discount {
  type: 'percentage' | 'fixed';
  value: number;
  currency?: string;
}

export interface CreateBookInput {
  name: string;
  description?: string;
  validFrom?: string;
  validUntil?: string;
  maxRedemptionsPerUser?: number;
  maxCodesPerUser?: number;
  lockTtlSeconds?: number;
  discount?: Discount;
  codePattern?: string;
  /** Generated codes get a check character (codes/check-char.ts). */
  checkChar?: boolean;
  metadata?: Record<string, unknown>;
}

export interface UpdateBookInput {
  name?: string;
  description?: string | null;
  validFrom?: string | null;
  validUntil?: string | null;
  status?: 'active' | 'paused';
}

export interface BookStats {
  codes: number;
  available: number;
  assigned: number;
  redeemed: number;
}

export interface Book {
  id: string;
  name: string;
  description?: string;
  validFrom?: string;
  validUntil?: string;
  maxRedemptionsPerUser: number;
  maxCodesPerUser?: number;
  lockTtlSeconds: number;
  discount?: Discount;
  codePattern?: string;
  checkChar?: boolean;
  metadata?: Record<string, unknown>;
  status: 'active' | 'paused';
  createdAt: string;
  updatedAt: string;
}

export type BookRecord = Book & { tenant: string; bookId: string; poolShards: number };

export const DEFAULT_LOCK_TTL_SECONDS = 300;

const toMs = (iso: string | undefined | null) => (iso ? Date.parse(iso) : undefined);

function assertWindow(validFrom: string | undefined | null, validUntil: string | undefined | null) {
  const from = toMs(validFrom);
  const until = toMs(validUntil);
  if (from !== undefined && until !== undefined && from >= until) {
    throw validationFailed([{ field: 'validUntil', reason: 'must be after validFrom' }]);
  }
}

export function toBook(record: Record<string, any>): Book {
  const { tenant: _t, bookId, poolShards: _p, ...rest } = record;
  return { id: bookId, ...rest } as Book;
}

/** Reads a book of the caller's tenant; BOOK_NOT_FOUND otherwise. */
export async function loadBook(ctx: CoreContext, tenant: string, bookId: string): Promise<BookRecord> {
  const { data } = await ctx.store.book.get({ tenant, bookId }).go();
  if (!data) throw new AppError('BOOK_NOT_FOUND', `No book ${bookId}.`);
  return { ...(data as any), id: data.bookId };
}

/** How long an instance reuses a book it read for the claim/lock/redeem path. */
export const BOOK_CACHE_MS = 1000;
const bookCaches = new WeakMap<CoreContext, Map<string, { at: number; book: BookRecord }>>();

/**
 * A book for the hot path (claim, lock, redeem), reused by this instance for
 * up to a second. Every claim of a flash sale needs its book, and one item
 * read by every request is a hot key; what the hot path takes from the book
 * is either immutable (caps, lock TTL, shards) or re-checked by the write
 * itself (the gate on the stats shards), so a second-old copy is safe.
 * `fresh` reads through (and refreshes the copy).
 */
export async function loadBookCached(ctx: CoreContext, tenant: string, bookId: string, options: { fresh?: boolean } = {}): Promise<BookRecord> {
  let cache = bookCaches.get(ctx);
  if (!cache) bookCaches.set(ctx, (cache = new Map()));
  const key = `${tenant}#${bookId}`;
  const hit = cache.get(key);
  if (hit && !options.fresh && ctx.now() - hit.at < BOOK_CACHE_MS) return hit.book;
  const book = await loadBook(ctx, tenant, bookId);
  if (cache.size >= 10_000) cache.clear(); // bound memory; a miss costs one read
  cache.set(key, { at: ctx.now(), book });
  return book;
}

export { gateOf };

/** Creates the book and its N stats shards in one transaction, so a book never exists without its gate. */
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
    status: 'active' as const,
    poolShards: ctx.config.POOL_SHARDS,
    createdAt: now,
    updatedAt: now,
  };
  const gate = gateOf(record);
  await transact(
    ctx.store,
    ({ book, bookStatsShard }) => ({
      book: book.create(record).commit(),
      ...Object.fromEntries(
        Array.from({ length: record.poolShards }, (_, shard) => [
          `shard${shard}`,
          bookStatsShard.create({ tenant: actor.tenant, bookId: record.bookId, shard, ...gate }).commit(),
        ]),
      ),
    }),
    {
      // A fresh UUID cannot collide; if it ever did, a new attempt is the right answer.
      onConditionFailed: () => new Error('book id collision'),
      guard: idempotencyGuard(opts.idempotency, () => toBook(record)),
    },
  );
  return toBook(record);
}

export async function readBookStats(ctx: CoreContext, tenant: string, bookId: string): Promise<BookStats> {
  const { data } = await ctx.store.bookStatsShard.query.byBook({ tenant, bookId }).go({ pages: 'all' });
  const stats: BookStats = { codes: 0, available: 0, assigned: 0, redeemed: 0 };
  for (const s of data) {
    stats.codes += s.codes;
    stats.available += s.available;
    stats.assigned += s.assigned;
    stats.redeemed += s.redeemed;
  }
  return stats;
}

export async function getBook(ctx: CoreContext, actor: Actor, bookId: string): Promise<Book & { stats: BookStats }> {
  requireRole(actor, 'admin');
  const [record, stats] = await Promise.all([loadBook(ctx, actor.tenant, bookId), readBookStats(ctx, actor.tenant, bookId)]);
  return { ...toBook(record), stats };
}

export async function listBooks(
  ctx: CoreContext,
  actor: Actor,
  page: { limit?: number; cursor?: string | null },
): Promise<{ items: Book[]; nextCursor: string | null }> {
  requireRole(actor, 'admin');
  const { data, cursor } = await readPage(() =>
    ctx.store.book.query.byTenant({ tenant: actor.tenant }).go({ limit: page.limit ?? 50, cursor: page.cursor ?? null, order: 'desc' }),
  );
  return { items: data.map(toBook), nextCursor: cursor };
}

/**
 * Renames, changes validity, pauses or resumes. The book and every shard's
 * copy of the gate change in one transaction, each conditioned on existing.
 */
export async function updateBook(ctx: CoreContext, actor: Actor, bookId: string, input: UpdateBookInput): Promise<Book> {
  requireRole(actor, 'admin');
  const current = await loadBook(ctx, actor.tenant, bookId);
  const next = { ...current } as Record<string, any>;
  for (const [k, v] of Object.entries(input)) if (v !== undefined) next[k] = v ?? undefined;
  assertWindow(next.validFrom, next.validUntil);
  next.updatedAt = new Date(ctx.now()).toISOString();

  const set: Record<string, unknown> = { updatedAt: next.updatedAt };
  const remove: string[] = [];
  for (const field of ['name', 'description', 'validFrom', 'validUntil', 'status'] as const) {
    if (!(field in input)) continue;
    if (input[field] === null) remove.push(field);
    else set[field] = input[field];
  }
  const gate = gateOf(next as any);
  const gateChanged = 'validFrom' in input || 'validUntil' in input || 'status' in input;

  await transact(
    ctx.store,
    ({ book, bookStatsShard }) => {
      let bookUpdate: any = book.patch({ tenant: actor.tenant, bookId }).set(set);
      if (remove.length) bookUpdate = bookUpdate.remove(remove);
      const shardUpdates = gateChanged
        ? Array.from({ length: current.poolShards }, (_, shard) => {
            let u: any = bookStatsShard.patch({ tenant: actor.tenant, bookId, shard }).set({ bookStatus: gate.bookStatus });
            const setWindow: Record<string, number> = {};
            const removeWindow: string[] = [];
            if (gate.validFromMs === undefined) removeWindow.push('validFromMs');
            else setWindow.validFromMs = gate.validFromMs;
            if (gate.validUntilMs === undefined) removeWindow.push('validUntilMs');
            else setWindow.validUntilMs = gate.validUntilMs;
            u = u.set(setWindow);
            if (removeWindow.length) u = u.remove(removeWindow);
            return u.commit();
          })
        : [];
      return { book: bookUpdate.commit(), ...Object.fromEntries(shardUpdates.map((u, shard) => [`shard${shard}`, u])) };
    },
    {
      onConditionFailed: (reasons) =>
        failed(reasons, 'book') ? new AppError('BOOK_NOT_FOUND', `No book ${bookId}.`) : new Error('book shard missing'),
    },
  );
  // This instance sees its own edit at once; others within BOOK_CACHE_MS.
  bookCaches.get(ctx)?.delete(`${actor.tenant}#${bookId}`);
  return toBook(next);
}
