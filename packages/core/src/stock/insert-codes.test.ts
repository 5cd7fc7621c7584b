import { describe, expect, it } from 'vitest';
import { MAX_TRANSACTION_ITEMS, planInsert } from './insert-codes.ts';

// Pure: how an upload is cut into transactions. The database side (conditional puts, counters
// in the same transaction, overlapping uploads) is test/uploads.test.ts.

const codes = (n: number) => Array.from({ length: n }, (_, i) => `C-${i}`);
const itemsOf = (tx: { shard: number }[]) => tx.length + new Set(tx.map((p) => p.shard)).size;

describe('planInsert', () => {
  it.each([1, 7, 50, 84, 85, 99, 100, 500, 1000, 1601, 5000])('%i codes: each once, shards within one of each other, at most 100 items a transaction', (n) => {
    for (const shards of [1, 3, 16, 64]) {
      for (const start of [0, 5 % shards, shards - 1]) {
        const plan = planInsert(codes(n), shards, start);
        const placed = plan.flat();
        expect(placed.map((p) => p.code).sort()).toEqual(codes(n).sort());
        for (const tx of plan) expect(itemsOf(tx)).toBeLessThanOrEqual(MAX_TRANSACTION_ITEMS);
        const perShard = Array.from({ length: shards }, (_, s) => placed.filter((p) => p.shard === s).length);
        expect(Math.max(...perShard) - Math.min(...perShard)).toBeLessThanOrEqual(1);
      }
    }
  });

  it('a large upload spends almost every item on codes: one or two counters a transaction', () => {
    const plan = planInsert(codes(5000), 16, 3);
    for (const tx of plan) expect(new Set(tx.map((p) => p.shard)).size).toBeLessThanOrEqual(2);
    const codesPerTransaction = 5000 / plan.length;
    expect(codesPerTransaction).toBeGreaterThan(97);
    // Spread over all 16 shards, every transaction would carry 16 counters: 84 codes.
    expect(plan.length).toBeLessThan(Math.ceil(5000 / 84));
  });

  it('a small upload is one transaction, over as many shards as it has codes', () => {
    const plan = planInsert(codes(50), 16, 0);
    expect(plan).toHaveLength(1);
    expect(new Set(plan[0]!.map((p) => p.shard)).size).toBe(16);
  });

  it('transactions that run side by side touch different counters', () => {
    const plan = planInsert(codes(5000), 16, 0);
    // The first four (what an upload runs at once) share no shard.
    const shards = plan.slice(0, 4).map((tx) => new Set(tx.map((p) => p.shard)));
    for (let i = 0; i < shards.length; i++) {
      for (let j = i + 1; j < shards.length; j++) expect([...shards[i]!].filter((s) => shards[j]!.has(s))).toEqual([]);
    }
  });

  it('the random start spreads the odd codes over the shards', () => {
    const plan = planInsert(codes(17), 16, 9);
    const perShard = Array.from({ length: 16 }, (_, s) => plan.flat().filter((p) => p.shard === s).length);
    expect(perShard[9]).toBe(2);
    expect(perShard.filter((n) => n === 1)).toHaveLength(15);
  });
});
