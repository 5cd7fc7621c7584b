import { z } from 'zod';
import { invalidCursor, packCursor, unpackCursor } from '../db/pagination.ts';

/**
 * Where a listing of a book's codes stopped: the shard partition it was in
 * and the last sort key it consumed there. Opaque to clients (base64url of
 * JSON). Tenant and book always come from the request, so a forged cursor can
 * move within the caller's own book at most; one that does not decode, names
 * another listing (status) or a shard the book does not have is a 400.
 */
export interface BookCodesCursor {
  /** The status filter the cursor was made for ('' for none): each reads its own index. */
  status: string;
  shard: number;
  /** Last sort key consumed in `shard` (a code in `byBook`, a pool slot in `pool`); absent: the shard's start. */
  after?: string;
}

const Wire = z
  .object({
    v: z.literal(1),
    f: z.string().max(16),
    s: z.number().int().min(0),
    // A code or a pool slot: the characters either may have, so nothing else reaches a key condition.
    a: z.string().regex(/^[A-Za-z0-9_-]{1,128}$/).optional(),
  })
  .strict();

export function encodeCursor(c: BookCodesCursor): string {
  return packCursor({ v: 1, f: c.status, s: c.shard, ...(c.after !== undefined ? { a: c.after } : {}) });
}

export function decodeCursor(raw: string, expect: { status: string; shards: number }): BookCodesCursor {
  const wire = unpackCursor(raw, Wire);
  if (wire.f !== expect.status) throw invalidCursor('made for another status filter');
  if (wire.s >= expect.shards) throw invalidCursor('not a cursor from this book');
  return { status: wire.f, shard: wire.s, ...(wire.a !== undefined ? { after: wire.a } : {}) };
}
