import { createConversions } from 'electrodb';
import { randomUUID } from 'node:crypto';
import type { CoreContext } from '../context.ts';
import { requireRole, type Actor } from '../actor.ts';
import { setTimeout as sleep } from 'node:timers/promises';
import { AppError, validationFailed } from '../errors.ts';
import { transact, failed, backoffMs } from '../db/transact.ts';
import { assertWindow, gateOf } from './gate.ts';
import { parsePattern, PatternError } from '../code-format/pattern.ts';
import { assertPatternForCheckChar } from '../code-format/check-char.ts';
import { DEFAULT_MAX_REDEMPTIONS } from '../code/state.ts';
import { idempotencyGuard, type IdempotencyClaim } from '../idempotency/run.ts';
import { readPage } from '../db/pagination.ts';
import { DEFAULT_BOOK_SHARDS, shardsForClaimRate } from '../cost/shards.ts';

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
  /** Available codes at which `book.low_stock` fires. */
  lowStockThreshold?: number;
  /** Stats and pool shards; at most one of `shards` and `expectedClaimsPerSecond` (cost/shards.ts). */
  shards?: number;
  expectedClaimsPerSecond?: number;
}

export interface UpdateBookInput {
  name?: string;
  description?: string | null;
  validFrom?: string | null;
  validUntil?: string | null;
  status?: 'active' | 'paused';
  lowStockThreshold?: number | null;
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
  lowStockThreshold?: number;
  status: 'active' | 'paused';
  /** Stats and pool shards, fixed at creation. */
  shards: number;
  createdAt: string;
  updatedAt: string;
  /** Bumped by every edit; absent on a book never edited (version 0). The API's ETag. */
  version?: number;
}

export type BookRecord = Book & { tenant: string; bookId: string; poolShards: number; gateVersion?: number };

// The gate rules live with the book's concept; re-exported for the code paths that import them from here.
export { assertWindow, gateOf } from './gate.ts';

export const DEFAULT_LOCK_TTL_SECONDS = 300;

export function toBook(record: Record<string, any>): Book {
  const { tenant: _t, bookId, poolShards, gateVersion: _g, ...rest } = record;
  return { id: bookId, ...rest, shards: poolShards } as Book;
}

/** Reads a book of the caller's tenant; BOOK_NOT_FOUND otherwise. */
export async function loadBook(ctx: CoreContext, tenant: string, bookId: string): Promise<BookRecord> {
  const { data } = await ctx.store.book.get({ tenant, bookId }).go({ originalErr: true }); // no stack trace built per call (db/transact.ts)
  if (!data) throw new AppError('BOOK_NOT_FOUND', `No book ${bookId}.`);
  return { ...(data as any), id: data.bookId, shards: data.poolShards };
}

/** How long an instance reuses a book it read for the claim/lock/redeem path. */
export const BOOK_CACHE_MS = 1000;
const bookCaches = new WeakMap<CoreContext, Map<string, { at: number; book: BookRecord }>>();
/** Reads of a book in flight per instance: claims arriving while one runs share it instead of each reading. */
const bookReads = new WeakMap<CoreContext, Map<string, Promise<BookRecord>>>();

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
  let reads = bookReads.get(ctx);
  if (!reads) bookReads.set(ctx, (reads = new Map()));
  const key = `${tenant}#${bookId}`;
  const hit = cache.get(key);
  if (hit && !options.fresh && ctx.now() - hit.at < BOOK_CACHE_MS) return hit.book;
  const running = reads.get(key);
  if (running && !options.fresh) return running;
  const read = loadBook(ctx, tenant, bookId);
  reads.set(key, read);
  try {
    const book = await read;
    // Only the newest read fills the copy: an edit on this instance drops a read begun before it.
    if (reads.get(key) === read) {
      if (cache.size >= 10_000) cache.clear(); // bound memory; a miss costs one read
      cache.set(key, { at: ctx.now(), book });
    }
    return book;
  } finally {
    if (reads.get(key) === read) reads.delete(key);
  }
}

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

/** The book's counters: one BatchGetItem of its N shard keys (N ≤ 100), summed. */
export async function readBookStats(ctx: CoreContext, book: Pick<BookRecord, 'tenant' | 'bookId' | 'poolShards'>): Promise<BookStats> {
  const keys = Array.from({ length: book.poolShards }, (_, shard) => ({ tenant: book.tenant, bookId: book.bookId, shard }));
  const { data, unprocessed } = await ctx.store.bookStatsShard.get(keys).go();
  if (unprocessed.length) throw new AppError('UNAVAILABLE', 'The book statistics could not be read; retry shortly.', { retryAfterSeconds: 1 });
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
  const record = await loadBook(ctx, actor.tenant, bookId);
  return { ...toBook(record), stats: await readBookStats(ctx, record) };
}

export async function listBooks(
  ctx: CoreContext,
  actor: Actor,
  page: { limit?: number; cursor?: string | null },
): Promise<{ items: Book[]; nextCursor: string | null }> {
  requireRole(actor, 'admin');
  const { data, cursor } = await readPage(
    page.limit ?? 50,
    (limit) => ctx.store.book.query.byTenant({ tenant: actor.tenant }).go({ limit, cursor: page.cursor ?? null, order: 'desc' }),
    (book) => createConversions(ctx.store.book).byAccessPattern.byTenant.fromComposite.toCursor(book),
  );
  return { items: data.map(toBook), nextCursor: cursor };
}

/** The version an ETag names: absent (never edited) is 0. */
export const bookVersion = (book: { version?: number }) => book.version ?? 0;

export interface UpdateBookOptions {
  /** The versions the caller's copy may be (HTTP If-Match); any other current version is PRECONDITION_FAILED. */
  ifVersion?: number[];
}

const EDITABLE = ['name', 'description', 'validFrom', 'validUntil', 'status', 'lowStockThreshold'] as const;
const MAX_EDIT_ATTEMPTS = 8;
/** Another edit committed between this one's read and its write. */
class BookMoved extends Error {}

/**
 * Renames, changes validity, pauses or resumes: optimistically. The edit is
 * applied to the book as read, the window rule checked on that merged result,
 * and the transaction conditioned on the book's version (and, when the gate
 * changes, on every shard's gate copy being the one the book says it wrote).
 * When another edit got in first, the book is read again and the edit merged
 * onto it, so two edits of different fields both apply. With `ifVersion` the
 * caller asked for exactly that version: a moved book is PRECONDITION_FAILED.
 */
export async function updateBook(
  ctx: CoreContext,
  actor: Actor,
  bookId: string,
  input: UpdateBookInput,
  options: UpdateBookOptions = {},
): Promise<Book> {
  requireRole(actor, 'admin');
  for (let attempt = 0; ; attempt++) {
    const { data } = await ctx.store.book.get({ tenant: actor.tenant, bookId }).go({ consistent: true });
    if (!data) throw new AppError('BOOK_NOT_FOUND', `No book ${bookId}.`);
    const current = data as unknown as BookRecord;
    const version = bookVersion(current);
    if (options.ifVersion && !options.ifVersion.includes(version)) {
      throw new AppError('PRECONDITION_FAILED', `The book is at version ${version}, not the one If-Match names; read it again.`, {
        details: { etag: `"${version}"` },
      });
    }
    try {
      return await writeEdit(ctx, actor.tenant, current, input);
    } catch (e) {
      if (!(e instanceof BookMoved)) throw e;
      if (options.ifVersion && attempt === 0) continue; // re-read once, to answer 412 with the version that won
      if (attempt + 1 >= MAX_EDIT_ATTEMPTS) {
        throw new AppError('UNAVAILABLE', 'The book is being edited by others; retry shortly.', { retryAfterSeconds: 1 });
      }
      await sleep(backoffMs(attempt));
    }
  }
}

async function writeEdit(ctx: CoreContext, tenant: string, current: BookRecord, input: UpdateBookInput): Promise<Book> {
  const { bookId } = current;
  const version = bookVersion(current);
  const next = { ...current } as Record<string, any>;
  const set: Record<string, unknown> = {};
  const remove: string[] = [];
  for (const field of EDITABLE) {
    if (input[field] === undefined) continue;
    if (input[field] === null) {
      delete next[field];
      remove.push(field);
    } else {
      next[field] = input[field];
      set[field] = input[field];
    }
  }
  assertWindow(next.validFrom, next.validUntil);
  const gate = gateOf(next as any);
  const was = gateOf(current);
  const gateChanged = gate.bookStatus !== was.bookStatus || gate.validFromMs !== was.validFromMs || gate.validUntilMs !== was.validUntilMs;
  next.updatedAt = new Date(ctx.now()).toISOString();
  next.version = version + 1;
  if (gateChanged) next.gateVersion = next.version;
  Object.assign(set, { updatedAt: next.updatedAt, version: next.version, ...(gateChanged ? { gateVersion: next.version } : {}) });

  // Absent means never written: a book from before versions, or shards never re-gated.
  const isAt = (value: number | undefined) => (attr: any, op: any) => (value === undefined ? op.notExists(attr) : op.eq(attr, value));
  await transact(
    ctx.store,
    ({ book, bookStatsShard }) => {
      let bookUpdate: any = book.patch({ tenant, bookId }).set(set);
      if (remove.length) bookUpdate = bookUpdate.remove(remove);
      bookUpdate = bookUpdate.where((a: any, op: any) => isAt(current.version)(a.version, op));
      const shardUpdates = gateChanged
        ? Array.from({ length: current.poolShards }, (_, shard) => {
            let u: any = bookStatsShard.patch({ tenant, bookId, shard }).set({ bookStatus: gate.bookStatus, gateVersion: next.version });
            const setWindow: Record<string, number> = {};
            const removeWindow: string[] = [];
            if (gate.validFromMs === undefined) removeWindow.push('validFromMs');
            else setWindow.validFromMs = gate.validFromMs;
            if (gate.validUntilMs === undefined) removeWindow.push('validUntilMs');
            else setWindow.validUntilMs = gate.validUntilMs;
            if (Object.keys(setWindow).length) u = u.set(setWindow);
            if (removeWindow.length) u = u.remove(removeWindow);
            return u.where((a: any, op: any) => isAt(current.gateVersion)(a.gateVersion, op)).commit();
          })
        : [];
      return { book: bookUpdate.commit({ response: 'all_old' }), ...Object.fromEntries(shardUpdates.map((u, shard) => [`shard${shard}`, u])) };
    },
    {
      onConditionFailed: (reasons) => {
        if (failed(reasons, 'book')) return reasons.book.item ? new BookMoved() : new AppError('BOOK_NOT_FOUND', `No book ${bookId}.`);
        // The book was at the version read, so its shards must be at its gateVersion: anything else is a broken invariant.
        return new Error(`book ${bookId}: a stats shard's gate copy is not the one the book wrote`);
      },
    },
  );
  // This instance sees its own edit at once; others within BOOK_CACHE_MS.
  bookCaches.get(ctx)?.delete(`${tenant}#${bookId}`);
  bookReads.get(ctx)?.delete(`${tenant}#${bookId}`);
  return toBook(next);
}
