import { describe, expect, it } from 'vitest';
import type { CoreContext } from '../context.ts';
import { EMPTY_POOL_MEMO_MS, forgetEmptyPools, isKnownEmpty, isKnownSoldOut, poolGeneration, rememberEmptyShard } from './empty-pools.ts';

// Pure: the memo only reads the instance's clock. The claims that use it are test/claim-picks.test.ts.
function instance() {
  let now = 1_000_000;
  const ctx = { now: () => now } as CoreContext;
  const advance = (ms: number) => {
    now += ms;
  };
  return { ctx, advance };
}

describe('empty pool shards, per instance', () => {
  it('a shard seen empty is known empty for under a second, then forgotten', () => {
    const { ctx, advance } = instance();
    rememberEmptyShard(ctx, 't', 'b', 3, 0);
    expect(isKnownEmpty(ctx, 't', 'b', 3)).toBe(true);
    expect(isKnownEmpty(ctx, 't', 'b', 2)).toBe(false);
    advance(EMPTY_POOL_MEMO_MS - 1);
    expect(isKnownEmpty(ctx, 't', 'b', 3)).toBe(true);
    advance(1);
    expect(isKnownEmpty(ctx, 't', 'b', 3)).toBe(false);
    expect(EMPTY_POOL_MEMO_MS).toBeLessThan(1000);
  });

  it('a book is known sold out only while every one of its shards is known empty', () => {
    const { ctx, advance } = instance();
    for (const shard of [0, 1, 2]) rememberEmptyShard(ctx, 't', 'b', shard, 0);
    expect(isKnownSoldOut(ctx, 't', 'b', 4)).toBe(false);
    advance(500);
    rememberEmptyShard(ctx, 't', 'b', 3, 0);
    expect(isKnownSoldOut(ctx, 't', 'b', 4)).toBe(true);
    // The first three lapse first: the book is no longer known sold out, only shard 3 still empty.
    advance(EMPTY_POOL_MEMO_MS - 500);
    expect(isKnownSoldOut(ctx, 't', 'b', 4)).toBe(false);
    expect([0, 1, 2, 3].filter((shard) => isKnownEmpty(ctx, 't', 'b', shard))).toEqual([3]);
  });

  it('an upload on the instance forgets the book at once; other books and tenants keep theirs', () => {
    const { ctx } = instance();
    rememberEmptyShard(ctx, 't', 'b', 0, 0);
    rememberEmptyShard(ctx, 't', 'other', 0, 0);
    rememberEmptyShard(ctx, 'u', 'b', 0, 0);
    forgetEmptyPools(ctx, 't', 'b');
    expect(isKnownSoldOut(ctx, 't', 'b', 1)).toBe(false);
    expect(isKnownSoldOut(ctx, 't', 'other', 1)).toBe(true);
    expect(isKnownSoldOut(ctx, 'u', 'b', 1)).toBe(true);
  });

  it('an empty answer to a Query sent before an upload on this instance is not remembered', () => {
    const { ctx } = instance();
    const before = poolGeneration(ctx, 't', 'b');
    forgetEmptyPools(ctx, 't', 'b'); // an upload lands while the Query runs
    rememberEmptyShard(ctx, 't', 'b', 0, before);
    expect(isKnownEmpty(ctx, 't', 'b', 0)).toBe(false);
    rememberEmptyShard(ctx, 't', 'b', 0, poolGeneration(ctx, 't', 'b'));
    expect(isKnownEmpty(ctx, 't', 'b', 0)).toBe(true);
  });

  it('each instance knows only what it saw', () => {
    const a = instance();
    const b = instance();
    rememberEmptyShard(a.ctx, 't', 'b', 0, 0);
    expect(isKnownEmpty(b.ctx, 't', 'b', 0)).toBe(false);
  });
});
