import { expect } from 'vitest';

/**
 * The invariants of docs/testing.md (1–5, and no TTL on a code), checked against a scan of the table itself rather
 * than against API responses. Returns the violations found (empty = all hold)
 * and what was checked.
 */
export function checkInvariants(items: Record<string, any>[], now = Date.now()) {
  const violations: string[] = [];
  const byEntity = (e: string) => items.filter((i) => i.__edb_e__ === e);
  const books = byEntity('book');
  const codes = byEntity('code');
  const shards = byEntity('bookStatsShard');
  const holdings = byEntity('userBookHolding');
  const redemptions = byEntity('redemption');

  for (const c of codes) {
    // 1. one holder, and the indexes agree with the status.
    if (c.status === 'assigned' && (!c.userId || !c.gsi2pk || c.gsi1pk)) violations.push(`code ${c.code}: assigned but indexes disagree`);
    if (c.status === 'available' && (c.userId || c.gsi2pk || !c.gsi1pk)) violations.push(`code ${c.code}: available but indexes disagree`);
    // 3. redemptions within the limit, one record each (a rolled-back record stays, marked, and no longer counts).
    const records = redemptions.filter((r) => r.tenant === c.tenant && r.code === c.code && r.rolledBackAt === undefined);
    if (c.redemptionCount < 0) violations.push(`code ${c.code}: redemptionCount ${c.redemptionCount} < 0`);
    if (c.redemptionCount > (c.maxRedemptions ?? 1)) violations.push(`code ${c.code}: ${c.redemptionCount} redemptions > ${c.maxRedemptions}`);
    if (records.length !== c.redemptionCount) violations.push(`code ${c.code}: ${records.length} records for ${c.redemptionCount} redemptions`);
    // 4. a lock is one lockId with one expiry, never half of one.
    if ((c.lockId === undefined) !== (c.lockExpiresAt === undefined)) violations.push(`code ${c.code}: half a lock`);
    // Never a TTL on a code: TTL would delete it.
    if (c.expiresAt !== undefined) violations.push(`code ${c.code}: carries expiresAt`);
    // Whatever its state, a code sits in its book shard's byBook partition (listing and export read only that).
    if (c.gsi3pk !== `T#${c.tenant}#BOOK#${c.bookId}#CODES#${c.shard}` || c.gsi3sk !== c.code) violations.push(`code ${c.code}: not in its book's byBook index`);
  }

  for (const b of books) {
    const inBook = codes.filter((c) => c.tenant === b.tenant && c.bookId === b.bookId);
    // 2. no user over the cap, and the counter says what the codes say.
    if (b.maxCodesPerUser !== undefined) {
      const held = new Map<string, number>();
      for (const c of inBook) if (c.userId) held.set(c.userId, (held.get(c.userId) ?? 0) + 1);
      for (const [u, n] of held) {
        if (n > b.maxCodesPerUser) violations.push(`book ${b.bookId}: user ${u} holds ${n} > ${b.maxCodesPerUser}`);
        const h = holdings.find((x) => x.tenant === b.tenant && x.bookId === b.bookId && x.userId === u);
        if ((h?.held ?? 0) !== n) violations.push(`book ${b.bookId}: holding counter ${h?.held} for ${u}, codes say ${n}`);
      }
    }
    // 5. stats equal the items.
    const s = shards.filter((x) => x.tenant === b.tenant && x.bookId === b.bookId);
    const sum = (k: string) => s.reduce((a, x) => a + (x[k] ?? 0), 0);
    const expected = {
      codes: inBook.length,
      available: inBook.filter((c) => c.status === 'available').length,
      assigned: inBook.filter((c) => c.status === 'assigned').length,
      redeemed: redemptions.filter((r) => r.tenant === b.tenant && r.bookId === b.bookId && r.rolledBackAt === undefined).length,
    };
    for (const [k, v] of Object.entries(expected)) {
      if (sum(k) !== v) violations.push(`book ${b.bookId}: stats.${k} = ${sum(k)}, items say ${v}`);
    }
    // 10. every shard's gate copy is the book's gate (status and window), so claims obey what the book says.
    const gate = {
      bookStatus: b.status,
      validFromMs: b.validFrom ? Date.parse(b.validFrom) : undefined,
      validUntilMs: b.validUntil ? Date.parse(b.validUntil) : undefined,
    };
    for (const x of s) {
      if (x.bookStatus !== gate.bookStatus || x.validFromMs !== gate.validFromMs || x.validUntilMs !== gate.validUntilMs) {
        violations.push(`book ${b.bookId} shard ${x.shard}: gate ${x.bookStatus}/${x.validFromMs}/${x.validUntilMs} is not the book's ${gate.bookStatus}/${gate.validFromMs}/${gate.validUntilMs}`);
      }
    }
    if (b.validFrom && b.validUntil && Date.parse(b.validFrom) >= Date.parse(b.validUntil)) violations.push(`book ${b.bookId}: validFrom is not before validUntil`);
    for (const x of s) {
      const perShard = inBook.filter((c) => c.shard === x.shard);
      if (x.available !== perShard.filter((c) => c.status === 'available').length) violations.push(`book ${b.bookId} shard ${x.shard}: available drifted`);
    }
  }
  const checked = { books: books.length, codes: codes.length, shards: shards.length, holdings: holdings.length, redemptions: redemptions.length, now };
  return { violations, checked };
}

/** Fails the test on any violation of the invariants in a scan of `api`'s table. */
export async function expectInvariants(api: { scan(): Promise<Record<string, any>[]> }) {
  expect(checkInvariants(await api.scan()).violations).toEqual([]);
}
