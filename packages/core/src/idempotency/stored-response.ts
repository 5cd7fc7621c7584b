import { gunzipSync, gzipSync } from 'node:zlib';

/**
 * How a response is kept for replays (docs/edges.md, "Idempotency records").
 * DynamoDB refuses an item over 400 KB, so the JSON is gzipped into a binary
 * attribute; what still does not fit in one item is cut into parts of
 * PART_BYTES, each its own item under the record's partition key.
 */
export const INLINE_BYTES = 300_000;
export const PART_BYTES = 350_000;
/** 16 parts hold 5.6 MB of gzip: four times the largest response any keyed route can give (~1.3 MB of JSON). */
export const MAX_PARTS = 16;

export const encodeResponse = (body: unknown): Uint8Array => gzipSync(JSON.stringify(body));
export const decodeResponse = (bytes: Uint8Array): unknown => JSON.parse(gunzipSync(bytes).toString('utf8'));

export function splitParts(bytes: Uint8Array): Uint8Array[] {
  const parts: Uint8Array[] = [];
  for (let at = 0; at < bytes.length; at += PART_BYTES) parts.push(bytes.subarray(at, at + PART_BYTES));
  return parts;
}

/**
 * The documented summary kept when even the parts cannot hold a response
 * (or a one-transaction record cannot): every top-level list is cut to the
 * longest prefix that fits, and `omitted` says how many entries each lost.
 * No route can produce such a response today; this keeps "never a 5xx, never
 * a stuck key" true if one ever does.
 */
export function summarize(body: unknown, limitBytes: number): unknown {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return { omitted: { response: 1 } };
  const record = body as Record<string, unknown>;
  const lists = Object.keys(record).filter((k) => Array.isArray(record[k]));
  let keep = Math.max(0, ...lists.map((k) => (record[k] as unknown[]).length));
  for (;;) {
    const omitted: Record<string, number> = {};
    const cut: Record<string, unknown> = { ...record };
    for (const k of lists) {
      const list = record[k] as unknown[];
      if (list.length > keep) {
        cut[k] = list.slice(0, keep);
        omitted[k] = list.length - keep;
      }
    }
    const summary = Object.keys(omitted).length ? { ...cut, omitted } : cut;
    if (keep === 0 || encodeResponse(summary).length <= limitBytes) return summary;
    keep = Math.floor(keep / 2);
  }
}
