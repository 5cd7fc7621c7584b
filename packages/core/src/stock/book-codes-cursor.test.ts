import { describe, expect, it } from 'vitest';
import { decodeCursor, encodeCursor } from './book-codes-cursor.ts';
import { bookCodeStatus, toBookCodeRow } from './book-code-row.ts';

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
const field = (fn: () => unknown) => {
  try {
    fn();
  } catch (e: any) {
    return `${e.code} ${e.details?.[0]?.field}: ${e.details?.[0]?.reason}`;
  }
  return 'accepted';
};

describe('book codes cursor', () => {
  it('round-trips shard and position, with or without a position', () => {
    for (const c of [{ status: '', shard: 0 }, { status: 'assigned', shard: 15, after: 'BF-7K2M_QX9P' }, { status: 'available', shard: 3, after: '00ff12ab34cd56ef' }]) {
      expect(decodeCursor(encodeCursor(c), { status: c.status, shards: 16 })).toEqual(c);
    }
  });

  it('refuses what this listing did not make: garbage, another status, a shard the book lacks, a forged position', () => {
    const ok = encodeCursor({ status: '', shard: 1, after: 'ABC' });
    expect(field(() => decodeCursor('%%%', { status: '', shards: 16 }))).toBe('VALIDATION_FAILED cursor: not a cursor from this list');
    expect(field(() => decodeCursor(ok, { status: 'redeemed', shards: 16 }))).toBe('VALIDATION_FAILED cursor: made for another status filter');
    expect(field(() => decodeCursor(ok, { status: '', shards: 1 }))).toBe('VALIDATION_FAILED cursor: not a cursor from this book');
    for (const forged of [{ v: 1, f: '', s: 0, a: 'T#t2#CODE#X' }, { v: 1, f: '', s: 0, a: '' }, { v: 2, f: '', s: 0 }, { v: 1, f: '', s: 0.5 }, { v: 1, f: '', s: 0, pk: 'x' }, [1], null]) {
      expect(field(() => decodeCursor(b64(forged), { status: '', shards: 16 }))).toBe('VALIDATION_FAILED cursor: not a cursor from this list');
    }
  });
});

describe('a code seen from its book', () => {
  const base = { tenant: 't', code: 'C1', bookId: 'b', shard: 0, poolPartition: 'p', poolSlot: 's', redemptionCount: 0 };
  const now = Date.parse('2026-11-27T10:00:00Z');
  it('available, assigned with redemptions left (locked or not), redeemed with none left', () => {
    expect(bookCodeStatus({ ...base, status: 'available' }, now)).toBe('available');
    expect(bookCodeStatus({ ...base, status: 'assigned', maxRedemptions: 2, redemptionCount: 1 }, now)).toBe('assigned');
    expect(bookCodeStatus({ ...base, status: 'assigned', maxRedemptions: 2, redemptionCount: 1, lockId: 'l', lockExpiresAt: now + 1 }, now)).toBe('assigned');
    expect(bookCodeStatus({ ...base, status: 'assigned', maxRedemptions: 2, redemptionCount: 2 }, now)).toBe('redeemed');
    // A code assigned before caps were stored has one redemption.
    expect(bookCodeStatus({ ...base, status: 'assigned', redemptionCount: 1 }, now)).toBe('redeemed');
  });

  it('shows a lock only while it is held, and an available code the cap it will get', () => {
    const held = { ...base, status: 'assigned' as const, userId: 'u', assignedAt: 'a', maxRedemptions: 1, lockId: 'l' };
    expect(toBookCodeRow({ ...held, lockExpiresAt: now + 1000 }, { maxRedemptionsPerUser: 3 }, now).lockExpiresAt).toBe(new Date(now + 1000).toISOString());
    expect(toBookCodeRow({ ...held, lockExpiresAt: now }, { maxRedemptionsPerUser: 3 }, now).lockExpiresAt).toBeUndefined();
    expect(toBookCodeRow({ ...base, status: 'available' }, { maxRedemptionsPerUser: 3 }, now)).toEqual({
      code: 'C1', status: 'available', userId: null, assignedAt: null, redemptionCount: 0, maxRedemptions: 3,
    });
  });
});
