import { z } from 'zod';
import type { Store } from '../entities/index.ts';
import { packCursor, unpackCursor } from '../db/pagination.ts';
import { toHistoryEntry, type HistoryEntry } from './history.ts';

/**
 * A code's history a page at a time, oldest first. A code may change for as
 * long as it has redemptions left (up to 1,000,000 of them), so its history
 * is read in pages of at most HISTORY_PAGE.max entries: one Query of the
 * code's `HIST#` items after the cursor's sequence number, `limit + 1` items
 * (the extra one only says whether there is more). The cursor is the last
 * sequence number read, opaque to clients; code and tenant always come from
 * the request, so a forged one can only move within the caller's own code.
 */
export const HISTORY_PAGE = { default: 100, max: 1000 } as const;

const Wire = z.object({ v: z.literal(1), s: z.number().int().min(0).max(9_999_999_999) }).strict();

const encode = (seq: number) => packCursor({ v: 1, s: seq });

const decode = (raw: string): number => unpackCursor(raw, Wire).s;

export async function readHistoryPage(
  store: Store,
  tenant: string,
  code: string,
  page: { limit?: number; cursor?: string },
): Promise<{ history: HistoryEntry[]; nextCursor: string | null }> {
  const limit = Math.min(page.limit ?? HISTORY_PAGE.default, HISTORY_PAGE.max);
  const after = page.cursor === undefined ? undefined : decode(page.cursor);
  const q = store.codeHistory.query.byCode({ tenant, code });
  const { data } = await (after === undefined ? q : q.gt({ seq: after })).go({ limit: limit + 1 });
  const entries = data.slice(0, limit);
  return {
    history: entries.map((d) => toHistoryEntry(d as HistoryEntry)),
    nextCursor: data.length > limit ? encode(entries[entries.length - 1]!.seq) : null,
  };
}
