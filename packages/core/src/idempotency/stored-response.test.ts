import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decodeResponse, encodeResponse, PART_BYTES, splitParts, summarize } from './stored-response.ts';

// Pure functions of the record format; the DynamoDB side is tested over HTTP in test/idempotency-edges.test.ts.
describe('stored responses', () => {
  it('round-trips through gzip, and parts join back to the same bytes', () => {
    const body = { codes: Array.from({ length: 20_000 }, () => randomBytes(24).toString('base64url')) };
    const bytes = encodeResponse(body);
    const parts = splitParts(bytes);
    expect(parts.length).toBe(Math.ceil(bytes.length / PART_BYTES));
    expect(parts.every((p) => p.length <= PART_BYTES)).toBe(true);
    expect(decodeResponse(Buffer.concat(parts))).toEqual(body);
  });

  it('a summary keeps the longest prefix of each list that fits, and says how many entries it left out', () => {
    const body = { inserted: 5, duplicates: ['A-1'], invalid: Array.from({ length: 5000 }, () => ({ code: randomBytes(150).toString('base64'), reason: 'x' })) };
    const summary = summarize(body, 100_000) as any;
    expect(encodeResponse(summary).length).toBeLessThanOrEqual(100_000);
    expect(summary.inserted).toBe(5);
    expect(summary.duplicates).toEqual(['A-1']);
    expect(summary.invalid).toEqual(body.invalid.slice(0, summary.invalid.length));
    expect(summary.omitted).toEqual({ invalid: 5000 - summary.invalid.length });
    expect(summary.invalid.length).toBeGreaterThan(0);
  });

  it('a body that fits is its own summary', () => {
    expect(summarize({ a: [1, 2] }, 1000)).toEqual({ a: [1, 2] });
  });
});
