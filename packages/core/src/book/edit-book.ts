import { setTimeout as sleep } from 'node:timers/promises';
import type { CoreContext } from '../context.ts';
import { requireRole, type Actor } from '../actor.ts';
import { AppError } from '../errors.ts';
import { transact, failed, backoffMs } from '../db/transact.ts';
import { where } from '../db/condition.ts';
import { refusalsOf, refusedBy } from '../db/transition.ts';
import { assertWindow, gateOf } from './gate.ts';
import { editAtVersion, regateShard } from './versions.ts';
import { bookVersion, toBook, type Book, type BookRecord, type UpdateBookInput } from './book.ts';
import { forgetCachedBook } from './load-book.ts';

export interface UpdateBookOptions {
  /** The versions the caller's copy may be (HTTP If-Match); any other current version is PRECONDITION_FAILED. */
  ifVersion?: number[];
}

const EDITABLE = ['name', 'description', 'validFrom', 'validUntil', 'status', 'lowStockThreshold'] as const;
const MAX_EDIT_ATTEMPTS = 8;

/** What an edit can refuse: a missing book, an If-Match the book is not at. Another edit getting in first is merged onto, not refused. */
export const updateBookRefusals = refusalsOf({
  runs: [editAtVersion, regateShard],
  handles: ['moved'],
  own: ['BOOK_NOT_FOUND', 'PRECONDITION_FAILED'],
});

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
      if (!refusedBy(editAtVersion, e)) throw e; // another edit committed between this one's read and its write
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

  const atVersion = { bookId, version: current.version };
  const atGate = { bookId, gateVersion: current.gateVersion };
  await transact(
    ctx.store,
    ({ book, bookStatsShard }) => {
      let bookUpdate: any = book.patch({ tenant, bookId }).set(set);
      if (remove.length) bookUpdate = bookUpdate.remove(remove);
      bookUpdate = bookUpdate.where(where(editAtVersion.condition(atVersion)));
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
            return u.where(where(regateShard.condition(atGate))).commit();
          })
        : [];
      return { book: bookUpdate.commit({ response: 'all_old' }), ...Object.fromEntries(shardUpdates.map((u, shard) => [`shard${shard}`, u])) };
    },
    {
      onConditionFailed: (reasons) => {
        if (failed(reasons, 'book')) return editAtVersion.refusal(reasons.book.item, atVersion);
        // The book was at the version read, so its shards must be at its gateVersion.
        return regateShard.refusal(null, atGate);
      },
    },
  );
  // This instance sees its own edit at once; others within BOOK_CACHE_MS.
  forgetCachedBook(ctx, tenant, bookId);
  return toBook(next);
}
