import type { z } from 'zod';
import { AppError } from '../errors.ts';

/** A cursor the list refuses: a 400 on the `cursor` field saying why, never a 500. */
export const invalidCursor = (reason = 'not a cursor from this list') =>
  new AppError('VALIDATION_FAILED', 'The cursor is not valid for this list.', { details: [{ field: 'cursor', reason }] });

/** A list's own cursor, opaque to clients: base64url of a small JSON object (a version and where the page stopped). */
export const packCursor = (wire: object) => Buffer.from(JSON.stringify(wire)).toString('base64url');

/**
 * What `packCursor` packed, if `raw` is one of this list's cursors (`wire` its exact shape);
 * garbage, another list's cursor or a forged one is `invalidCursor()`.
 */
export function unpackCursor<Wire extends z.ZodType>(raw: string, wire: Wire): z.output<Wire> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
  } catch {
    throw invalidCursor();
  }
  const result = wire.safeParse(parsed);
  if (!result.success) throw invalidCursor();
  return result.data;
}

/** What an ElectroDB query answers: items, and a cursor when DynamoDB stopped before the end. */
export interface RawPage<T> {
  data: T[];
  cursor: string | null;
}

/**
 * Runs one page of a list of at most `limit` items. It reads `limit + 1`: the extra item only
 * says that another page exists, so a last page holding exactly `limit` items answers
 * `cursor: null` instead of sending the client for an empty page. When there is more, the
 * cursor is the key of the page's last item, as DynamoDB itself would have returned it.
 *
 * A cursor is opaque to clients; one that is not from this list (garbage, or forged to point
 * elsewhere) is a 400, never a 500.
 */
export async function readPage<T>(
  limit: number,
  query: (limit: number) => Promise<RawPage<T>>,
  cursorAfter: (item: T) => string,
): Promise<RawPage<T>> {
  let page: RawPage<T>;
  try {
    page = await query(limit + 1);
  } catch (e) {
    const name = (e as { name?: string }).name;
    if (name === 'ElectroError' || name === 'ValidationException' || (e as { cause?: { name?: string } }).cause?.name === 'ValidationException') {
      throw invalidCursor();
    }
    throw e;
  }
  if (page.data.length <= limit) return page;
  const data = page.data.slice(0, limit);
  return { data, cursor: cursorAfter(data[limit - 1]!) };
}
