/** A page of a list the API filters as it reads: it may hold few matches, or none, and still have a cursor. */
interface ApiPage<T> {
  items: T[];
  nextCursor?: string | null;
}

/**
 * One page for the screen from such a list: follows the API's cursor from `cursor` until it has
 * `pageSize` items, the list ends, or it has made `maxRequests` requests (docs/book-codes.md,
 * docs/webhooks.md). `read` gets the cursor and how many items the page still wants.
 */
export async function readFilteredPage<T>(
  read: (cursor: string | undefined, wanted: number) => Promise<ApiPage<T>>,
  { cursor, pageSize, maxRequests }: { cursor: string | undefined; pageSize: number; maxRequests: number },
): Promise<{ items: T[]; nextCursor: string | null }> {
  const items: T[] = [];
  for (let n = 0; n < maxRequests; n++) {
    const page = await read(cursor, pageSize - items.length);
    items.push(...page.items);
    cursor = page.nextCursor ?? undefined;
    if (!cursor || items.length >= pageSize) break;
  }
  return { items, nextCursor: cursor ?? null };
}
