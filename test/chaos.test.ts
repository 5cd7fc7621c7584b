import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { installFaultInjection } from '@coupons/core';
import { admin, bookWithCodes, service, startTestApi, uniqueCode, user, type CallResult, type TestApi } from './support/harness.ts';
import { checkInvariants } from './support/invariants.ts';

// A mixed storm of claims, claim-and-locks, locks, unlocks, redeems (with the
// right lock, without, with a wrong one), retries under one Idempotency-Key,
// overlapping uploads, and injected transaction conflicts; then a scan of the
// whole table checks invariants 1–7 of docs/testing.md. Conflicts are injected
// by the test-only SDK middleware: DynamoDB Local never raises them.
let api: TestApi;
const seed = Number(process.env.CHAOS_SEED ?? Date.now() % 100_000);

function random(seedValue: number) {
  let a = seedValue >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

beforeAll(async () => {
  // Misses are part of the storm; the guessing limit is tested on its own in rate-limit.test.ts.
  api = await startTestApi('chaos', { RATE_LIMIT_MISSES_PER_10_MINUTES: '0', RATE_LIMIT_CALLER_PER_MINUTE: '0' });
});
afterAll(() => api.close());

describe('chaos', () => {
  it(`a mixed storm leaves all seven invariants intact (seed ${seed})`, async () => {
    const rnd = random(seed);
    const pick = <T>(xs: T[]) => xs[Math.floor(rnd() * xs.length)]!;
    const faults = installFaultInjection(api.core.store.client);

    const capped = await bookWithCodes(api, 60, { maxCodesPerUser: 2, maxRedemptionsPerUser: 2 });
    const open = await bookWithCodes(api, 40);
    const original = new Map<string, string>();
    for (const c of capped.codes) original.set(c, capped.book.id);
    for (const c of open.codes) original.set(c, open.book.id);

    const users = Array.from({ length: 16 }, (_, i) => `chaos-${i}`);
    const tokens = new Map(await Promise.all(users.map(async (u) => [u, await user(u)] as const)));
    const svc = await service();
    const held = new Map<string, { code: string; lockId?: string }[]>(users.map((u) => [u, []]));
    const counts: Record<string, number> = {};
    let wrongLockRedeemSuccesses = 0;
    const probing = new Set<string>();
    const free = (u: string) => held.get(u)!.filter((e) => !probing.has(e.code));
    const tally = (op: string, r: CallResult) => {
      const k = `${op} ${r.status}${r.json?.error ? ' ' + r.json.error.code : ''}`;
      counts[k] = (counts[k] ?? 0) + 1;
      expect(r.status, `${op}: ${r.text}`).toBeLessThan(500);
    };

    const ops: (() => Promise<void>)[] = [];
    for (let i = 0; i < 260; i++) {
      const u = pick(users);
      const token = tokens.get(u)!;
      const roll = rnd();
      if (roll < 0.22) {
        ops.push(async () => {
          const book = rnd() < 0.6 ? capped.book : open.book;
          const body = { bookId: book.id, lock: rnd() < 0.4 };
          const headers = { 'idempotency-key': randomUUID() };
          // Sometimes the network "retries": the same key twice at once.
          const copies = rnd() < 0.3 ? 2 : 1;
          const rs = await Promise.all(Array.from({ length: copies }, () => api.call('POST', '/coupons/assign', { token, headers, body })));
          for (const r of rs) tally('claim', r);
          const ok = rs.find((r) => r.status === 201);
          if (ok) {
            if (copies === 2) expect(rs.every((r) => r.json?.code === ok.json.code)).toBe(true);
            held.get(u)!.push({ code: ok.json.code, lockId: ok.json.lockId });
          }
        });
      } else if (roll < 0.42) {
        ops.push(async () => {
          const h = free(u);
          if (!h.length) return;
          const entry = pick(h);
          const r = await api.call('POST', `/coupons/lock/${entry.code}`, { token, body: { ttlSeconds: rnd() < 0.2 ? 1 : 30 } });
          tally('lock', r);
          if (r.status === 200) entry.lockId = r.json.lockId;
        });
      } else if (roll < 0.52) {
        ops.push(async () => {
          const h = free(u);
          if (!h.length) return;
          const entry = pick(h);
          const r = await api.call('POST', `/coupons/unlock/${entry.code}`, { token, body: entry.lockId ? { lockId: entry.lockId } : {} });
          tally('unlock', r);
        });
      } else if (roll < 0.78) {
        ops.push(async () => {
          const h = free(u);
          if (!h.length) return;
          const entry = pick(h);
          const headers = { 'idempotency-key': randomUUID() };
          const body = { orderId: `o-${i}`, ...(entry.lockId && rnd() < 0.7 ? { lockId: entry.lockId } : {}) };
          const copies = rnd() < 0.3 ? 2 : 1;
          const rs = await Promise.all(Array.from({ length: copies }, () => api.call('POST', `/coupons/redeem/${entry.code}`, { token, headers, body })));
          for (const r of rs) tally('redeem', r);
          if (copies === 2 && rs.every((r) => r.status === 200)) expect(rs[0]!.json.redemptionId).toBe(rs[1]!.json.redemptionId);
        });
      } else if (roll < 0.86) {
        ops.push(async () => {
          // A lock someone does not hold must never let a redeem through.
          const h = free(u);
          if (!h.length) return;
          const entry = pick(h);
          // The probe owns the code while it runs: the holder's own concurrent unlock (allowed without
          // a lockId) would release the lock, and an unlocked code may then be redeemed in one step.
          probing.add(entry.code);
          const lock = await api.call('POST', `/coupons/lock/${entry.code}`, { token, body: { ttlSeconds: 30 } });
          tally('lock', lock);
          const r = await api.call('POST', `/coupons/redeem/${entry.code}`, { token: svc, body: { userId: u, lockId: randomUUID() } });
          tally('redeem-wrong-lock', r);
          if (lock.status === 200 && r.status === 200) wrongLockRedeemSuccesses++;
          if (lock.status === 200) {
            tally('unlock', await api.call('POST', `/coupons/unlock/${entry.code}`, { token, body: { lockId: lock.json.lockId } }));
          }
          probing.delete(entry.code);
        });
      } else if (roll < 0.93) {
        ops.push(async () => {
          // Overlapping upload into the other book: must never overwrite or move a code.
          const mixed = [pick(capped.codes), pick(open.codes), uniqueCode('NEW')];
          const r = await api.call('POST', '/coupons/codes', { token: await admin(), body: { bookId: pick([capped.book.id, open.book.id]), codes: mixed } });
          tally('upload', r);
          for (const c of mixed) if (!original.has(c) && r.status === 200 && !r.json.duplicates.includes(c)) original.set(c, r.json.bookId ?? '');
        });
      } else {
        ops.push(async () => {
          faults.inject('TransactionConflict', 1 + Math.floor(rnd() * 3), 'TransactWriteItemsCommand');
        });
      }
    }

    // 24 at a time.
    let next = 0;
    await Promise.all(
      Array.from({ length: 24 }, async () => {
        while (next < ops.length) await ops[next++]!();
      }),
    );
    faults.clear();

    const items = await api.scan();
    const { violations, checked } = checkInvariants(items);
    // 1. a code is assigned to at most one user, ever: one item per code, and no two users were told they hold it.
    const claimedBy = new Map<string, string>();
    for (const [u, h] of held) for (const e of h) {
      const prior = claimedBy.get(e.code);
      if (prior && prior !== u) violations.push(`code ${e.code} answered to ${prior} and ${u}`);
      claimedBy.set(e.code, u);
    }
    // 4. no redeem succeeded against a lock it did not hold.
    if (wrongLockRedeemSuccesses) violations.push(`${wrongLockRedeemSuccesses} redeems succeeded with a lock they did not hold`);
    // 7. no upload overwrote or moved a code.
    const codes = items.filter((i) => i.__edb_e__ === 'code');
    for (const c of codes) {
      const was = original.get(c.code);
      if (was && was !== c.bookId && (capped.codes.includes(c.code) || open.codes.includes(c.code))) violations.push(`code ${c.code} moved from ${was} to ${c.bookId}`);
    }
    const stats = await api.call('GET', `/coupons/${capped.book.id}`, { token: await admin() });
    console.log(
      JSON.stringify({
        seed,
        operations: counts,
        checked: { ...checked, claimedCodes: claimedBy.size, invariants: ['1 one holder', '2 per-user cap', '3 redemption limit + records', '4 one lock, never bypassed', '5 stats = items', '6 no partial writes (counters = items)', '7 no overwrite'] },
        cappedBookStats: stats.json.stats,
        violations,
      }),
    );
    expect(violations).toEqual([]);
  });
});
