import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { installFaultInjection } from '@coupons/core';
import { unwrap } from '@coupons/client';
import { admin, answer, bookStats, bookWithCodes, service, startTestApi, uniqueCode, user, type CallResult, type TestApi } from './support/harness.ts';
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
  it(`a mixed storm leaves invariants 1–8 intact, with every kind of operation succeeding (seed ${seed})`, async () => {
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
    /** Probes whose own lock was taken, so the wrong-lock redeem really faced a lock. */
    let probesUnderLock = 0;
    /** Keyed requests sent more than once whose first answer was a success (so every copy must replay it). */
    let replayedSuccesses = 0;
    const replayViolations: string[] = [];
    const probing = new Set<string>();
    const free = (u: string) => held.get(u)!.filter((e) => !probing.has(e.code));
    const tally = (op: string, r: CallResult) => {
      const k = `${op} ${r.status}${r.json?.error ? ` ${r.json.error.code}` : ''}`;
      counts[k] = (counts[k] ?? 0) + 1;
      expect(r.status, `${op}: ${r.text}`).toBeLessThan(500);
    };
    /**
     * Invariant 8: copies of one keyed request get one answer, status and body. Two copies race; once
     * they are answered, a late third copy (a retry after a lost answer) must replay a success too
     * (a refusal writes nothing, so a late retry of one may run again and answer differently).
     */
    const sameAnswers = async (op: string, copies: CallResult[], retry: () => Promise<CallResult>) => {
      const [first, ...rest] = copies;
      for (const r of rest) {
        if (r.status !== first!.status || JSON.stringify(r.json) !== JSON.stringify(first!.json)) {
          replayViolations.push(`${op}: copies answered ${first!.status} ${first!.text} and ${r.status} ${r.text}`);
        }
      }
      if (first!.status >= 300) return;
      const late = await retry();
      tally(`${op}-late-retry`, late);
      if (late.status !== first!.status || JSON.stringify(late.json) !== JSON.stringify(first!.json)) {
        replayViolations.push(`${op}: answered ${first!.status} ${first!.text}, a later retry ${late.status} ${late.text}`);
      }
      replayedSuccesses++;
    };
    /** An operation with nothing to act on (the user holds no code yet) is counted, not silently dropped. */
    const idle = (op: string) => {
      counts[`${op} idle`] = (counts[`${op} idle`] ?? 0) + 1;
    };

    // Everyone starts holding a code of the open book, so locks, unlocks and redeems have something
    // to act on from the first operation, and a second one only the wrong-lock probes use: the
    // codes the storm redeems or locks are often no longer lockable, and a probe needs its lock.
    const probeCode = new Map<string, string>();
    await Promise.all(
      users.map(async (u) => {
        const claim = () => unwrap(api.client(tokens.get(u)!).coupons.assign.$post({ json: { bookId: open.book.id } }));
        held.get(u)!.push({ code: (await claim()).code });
        probeCode.set(u, (await claim()).code);
      }),
    );

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
          const send = () => answer(api.client(token).coupons.assign.$post({ json: body }, { headers }));
          const rs = await Promise.all(Array.from({ length: copies }, send));
          for (const r of rs) tally('claim', r);
          if (copies > 1) await sameAnswers('claim', rs, send);
          const ok = rs.find((r) => r.status === 201);
          if (ok) held.get(u)!.push({ code: ok.json.code, lockId: ok.json.lockId });
        });
      } else if (roll < 0.42) {
        ops.push(async () => {
          const h = free(u);
          if (!h.length) return idle('lock');
          const entry = pick(h);
          const r = await answer(api.client(token).coupons.lock[':code'].$post({ param: { code: entry.code }, json: { ttlSeconds: rnd() < 0.2 ? 1 : 30 } }));
          tally('lock', r);
          if (r.status === 200) entry.lockId = r.json.lockId;
        });
      } else if (roll < 0.52) {
        ops.push(async () => {
          const h = free(u);
          if (!h.length) return idle('unlock');
          const entry = pick(h);
          const r = await answer(api.client(token).coupons.unlock[':code'].$post({ param: { code: entry.code }, json: entry.lockId ? { lockId: entry.lockId } : {} }));
          tally('unlock', r);
        });
      } else if (roll < 0.78) {
        ops.push(async () => {
          const h = free(u);
          if (!h.length) return idle('redeem');
          const entry = pick(h);
          const headers = { 'idempotency-key': randomUUID() };
          const body = { orderId: `o-${i}`, ...(entry.lockId && rnd() < 0.7 ? { lockId: entry.lockId } : {}) };
          const copies = rnd() < 0.3 ? 2 : 1;
          // Copies own the code while they run, like the probe below: a concurrent lock by another
          // operation could refuse one copy before the other succeeds, a difference that is allowed.
          if (copies > 1) probing.add(entry.code);
          const send = () => answer(api.client(token).coupons.redeem[':code'].$post({ param: { code: entry.code }, json: body }, { headers }));
          const rs = await Promise.all(Array.from({ length: copies }, send));
          for (const r of rs) tally('redeem', r);
          if (copies > 1) await sameAnswers('redeem', rs, send);
          probing.delete(entry.code);
        });
      } else if (roll < 0.86) {
        ops.push(async () => {
          // A lock someone does not hold must never let a redeem through.
          const own = probeCode.get(u)!;
          const h = free(u);
          const entry = !probing.has(own) && (rnd() < 0.5 || !h.length) ? { code: own } : pick(h);
          if (!entry) return idle('redeem-wrong-lock');
          // The probe owns the code while it runs: the holder's own concurrent unlock (allowed without
          // a lockId) would release the lock, and an unlocked code may then be redeemed in one step.
          probing.add(entry.code);
          const lock = await answer(api.client(token).coupons.lock[':code'].$post({ param: { code: entry.code }, json: { ttlSeconds: 30 } }));
          tally('lock', lock);
          const r = await answer(api.client(svc).coupons.redeem[':code'].$post({ param: { code: entry.code }, json: { userId: u, lockId: randomUUID() } }));
          tally('redeem-wrong-lock', r);
          if (lock.status === 200) probesUnderLock++;
          if (lock.status === 200 && r.status === 200) wrongLockRedeemSuccesses++;
          if (lock.status === 200) {
            tally('unlock', await answer(api.client(token).coupons.unlock[':code'].$post({ param: { code: entry.code }, json: { lockId: lock.json.lockId } })));
          }
          probing.delete(entry.code);
        });
      } else if (roll < 0.93) {
        ops.push(async () => {
          // Overlapping upload into the other book: must never overwrite or move a code.
          const mixed = [pick(capped.codes), pick(open.codes), uniqueCode('NEW')];
          const r = await answer(api.client(await admin()).coupons.codes.$post({ json: { bookId: pick([capped.book.id, open.book.id]), codes: mixed } }));
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
    // 8. copies of one keyed request got one answer.
    violations.push(...replayViolations);
    const stats = await bookStats(api, capped.book.id);
    console.log(
      JSON.stringify({
        seed,
        operations: counts,
        checked: {
          ...checked,
          claimedCodes: claimedBy.size,
          probesUnderLock,
          replayedSuccesses,
          invariants: ['1 one holder', '2 per-user cap', '3 redemption limit + records', '4 one lock, never bypassed', '5 stats = items', '6 no partial writes (counters = items)', '7 no overwrite', '8 one answer per key'],
        },
        cappedBookStats: stats,
        violations,
      }),
    );
    expect(violations).toEqual([]);
    // A storm in which nothing succeeded would prove nothing: every kind of operation succeeded at
    // least once, a wrong lock met a lock, and keyed copies replayed a success.
    const succeeded = ['claim 201', 'lock 200', 'unlock 200', 'redeem 200', 'upload 200', 'redeem-wrong-lock 409 CODE_LOCKED'];
    expect(succeeded.filter((k) => !counts[k]), JSON.stringify(counts)).toEqual([]);
    expect(probesUnderLock).toBeGreaterThan(0);
    expect(replayedSuccesses).toBeGreaterThan(0);
    expect(claimedBy.size).toBeGreaterThan(10);
  });
});
