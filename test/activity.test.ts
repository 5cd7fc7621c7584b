import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  MIGRATIONS,
  activityCounter,
  codeHistoryConsumer,
  countHistoriesIntoActivity,
  createDocumentClient,
  createDynamoDbClient,
  createStore,
  runMigrations,
  type ChangeFollower,
  type TableChange,
} from '@coupons/core';
import { followChanges } from '@coupons/api';
import { unwrap } from '@coupons/client';
import { admin, bookWithCodes, createBook, expectError, service, startTestApi, user, type TestApi } from './support/harness.ts';
import { chartTotals, checkActivity, historyTotals } from './support/activity-invariant.ts';
import { waitFor } from './support/wait-for.ts';

// GET /coupons/{bookId}/activity over real HTTP against DynamoDB Local. The counts come from the
// change stream, in the same transactions as the codes' history (docs/activity.md): here the
// consumer is fed the same records twice, split differently, killed after a commit it never saw
// answered, and killed outright in a process of its own; each time the counters must equal what
// the histories say.
const ENV = { RATE_LIMIT_CALLER_PER_MINUTE: '0', RATE_LIMIT_TENANT_PER_SECOND: '0' };
let api: TestApi;
let follower: ChangeFollower;
beforeAll(async () => {
  api = await startTestApi('activity', ENV, { stream: true });
  follower = followChanges(api.core, { name: 'activity-test', idleMs: 20 });
});
afterAll(async () => {
  await follower.stop();
  await api.close();
});

/** The table without the follower's checkpoints (its own bookkeeping, moved by any write). */
const tableState = async () => (await api.scanState()).filter((i) => i.__edb_e__ !== 'streamCheckpoint');
const chart = async (bookId: string, query: Record<string, string>, token?: string) =>
  api.call('GET', `/coupons/${bookId}/activity?${new URLSearchParams(query)}`, { token: token ?? (await admin()) });

describe('the query', () => {
  it('refuses missing or malformed from/to, an unknown interval, to <= from and more than 1,440 buckets, precisely, writing nothing', async () => {
    const book = await createBook(api);
    const before = await tableState();
    const day = { from: '2026-12-01T00:00:00Z', to: '2026-12-02T00:00:00Z' };
    const refused = async (query: Record<string, string>, field: string, reason?: RegExp) => {
      const r = await chart(book.id, query);
      expectError(r, 400, 'VALIDATION_FAILED');
      const detail = r.json.error.details.find((d: { field: string }) => d.field === field);
      expect(detail, `${JSON.stringify(query)} → ${r.text}`).toBeDefined();
      if (reason) expect(detail.reason).toMatch(reason);
    };
    await refused({ to: day.to }, 'from', /required/);
    await refused({ from: day.from }, 'to', /required/);
    await refused({ from: 'yesterday', to: day.to }, 'from', /ISO 8601/);
    await refused({ from: '2026-02-30T00:00:00Z', to: day.to }, 'from', /ISO 8601/);
    await refused({ ...day, interval: 'week' }, 'interval', /minute, hour, day/);
    await refused({ from: day.to, to: day.from }, 'to', /after from/);
    await refused({ from: day.from, to: day.from }, 'to', /after from/);
    // 1,440 minutes is the most; one millisecond more is a 1,441st bucket.
    expect((await chart(book.id, { ...day, interval: 'minute' })).status).toBe(200);
    await refused({ from: day.from, to: '2026-12-02T00:00:00.001Z', interval: 'minute' }, 'to', /1,441 minute buckets; at most 1,440/);
    await refused({ from: '2026-01-01T00:00:00Z', to: '2026-03-02T00:00:01Z' }, 'to', /1,441 hour buckets/);
    await refused({ from: '2020-01-01T00:00:00Z', to: '2026-01-01T00:00:00Z', interval: 'day' }, 'to', /2,192 day buckets/);
    expect(await tableState()).toEqual(before);
  });

  it('answers every bucket, aligned in UTC, the first holding from, to exclusive; hour by default', async () => {
    const book = await createBook(api);
    const r = await chart(book.id, { from: '2026-12-01T10:00:30Z', to: '2026-12-01T10:03:00Z', interval: 'minute' });
    expect(r.status).toBe(200);
    const empty = { assigned: 0, locked: 0, unlocked: 0, redeemed: 0, rolledBack: 0 };
    expect(r.json).toEqual({
      interval: 'minute',
      buckets: ['10:00', '10:01', '10:02'].map((m) => ({ start: `2026-12-01T${m}:00.000Z`, ...empty })),
    });
    // An offset names the same instant: buckets are still UTC days.
    const days = await chart(book.id, { from: '2026-12-01T01:00:00+02:00', to: '2026-12-02T00:00:00Z', interval: 'day' });
    expect(days.json.buckets.map((b: { start: string }) => b.start)).toEqual(['2026-11-30T00:00:00.000Z', '2026-12-01T00:00:00.000Z']);
    // Through the typed client (what the console uses): interval left out is `hour`.
    const hours = await unwrap(api.client(await admin()).coupons[':bookId'].activity.$get({ param: { bookId: book.id }, query: { from: '2026-12-01T00:59:59.999Z', to: '2026-12-01T01:00:00.001Z' } }));
    expect(hours.interval).toBe('hour');
    expect(hours.buckets.map((b) => b.start)).toEqual(['2026-12-01T00:00:00.000Z', '2026-12-01T01:00:00.000Z']);
  });

  it("is the book's admin's: another tenant's book or an unknown one is 404 BOOK_NOT_FOUND, a user or service 403", async () => {
    const book = await createBook(api);
    const q = { from: '2026-12-01T00:00:00Z', to: '2026-12-02T00:00:00Z' };
    expectError(await chart(book.id, q, await admin('t2')), 404, 'BOOK_NOT_FOUND');
    expectError(await chart('no-such-book', q), 404, 'BOOK_NOT_FOUND');
    expectError(await chart(book.id, q, await user('u1')), 403, 'FORBIDDEN');
    expectError(await chart(book.id, q, await service()), 403, 'FORBIDDEN');
    expectError(await api.call('GET', `/coupons/${book.id}/activity?${new URLSearchParams(q)}`), 401, 'UNAUTHENTICATED');
  });
});

/** Changes of codes of `bookId` as the stream hands them over: one per transition, at the times given. */
function fabricate(tenant: string, bookId: string, transitions: { code: string; type: string; at: string }[]): TableChange[] {
  const seqs = new Map<string, number>();
  return transitions.map((t, n) => {
    const seq = (seqs.get(t.code) ?? 0) + 1;
    seqs.set(t.code, seq);
    const image = (s: number, last?: object) => ({ __edb_e__: 'code', tenant, code: t.code, bookId, userId: 'u-fed', changeSeq: s, ...(last ? { lastChange: last } : {}) });
    return {
      eventName: 'MODIFY',
      keys: { pk: `T#${tenant}#CODE#${t.code}`, sk: 'CODE' },
      oldImage: image(seq - 1),
      newImage: image(seq, { type: t.type, at: t.at, by: 'svc', ...(t.type === 'redeemed' ? { redemptionId: `${t.code}.r${seq}` } : {}) }),
      sequenceNumber: String(n + 1),
      at: Date.parse(t.at),
    };
  });
}

const q = { from: '2026-12-01T10:00:00Z', to: '2026-12-01T10:03:00Z', interval: 'minute' };
// 12 transitions of 4 codes over three minutes.
const transitions = (prefix: string) =>
  [0, 1, 2, 3].flatMap((i) => [
    { code: `${prefix}-${i}`, type: 'assigned', at: `2026-12-01T10:00:${10 + i}.000Z` },
    { code: `${prefix}-${i}`, type: 'locked', at: `2026-12-01T10:01:0${i}.000Z` },
    { code: `${prefix}-${i}`, type: i % 2 ? 'unlocked' : 'redeemed', at: `2026-12-01T10:02:59.99${i}Z` },
  ]);
const expected = [
  { start: '2026-12-01T10:00:00.000Z', assigned: 4, locked: 0, unlocked: 0, redeemed: 0, rolledBack: 0 },
  { start: '2026-12-01T10:01:00.000Z', assigned: 0, locked: 4, unlocked: 0, redeemed: 0, rolledBack: 0 },
  { start: '2026-12-01T10:02:00.000Z', assigned: 0, locked: 0, unlocked: 2, redeemed: 2, rolledBack: 0 },
];

/**
 * A store whose transactions are refused as DynamoDB refuses them when they name one item twice
 * (DynamoDB Local cancels the second operation as a failed condition instead).
 */
function awsLikeStore() {
  const raw = createDynamoDbClient(api.core.config);
  raw.middlewareStack.add(
    (next, context) => async (args: any) => {
      if ((context as { commandName?: string }).commandName === 'TransactWriteItemsCommand') {
        const keys = (args.input.TransactItems as any[]).map((t) => {
          const item = t.Put?.Item ?? t.Update?.Key ?? t.Delete?.Key ?? t.ConditionCheck?.Key;
          return JSON.stringify([item.pk, item.sk]);
        });
        if (new Set(keys).size !== keys.length) {
          throw Object.assign(new Error('Transaction request cannot include multiple operations on one item'), { name: 'ValidationException', $fault: 'client', $metadata: { httpStatusCode: 400 } });
        }
      }
      return next(args);
    },
    { step: 'initialize', name: 'awsLikeValidation' },
  );
  return createStore(createDocumentClient(raw), api.table);
}

describe('the consumer, fed records directly', () => {
  it('counts each change once when records come twice, in batches split differently, and by two consumers at once', async () => {
    const book = await createBook(api);
    const changes = fabricate('t1', book.id, transitions('FED'));
    const consumer = codeHistoryConsumer(awsLikeStore(), { counter: activityCounter() });
    await consumer.handle(changes.slice(0, 5));
    // A record delivered twice within one batch, and the first five again.
    await consumer.handle([...changes.slice(0, 8), changes[6]!]);
    await consumer.handle(changes.slice(3));
    await consumer.handle(changes);
    await Promise.all([consumer.handle(changes.slice(2)), codeHistoryConsumer(awsLikeStore(), { counter: activityCounter() }).handle(changes)]);
    expect((await chart(book.id, q)).json.buckets).toEqual(expected);
    expect((await chart(book.id, { ...q, interval: 'hour' })).json.buckets).toEqual([{ start: '2026-12-01T10:00:00.000Z', assigned: 4, locked: 4, unlocked: 2, redeemed: 2, rolledBack: 0 }]);
    const items = await api.scan();
    expect(historyTotals(items, 't1', book.id)).toEqual({ assigned: 4, locked: 4, unlocked: 2, redeemed: 2, rolledBack: 0 });
    expect(checkActivity(items)).toEqual([]);
  });

  it('counts each change once when the consumer dies after a transaction committed but before it heard so, and the batch comes again', async () => {
    const book = await createBook(api);
    // Changes for two transactions (95 entries and their 5 counters, then the rest); the first
    // commits, then its answer is lost.
    const many = Array.from({ length: 11 }, (_, i) => transitions(`DIE${i}`)).flat();
    const changes = fabricate('t1', book.id, many);
    const raw = createDynamoDbClient(api.core.config);
    let transactions = 0;
    raw.middlewareStack.add(
      (next, context) => async (args) => {
        const out = await next(args);
        if ((context as { commandName?: string }).commandName === 'TransactWriteItemsCommand' && ++transactions === 1) {
          throw Object.assign(new Error('the consumer was killed'), { name: 'Killed' });
        }
        return out;
      },
      { step: 'initialize', name: 'dieAfterCommit' },
    );
    const dying = codeHistoryConsumer(createStore(createDocumentClient(raw), api.table), { counter: activityCounter() });
    await expect(dying.handle(changes)).rejects.toThrow('killed');
    expect(transactions).toBe(1);
    // Restarted from its checkpoint: the whole batch again, then again split in two.
    await dying.handle(changes);
    await dying.handle(changes.slice(100));
    const r = await chart(book.id, q);
    expect(r.json.buckets).toEqual(expected.map((b) => ({ ...b, assigned: b.assigned * 11, locked: b.locked * 11, unlocked: b.unlocked * 11, redeemed: b.redeemed * 11 })));
    expect(checkActivity(await api.scan())).toEqual([]);
    raw.destroy();
  });
});

describe('history written by the previous release, before activity existed', () => {
  it('is counted by the backfill exactly once, run twice at once and beside the live consumer replaying the same changes', async () => {
    const book = await createBook(api);
    const changes = fabricate('t1', book.id, [...transitions('OLD'), ...transitions('NEW')]);
    // The previous release: the same consumer's entries, written by blind BatchWriteItem puts, uncounted.
    const old = changes.slice(0, 12).map((c) => {
      const last = c.newImage!.lastChange;
      return { tenant: 't1', code: c.newImage!.code, seq: c.newImage!.changeSeq, bookId: book.id, userId: 'u-fed', ...last };
    });
    await api.core.store.codeHistory.put(old).go();
    expect(checkActivity(await api.scan()).filter((v) => v.endsWith('not counted'))).toHaveLength(12);

    const consumer = codeHistoryConsumer(api.core.store, { counter: activityCounter() });
    const [first, second] = await Promise.all([countHistoriesIntoActivity(api.core, { pageSize: 5 }), countHistoriesIntoActivity(api.core), consumer.handle(changes)]);
    expect(first.counted + second.counted).toBe(12);
    expect(await countHistoriesIntoActivity(api.core)).toEqual({ found: 0, counted: 0 });
    const twice = (b: (typeof expected)[number]) => ({ ...b, assigned: 2 * b.assigned, locked: 2 * b.locked, unlocked: 2 * b.unlocked, redeemed: 2 * b.redeemed });
    expect((await chart(book.id, q)).json.buckets).toEqual(expected.map(twice));
    expect(checkActivity(await api.scan())).toEqual([]);
  });

  it("is counted on upgrade by the registered migration, in finish only: while prepare runs, the previous release's consumer still writes", async () => {
    const book = await createBook(api);
    const old = fabricate('t1', book.id, transitions('MIG')).map((c) => ({ tenant: 't1', code: c.newImage!.code, seq: c.newImage!.changeSeq, bookId: book.id, userId: 'u-fed', ...c.newImage!.lastChange }));
    await api.core.store.codeHistory.put(old).go();
    const migration = MIGRATIONS.filter((m) => m.id === '006-history-counted-into-activity');
    expect(migration).toHaveLength(1);
    const zero = expected.map((b) => ({ ...b, assigned: 0, locked: 0, unlocked: 0, redeemed: 0 }));

    await runMigrations(api.core, { migrations: migration, phase: 'prepare' });
    expect((await chart(book.id, q)).json.buckets).toEqual(zero);
    const [finished] = (await runMigrations(api.core, { migrations: migration })).reports;
    expect(finished).toMatchObject({ outcome: 'completed', changed: 12 });
    expect((await chart(book.id, q)).json.buckets).toEqual(expected);
    expect(checkActivity(await api.scan())).toEqual([]);
  });
});

const TYPES = ['assigned', 'locked', 'unlocked', 'redeemed', 'rolledBack'] as const;
type Counts = Record<(typeof TYPES)[number], number>;

/** A book's chart over [from, now + 1 min), summed by type. */
async function chartedSince(target: TestApi, bookId: string, from: number, interval = 'minute'): Promise<Counts> {
  const r = await target.call('GET', `/coupons/${bookId}/activity?${new URLSearchParams({ from: new Date(from).toISOString(), to: new Date(Date.now() + 60_000).toISOString(), interval })}`, { token: await admin() });
  expect(r.status, r.text).toBe(200);
  return chartTotals(r.json.buckets);
}

describe('a storm of claims, locks, unlocks, redeems and rollbacks through HTTP', () => {
  it('ends with counts equal to the histories, in the buckets of the histories’ times', async () => {
    const started = Date.now() - 60_000;
    const { book } = await bookWithCodes(api, 70, { maxRedemptionsPerUser: 2, shards: 4 });
    const svc = await service();
    const adminToken = await admin();
    const post = (path: string, body: unknown, token = svc) => api.call('POST', path, { token, body });
    // What the answers say committed, by type.
    const ok: Counts = { assigned: 0, locked: 0, unlocked: 0, redeemed: 0, rolledBack: 0 };
    const count = (r: { status: number }, type: keyof Counts) => r.status < 300 && ++ok[type] > 0;
    // 64 users claim at once, half of them claiming and locking in one request (two transitions: assigned, then locked).
    const claims = await Promise.all(Array.from({ length: 64 }, (_, i) => post('/coupons/assign', { bookId: book.id, userId: `storm-${i}`, lock: i % 2 === 0 })));
    for (const r of claims) if (count(r, 'assigned') && r.json.lockId) count(r, 'locked');
    expect(ok.assigned).toBe(64);
    // Then every holder at once: unlocks, two racing locks, a redeem, two racing rollbacks.
    await Promise.all(
      claims.map(async ({ json: { code, userId, lockId } }, i) => {
        let held = lockId;
        if (lockId && i % 4 === 0 && count(await post(`/coupons/unlock/${code}`, { userId, lockId }), 'unlocked')) held = undefined;
        const locks = await Promise.all([post(`/coupons/lock/${code}`, { userId }), post(`/coupons/lock/${code}`, { userId })]);
        for (const r of locks) count(r, 'locked');
        held = locks.find((r) => r.status === 200)?.json.lockId ?? held;
        if (i % 3 === 0) return;
        const redeem = await post(`/coupons/redeem/${code}`, { userId, lockId: held, orderId: `o-${i}` });
        count(redeem, 'redeemed');
        if (redeem.status !== 200 || i % 5 !== 0) return;
        const rollbacks = await Promise.all([adminToken, svc].map((t) => post(`/redemptions/${redeem.json.redemptionId}/rollback`, { reason: 'storm' }, t)));
        for (const r of rollbacks) count(r, 'rolledBack');
      }),
    );
    expect(ok.locked * ok.unlocked * ok.redeemed * ok.rolledBack).toBeGreaterThan(0);
    // Seconds after the last write the chart says what the answers said, then stays there.
    await waitFor('activity caught up with the storm', async () => JSON.stringify(await chartedSince(api, book.id, started)) === JSON.stringify(ok), 20_000, 100);
    await follower.caughtUp();
    const items = await api.scan();
    expect(historyTotals(items, 't1', book.id)).toEqual(ok);
    for (const interval of ['minute', 'hour', 'day']) expect(await chartedSince(api, book.id, started, interval), interval).toEqual(ok);
    // Bucket by bucket, at the finest interval: each history entry in the minute its time falls in.
    const minutes = (await chart(book.id, { from: new Date(started).toISOString(), to: new Date(Date.now() + 60_000).toISOString(), interval: 'minute' })).json.buckets as Record<string, any>[];
    const history = items.filter((h) => h.__edb_e__ === 'codeHistory' && h.bookId === book.id);
    for (const b of minutes) {
      const start = Date.parse(b.start);
      const inBucket = history.filter((h) => Date.parse(h.at) >= start && Date.parse(h.at) < start + 60_000);
      for (const t of TYPES) expect(b[t], `${b.start} ${t}`).toBe(inBucket.filter((h) => h.type === t).length);
    }
    expect(checkActivity(items)).toEqual([]);
  });
});

describe('a follower process killed mid-stream', () => {
  let other: TestApi;
  let child: ChildProcess | undefined;
  beforeAll(async () => {
    // A table of its own: the in-process follower above must not count what the killed one missed.
    other = await startTestApi('activity-kill', ENV, { stream: true });
  });
  afterAll(async () => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    await other.close();
  });

  function startFollowerProcess(): Promise<ChildProcess> {
    // Node itself with tsx as a loader (not the tsx CLI, whose child a SIGKILL would leave running).
    const proc = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'support', 'follower-process.ts')], {
      env: { ...process.env, DYNAMODB_ENDPOINT: other.core.config.DYNAMODB_ENDPOINT, TABLE_NAME: other.table, FOLLOWER_NAME: 'activity-killed' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return new Promise((res, rej) => {
      proc.stdout!.on('data', (d) => String(d).includes('following') && res(proc));
      proc.on('exit', (code) => rej(new Error(`follower process exited with ${code}`)));
    });
  }

  it('counts every change exactly once after it restarts from its checkpoint', async () => {
    const started = Date.now() - 60_000;
    const { book } = await bookWithCodes(other, 48, { shards: 4 });
    const svc = await service();
    const claim = (i: number) => other.call('POST', '/coupons/assign', { token: svc, body: { bookId: book.id, userId: `k-${i}`, lock: i % 3 === 0 } });
    child = await startFollowerProcess();
    // Claims eight at a time, so the follower's batches hold several changes; killed once some are counted.
    const claims = (async () => {
      for (let i = 0; i < 48; i += 8) await Promise.all(Array.from({ length: 8 }, (_, j) => claim(i + j)));
    })();
    await waitFor('some claims counted', async () => (await chartedSince(other, book.id, started)).assigned >= 8, 30_000, 25);
    child.kill('SIGKILL');
    await new Promise((r) => child!.once('exit', r));
    await claims;
    expect((await chartedSince(other, book.id, started)).assigned).toBeLessThan(48);

    child = await startFollowerProcess();
    await waitFor('every claim counted', async () => (await chartedSince(other, book.id, started)).assigned === 48, 30_000, 100);
    const items = await other.scan();
    // Every third claim locks in the same request: its history says assigned, then locked.
    expect(historyTotals(items, 't1', book.id)).toEqual({ assigned: 48, locked: 16, unlocked: 0, redeemed: 0, rolledBack: 0 });
    expect(await chartedSince(other, book.id, started, 'day')).toEqual(historyTotals(items, 't1', book.id));
    expect(checkActivity(items)).toEqual([]);
    child.kill('SIGTERM');
    await new Promise((r) => child!.once('exit', r));
  });
});
