import type { CoreContext } from '../context.ts';
import type { ChangeConsumer, TableChange } from '../stream/change.ts';
import type { BookAlertKind } from '../entities/book-alert.ts';
import { loadBookCached } from '../book/load-book.ts';
import { where } from '../db/condition.ts';
import { conditionalWrite } from '../db/conditional-write.ts';
import { passRefusalsOf } from '../db/transition.ts';
import { fireAlert, rearmAlert } from './transitions.ts';

type AlertState = 'armed' | 'fired';

interface Watched {
  tenant: string;
  bookId: string;
  /** Available codes per stats shard, from the latest images seen. */
  shards: Map<number, number>;
  /** Claims seen in the last minute: commit time and how many. */
  claims: { at: number; n: number }[];
  alerts: Record<BookAlertKind, AlertState>;
}

const RATE_WINDOW_MS = 60_000;

/** Claims per minute over the last minute seen, and when `available` runs out at that pace. */
export function claimRate(claims: { at: number; n: number }[], now: number, available: number) {
  const recent = claims.filter((c) => c.at > now - RATE_WINDOW_MS);
  const count = recent.reduce((s, c) => s + c.n, 0);
  if (count === 0) return { claimRatePerMinute: 0, estimatedRunOutAt: undefined };
  // The span actually observed (a watcher that just started has seen less than a minute), at least a second.
  const span = Math.max(1000, now - Math.min(...recent.map((c) => c.at)));
  const perMs = count / span;
  return {
    claimRatePerMinute: Math.round(perMs * 60_000 * 100) / 100,
    estimatedRunOutAt: new Date(now + Math.round(available / perMs)).toISOString(),
  };
}

/**
 * Watches books' stock on the stream (their stats shards' changes) and fires
 * `book.low_stock` when available codes fall to the book's
 * `lowStockThreshold`, `book.exhausted` when they reach 0. Firing is one
 * conditional write to the book's alert item (entities/book-alert.ts), whose
 * own change becomes the event; it is re-armed only once stock rose above the
 * line again (codes uploaded). The sum of the shards comes from the images
 * the watcher has seen, confirmed by one consistent read before it fires, so
 * a claim costs the watcher no read at all.
 */
export function createStockWatch(ctx: CoreContext): ChangeConsumer {
  const books = new Map<string, Watched>();

  /** Available codes per shard: one consistent BatchGetItem of the book's N shard keys. */
  async function readShards(tenant: string, bookId: string): Promise<Map<number, number>> {
    const book = await loadBookCached(ctx, tenant, bookId);
    const keys = Array.from({ length: book.poolShards }, (_, shard) => ({ tenant, bookId, shard }));
    const { data, unprocessed } = await ctx.store.bookStatsShard.get(keys).go({ consistent: true });
    if (unprocessed.length) throw new Error('book stats shards could not be read'); // the batch is handed over again
    return new Map(data.map((s) => [s.shard as number, s.available as number]));
  }

  /**
   * The book's watch. A new one starts from a read of the shards, which is
   * now, later than the batch in hand: each shard the batch changes starts
   * instead from its first change's old image, so the sum walks through the
   * batch as the stock did.
   */
  async function watched(tenant: string, bookId: string, batch: TableChange[]): Promise<Watched> {
    const key = `${tenant}#${bookId}`;
    let w = books.get(key);
    if (!w) {
      const [shards, low, exhausted] = await Promise.all([
        readShards(tenant, bookId),
        ctx.store.bookAlert.get({ tenant, bookId, kind: 'low_stock' }).go({ consistent: true }),
        ctx.store.bookAlert.get({ tenant, bookId, kind: 'exhausted' }).go({ consistent: true }),
      ]);
      const started = new Set<number>();
      for (const c of batch) {
        const old = c.oldImage!;
        if (old.tenant !== tenant || old.bookId !== bookId || started.has(old.shard)) continue;
        started.add(old.shard);
        shards.set(old.shard, old.available ?? 0);
      }
      w = { tenant, bookId, shards, claims: [], alerts: { low_stock: low.data?.state ?? 'armed', exhausted: exhausted.data?.state ?? 'armed' } };
      if (books.size >= 10_000) books.clear(); // bound memory; a book seen again costs three reads
      books.set(key, w);
    }
    return w;
  }

  /**
   * Fires an alert at the crossing the images show (`available` then, at
   * commit time `at`), once a consistent read confirms the book is still
   * across the line (stock uploaded since cancels it). The alert carries the
   * stock at the crossing, not what is left by the time the watcher gets to it.
   */
  async function fire(w: Watched, kind: BookAlertKind, at: number, available: number, threshold: number | undefined, holds: (available: number) => boolean) {
    const truth = [...(await readShards(w.tenant, w.bookId)).values()].reduce((a, b) => a + b, 0);
    if (!holds(truth)) return;
    const rate = claimRate(w.claims, at, available);
    const alert = {
      tenant: w.tenant,
      bookId: w.bookId,
      kind,
      state: 'fired' as const,
      available,
      ...(kind === 'low_stock' ? { threshold, claimRatePerMinute: rate.claimRatePerMinute, estimatedRunOutAt: rate.estimatedRunOutAt } : {}),
      changedAt: new Date(at).toISOString(),
    };
    await conditionalWrite(
      ctx.store,
      (s) => s.bookAlert.upsert(alert).where(where(fireAlert.condition(undefined))),
      (item) => fireAlert.refusal(item, undefined),
    ).catch(passRefusalsOf(fireAlert)); // already fired by another watcher: once is the point
    w.alerts[kind] = 'fired';
  }

  async function rearm(w: Watched, kind: BookAlertKind, at: number) {
    await conditionalWrite(
      ctx.store,
      (s) =>
        s.bookAlert
          .patch({ tenant: w.tenant, bookId: w.bookId, kind })
          .set({ state: 'armed', changedAt: new Date(at).toISOString() })
          .where(where(rearmAlert.condition(undefined))),
      (item) => rearmAlert.refusal(item, undefined),
    ).catch(passRefusalsOf(rearmAlert)); // re-armed by another watcher already
    w.alerts[kind] = 'armed';
  }

  async function onShardChange(change: TableChange, batch: TableChange[]) {
    const next = change.newImage!;
    const prev = change.oldImage!;
    const w = await watched(next.tenant, next.bookId, batch);
    w.shards.set(next.shard, next.available);
    const claimed = (next.assigned ?? 0) - (prev.assigned ?? 0);
    if (claimed > 0) {
      w.claims.push({ at: change.at, n: claimed });
      while (w.claims[0] && w.claims[0].at <= change.at - RATE_WINDOW_MS) w.claims.shift();
    }
    const delta = (next.available ?? 0) - (prev.available ?? 0);
    if (delta === 0) return;
    const total = [...w.shards.values()].reduce((a, b) => a + b, 0);
    const threshold = (await loadBookCached(ctx, w.tenant, w.bookId).catch(() => undefined))?.lowStockThreshold;
    if (delta < 0) {
      if (threshold !== undefined && total <= threshold && w.alerts.low_stock === 'armed') {
        await fire(w, 'low_stock', change.at, total, threshold, (a) => a <= threshold);
      }
      if (total === 0 && w.alerts.exhausted === 'armed') await fire(w, 'exhausted', change.at, 0, undefined, (a) => a === 0);
    } else {
      if (w.alerts.low_stock === 'fired' && (threshold === undefined || total > threshold)) await rearm(w, 'low_stock', change.at);
      if (w.alerts.exhausted === 'fired' && total > 0) await rearm(w, 'exhausted', change.at);
    }
  }

  return {
    name: 'stock-watch',
    async handle(changes) {
      const batch = changes.filter((c) => c.eventName === 'MODIFY' && c.newImage?.__edb_e__ === 'bookStatsShard');
      for (const change of batch) await onShardChange(change, batch);
    },
  };
}
