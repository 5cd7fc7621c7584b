import { ACTIVITY_INTERVALS, bucketStart } from '@coupons/core';

const TYPES = ['assigned', 'locked', 'unlocked', 'redeemed', 'rolledBack'] as const;

/**
 * The activity invariant, against a scan of the table: for every book, interval and bucket, the
 * counters' slots add up to exactly the history entries of the book's codes in that bucket, type by
 * type (so nothing is counted twice, or missed), and every history entry is marked `counted`.
 * Returns the violations (empty = it holds).
 */
export function checkActivity(items: Record<string, any>[]): string[] {
  const violations: string[] = [];
  const expected = new Map<string, number>();
  const actual = new Map<string, number>();
  const add = (m: Map<string, number>, k: string, n: number) => n && m.set(k, (m.get(k) ?? 0) + n);
  for (const h of items.filter((i) => i.__edb_e__ === 'codeHistory')) {
    if (h.counted !== true) violations.push(`history ${h.code}#${h.seq}: not counted`);
    for (const interval of ACTIVITY_INTERVALS) {
      add(expected, `${h.tenant} ${h.bookId} ${interval} ${new Date(bucketStart(Date.parse(h.at), interval)).toISOString()} ${h.type}`, 1);
    }
  }
  for (const c of items.filter((i) => i.__edb_e__ === 'activityCounter')) {
    for (const t of TYPES) add(actual, `${c.tenant} ${c.bookId} ${c.interval} ${c.bucket} ${t}`, c[t] ?? 0);
  }
  for (const k of new Set([...expected.keys(), ...actual.keys()])) {
    if ((expected.get(k) ?? 0) !== (actual.get(k) ?? 0)) violations.push(`${k}: counted ${actual.get(k) ?? 0}, history says ${expected.get(k) ?? 0}`);
  }
  return violations;
}

/** A book's history entries by type, from a scan. */
export function historyTotals(items: Record<string, any>[], tenant: string, bookId: string): Record<(typeof TYPES)[number], number> {
  const out = { assigned: 0, locked: 0, unlocked: 0, redeemed: 0, rolledBack: 0 };
  for (const h of items) if (h.__edb_e__ === 'codeHistory' && h.tenant === tenant && h.bookId === bookId) out[h.type as (typeof TYPES)[number]]++;
  return out;
}

/** The sums of a chart's buckets, by type. */
export function chartTotals(buckets: Record<string, any>[]): Record<(typeof TYPES)[number], number> {
  const out = { assigned: 0, locked: 0, unlocked: 0, redeemed: 0, rolledBack: 0 };
  for (const b of buckets) for (const t of TYPES) out[t] += b[t];
  return out;
}
