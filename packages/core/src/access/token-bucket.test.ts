import { describe, expect, it } from 'vitest';
import { TokenBuckets } from './token-bucket.ts';

describe('TokenBuckets', () => {
  it('grants the burst, then refuses with the seconds until the next token, then refills at the rate', () => {
    const b = new TokenBuckets(0.5, 3);
    expect([0, 1, 2].map(() => b.take('a', 0))).toEqual([0, 0, 0]);
    expect(b.take('a', 0)).toBe(2);
    expect(b.take('b', 0)).toBe(0); // keys are independent
    expect(b.take('a', 1000)).toBe(1); // half a token after 1 s
    expect(b.take('a', 2000)).toBe(0);
    expect(b.take('a', 100_000)).toBe(0); // refilled, but never above the burst
    expect([0, 1].map(() => b.take('a', 100_000))).toEqual([0, 0]);
    expect(b.take('a', 100_000)).toBe(2);
  });

  it('forgets every key past its bound rather than growing without limit', () => {
    const b = new TokenBuckets(1, 1, 2);
    b.take('a', 0);
    b.take('b', 0);
    expect(b.take('a', 0)).toBe(1);
    b.take('c', 0); // third key: the map is cleared first
    expect(b.take('a', 0)).toBe(0);
  });
});
