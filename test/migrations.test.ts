import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeleteCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { createDynamoDbClient, installFaultInjection, listUnfinishedJobs, MIGRATIONS, MIGRATIONS_TENANT, runMigrations, type MigrationProgress, type MigrationsResult } from '@coupons/core';
import { mintToken } from '../scripts/lib/tokens.ts';
import { createMigrator, SAFETY_MARGIN_MS } from '../packages/api/src/migrate.ts';
import { SECRET, expectError, startTestApi, type TestApi } from './support/harness.ts';
import { checkInvariants } from './support/invariants.ts';
import { fixtureClock, fixtureItems, loadPreviousRelease, readPreviousRelease } from './support/previous-release.ts';

// The previous release's data (test/fixtures/previous-release.json, written by running that
// release: test/fixtures/write-previous-release.ts), as a deployed stage holds it once the deploy
// added today's indexes, then migrated by today's code and read through today's API. The clock is
// the fixture's (just after that release's last answer), so what it left alive is still alive.

const fixture = readPreviousRelease();
const { manifest } = fixture;
const bookNamed = (name: string) => manifest.books.find((b) => b.name === name)!;
const token = (tenant: string, role: 'admin' | 'service' | 'user', sub: string) => mintToken(SECRET, { tenant, role, sub });
const admin = (tenant = 'shop') => token(tenant, 'admin', tenant === 'shop' ? 'admin-1' : 'admin-2');

/** What each migration must change in the fixture: one per item of the previous release's shape. */
const EXPECTED_CHANGES: Record<string, number> = {
  '001-stats-shards-own-partition': fixtureItems(fixture, 'bookStatsShard').length,
  '002-redemption-ids-name-their-code': fixtureItems(fixture, 'redemption').length,
  '003-idempotency-record-keys': fixtureItems(fixture, 'idempotencyRecord').length,
  '004-codes-in-by-book-index': fixtureItems(fixture, 'code').length,
  '005-miss-counters-scope': fixtureItems(fixture, 'rateCounter').length,
  // That release's fixture was written without its stream follower, so it holds no history (activity.test.ts migrates some).
  '006-history-counted-into-activity': fixtureItems(fixture, 'codeHistory').length,
};

async function previousReleaseApi(name: string): Promise<TestApi> {
  const api = await startTestApi(name);
  await loadPreviousRelease(createDynamoDbClient(api.core.config), api.table, fixture);
  api.core.now = fixtureClock(fixture);
  return api;
}

const stats = async (api: TestApi, b: { tenant: string; id: string }) => (await api.call('GET', `/coupons/${b.id}`, { token: await admin(b.tenant) })).json.stats;

/** Items in the previous release's shape that some migration exists to change. */
function oldShapes(items: Record<string, any>[]) {
  return items.filter(
    (i) =>
      (i.__edb_e__ === 'bookStatsShard' && /^STATS#/.test(i.sk)) ||
      (i.__edb_e__ === 'idempotencyRecord' && i.__edb_v__ === '1') ||
      (i.__edb_e__ === 'code' && (i.gsi3pk === undefined || i.poolPartition !== undefined)) ||
      (i.__edb_e__ === 'rateCounter' && /^(caller|tenant)#/.test(i.scope)),
  );
}

const changedBy = (result: MigrationsResult) => Object.fromEntries(result.reports.map((r) => [r.migration, r.changed]));

describe("npm run migrate on the previous release's table", () => {
  let api: TestApi;
  let result: MigrationsResult;
  const progress: MigrationProgress[] = [];
  const before: Record<string, any> = {};

  beforeAll(async () => {
    api = await previousReleaseApi('migrations');
    // What today's code makes of that data unmigrated: the breaks the migrations exist for.
    const spring = bookNamed('Spring sale');
    before.stats = await stats(api, spring);
    before.codes = (await api.call('GET', `/coupons/${spring.id}/codes?limit=1000`, { token: await admin() })).json.items;
    before.rollback = await api.call('POST', `/redemptions/${manifest.redemptions[0]!.redemptionId}/rollback`, { token: await token('shop', 'service', 'checkout-service'), body: {} });
    result = await runMigrations(api.core, { segments: 4, onProgress: (p) => progress.push(p) });
  }, 120_000);
  afterAll(() => api?.close());

  it('read as zero, empty and unknown before migrating', () => {
    expect(before.stats).toEqual({ codes: 0, available: 0, assigned: 0, redeemed: 0 });
    expect(before.codes).toEqual([]);
    expectError(before.rollback, 404, 'REDEMPTION_NOT_FOUND');
  });

  it('runs every migration to the end, reporting what each read and changed', () => {
    expect(result.done).toBe(true);
    expect(result.pending).toEqual([]);
    expect(result.reports.map((r) => r.migration)).toEqual(MIGRATIONS.map((m) => m.id));
    expect(result.reports.every((r) => r.outcome === 'completed' && r.scanned >= fixture.items.length)).toBe(true);
    expect(changedBy(result)).toEqual(EXPECTED_CHANGES);
    // Progress came per page, ending with every segment of every migration done.
    for (const m of MIGRATIONS) {
      const last = progress.filter((p) => p.migration === m.id).at(-1);
      expect(last, m.id).toMatchObject({ phase: 'finish', lanes: 4, lanesDone: 4, changed: EXPECTED_CHANGES[m.id] });
    }
  });

  it('answers every book with the counts that release gave', async () => {
    for (const b of manifest.books) {
      const r = await api.call('GET', `/coupons/${b.id}`, { token: await admin(b.tenant) });
      expect(r.status).toBe(200);
      expect({ name: r.json.name, status: r.json.status, stats: r.json.stats }, b.name).toEqual({ name: b.name, status: b.status, stats: b.stats });
    }
  });

  it("lists every book's codes, each once", async () => {
    for (const b of manifest.books) {
      const r = await api.call('GET', `/coupons/${b.id}/codes?limit=1000`, { token: await admin(b.tenant) });
      const codes = r.json.items.map((i: { code: string }) => i.code).sort();
      const stored = fixtureItems(fixture, 'code', (i) => i.bookId?.S === b.id).map((i) => i.code!.S).sort();
      expect(codes, b.name).toEqual(stored);
      expect(r.json.items.filter((i: { status: string }) => i.status === 'available')).toHaveLength(b.stats.available);
    }
  });

  it('replays every keyed request its caller retries, as first answered', async () => {
    for (const k of manifest.keyed) {
      const r = await api.call(k.method, k.path, { token: await token(k.tenant, k.role, k.sub), body: k.body, headers: { 'idempotency-key': k.key } });
      expect({ status: r.status, replayed: r.headers.get('idempotent-replayed'), body: r.json }, `${k.tenant} ${k.sub} ${k.key}`).toEqual({
        status: k.status,
        replayed: 'true',
        body: k.response,
      });
    }
    // The request it was made with came along: the key with another body is refused.
    const k = manifest.keyed.find((x) => x.key === 'create-spring')!;
    const other = await api.call('POST', k.path, { token: await token(k.tenant, k.role, k.sub), body: { name: 'Another book' }, headers: { 'idempotency-key': k.key } });
    expectError(other, 422, 'IDEMPOTENCY_KEY_REUSED');
  });

  it('rolls a redemption back by the plain id its client holds, once, in its own tenant only', async () => {
    const first = manifest.redemptions[0]!;
    const service = await token('shop', 'service', 'checkout-service');
    const spring = bookNamed('Spring sale');
    const r = await api.call('POST', `/redemptions/${first.redemptionId}/rollback`, { token: service, body: { reason: 'order cancelled' } });
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ code: first.code, redemptionId: first.redemptionId, redemptionCount: 2, status: 'active' });
    expect((await stats(api, spring)).redeemed).toBe(spring.stats.redeemed - 1);
    expectError(await api.call('POST', `/redemptions/${first.redemptionId}/rollback`, { token: service, body: {} }), 409, 'REDEMPTION_ALREADY_ROLLED_BACK');
    const elsewhere = manifest.redemptions.find((x) => x.tenant === 'other')!;
    expectError(await api.call('POST', `/redemptions/${elsewhere.redemptionId}/rollback`, { token: service, body: {} }), 404, 'REDEMPTION_NOT_FOUND');
  });

  it("keeps the lock that release handed out, the guesser's refusal and the books' gates", async () => {
    const lock = manifest.heldLock;
    const redeemed = await api.call('POST', `/coupons/redeem/${lock.code}`, { token: await token('shop', 'user', lock.userId), body: { lockId: lock.lockId } });
    expect(redeemed.status).toBe(200);
    expect(redeemed.json.redemptionId).toMatch(new RegExp(`^${lock.code}\\.[0-9a-f-]{36}$`));
    const guesser = await api.call('POST', '/coupons/lock/NOPE-ZZZ', { token: await token('shop', 'user', manifest.guesser.sub), body: {} });
    expectError(guesser, 429, 'RATE_LIMITED');
    const claim = async (b: string, sub: string) => api.call('POST', '/coupons/assign', { token: await token('shop', 'user', sub), body: { bookId: bookNamed(b).id } });
    expect((await claim('Spring sale', 'newcomer')).status).toBe(201);
    expectError(await claim('Winter (paused)', 'newcomer'), 409, 'BOOK_NOT_ACTIVE');
  });

  it("leaves nothing in the previous release's shape, and every invariant holds", async () => {
    const items = await api.scan();
    expect(oldShapes(items)).toEqual([]);
    const lookups = items.filter((i) => i.__edb_e__ === 'redemptionLookup');
    expect(lookups.map((l) => `${l.tenant} ${l.redemptionId} ${l.code}`).sort()).toEqual(
      manifest.redemptions.map((r) => `${r.tenant} ${r.redemptionId} ${r.code}`).sort(),
    );
    expect(checkInvariants(items, api.core.now()).violations).toEqual([]);
  });

  it('skips every migration on a second run, which changes nothing', async () => {
    const items = await api.scan();
    const again = await runMigrations(api.core);
    expect(again.reports.map((r) => r.outcome)).toEqual(MIGRATIONS.map(() => 'complete'));
    expect(await api.scan()).toEqual(items);
  });

  it('finds nothing left to do when run again from scratch', async () => {
    const isBookkeeping = (i: Record<string, any>) => i.pk === 'SYS#MIGRATIONS' || i.pk.startsWith(`T#${MIGRATIONS_TENANT}#`) || i.gsi2pk === 'SYS#JOBS#UNFINISHED';
    const items = (await api.scan()).filter((i) => !isBookkeeping(i));
    // As if no run had ever been recorded: every migration goes through the table again.
    const states = (await api.scan()).filter((i) => i.pk === 'SYS#MIGRATIONS');
    for (const s of states) await api.core.store.client.send(new DeleteCommand({ TableName: api.table, Key: { pk: s.pk, sk: s.sk } }));
    const again = await runMigrations(api.core, { segments: 2 });
    expect(again.reports.map((r) => r.outcome)).toEqual(MIGRATIONS.map(() => 'completed'));
    expect(changedBy(again)).toEqual(Object.fromEntries(MIGRATIONS.map((m) => [m.id, 0])));
    expect((await api.scan()).filter((i) => !isBookkeeping(i))).toEqual(items);
  });

  it("answers the deploy's invocations: what it did, or an error that stops the deploy", async () => {
    const logs: Record<string, unknown>[] = [];
    const migrator = createMigrator(api.core, (l) => logs.push(l));
    const plenty = { getRemainingTimeInMillis: () => 900_000 };
    const done = await migrator({ phase: 'finish', drainSeconds: 0 }, plenty);
    expect(done).toMatchObject({ done: true, pending: [] });
    expect(logs.at(-1)).toMatchObject({ msg: 'migrations', phase: 'finish', done: true });
    await expect(migrator({ phase: 'later' as never }, plenty)).rejects.toThrow('phase must be one of prepare, finish');
  });

  it("keeps migration jobs out of every tenant's reach", async () => {
    const jobId = result.reports[0]!.jobId!;
    expectError(await api.call('GET', `/jobs/${encodeURIComponent(jobId)}`, { token: await admin() }), 404, 'JOB_NOT_FOUND');
  });
});

describe('a killed run', () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await previousReleaseApi('migrations-killed');
  }, 60_000);
  afterAll(() => api?.close());

  it('resumes where it stopped and counts every change exactly once', async () => {
    const oldItems = oldShapes(await api.scan()).length;
    // A deploy's prepare cut short, and then the table finished by hand: that prepare run must not stay open.
    const preparing = await runMigrations(api.core, { phase: 'prepare', segments: 2, pageSize: 10, stopAfterItems: 20 });
    expect(preparing.reports.at(-1)!.outcome).toBe('stopped');
    const stopped = await runMigrations(api.core, { segments: 4, pageSize: 10, stopAfterItems: 60, runnerId: 'first' });
    expect(stopped.done).toBe(false);
    expect(stopped.reports.at(-1)!.outcome).toBe('stopped');
    expect(stopped.pending).toContain(stopped.reports.at(-1)!.migration);
    // Part of the table is migrated, part is not.
    const halfway = await api.scan();
    expect(oldShapes(halfway).length).toBeGreaterThan(0);
    expect(oldShapes(halfway).length).toBeLessThan(oldItems);

    // The deploy's function out of time: an error (the deploy stops there), the run resumable.
    const outOfTime = createMigrator(api.core, () => undefined)({ phase: 'finish' }, { getRemainingTimeInMillis: () => SAFETY_MARGIN_MS });
    await expect(outOfTime).rejects.toThrow(/stopped at the function's time limit, resumable/);

    // Resumed on a database that times out, throttles and conflicts now and then: slower, not wrong.
    const faults = installFaultInjection(api.core.store.client);
    faults.inject('Timeout', 3);
    faults.inject('Throttling', 4, 'ScanCommand');
    faults.inject('TransactionConflict', 6, 'TransactWriteItemsCommand');
    const resumed = await runMigrations(api.core, { segments: 4, pageSize: 10, runnerId: 'second' }).finally(() => faults.clear());
    expect(resumed.done).toBe(true);
    expect(resumed.pending).toEqual([]);
    // The resumed job kept its lanes: what the first run committed is counted once, in the same totals.
    expect(changedBy(resumed)).toEqual(EXPECTED_CHANGES);
    for (const b of manifest.books) expect(await stats(api, b), b.name).toEqual(b.stats);
    const items = await api.scan();
    expect(oldShapes(items)).toEqual([]);
    expect(checkInvariants(items, api.core.now()).violations).toEqual([]);
    expect((await listUnfinishedJobs(api.core)).filter((j) => j.tenant === MIGRATIONS_TENANT)).toEqual([]);
  });
});

describe('a deploy: prepare while the previous release still writes, finish while today\'s code serves', () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await previousReleaseApi('migrations-deploy');
  }, 60_000);
  afterAll(() => api?.close());

  /** A code upload exactly as the previous release wrote one: the code in its shape, its shard's counters on the old key, in one transaction. */
  async function previousReleaseUpload(bookId: string, code: string, shard: number) {
    const template = fixtureItems(fixture, 'code', (i) => i.bookId?.S === bookId && i.status?.S === 'available')[0]!;
    const tenant = template.tenant!.S!;
    const slot = randomBytes(8).toString('hex');
    const poolPartition = `T#${tenant}#BOOK#${bookId}#POOL#${shard}`;
    await api.core.store.client.send(
      new TransactWriteCommand({
        TransactItems: [
          {
            Put: {
              TableName: api.table,
              Item: {
                // Whatever that release put on an available code of this book, for this code.
                ...Object.fromEntries(Object.entries(template).map(([k, v]) => [k, v.S ?? Number(v.N)])),
                pk: `T#${tenant}#CODE#${code}`,
                code,
                shard,
                poolPartition,
                poolSlot: slot,
                gsi1pk: poolPartition,
                gsi1sk: slot,
                createdAt: new Date(api.core.now()).toISOString(),
              },
              ConditionExpression: 'attribute_not_exists(pk)',
            },
          },
          {
            Update: {
              TableName: api.table,
              Key: { pk: `T#${tenant}#BOOK#${bookId}`, sk: `STATS#${shard}` },
              UpdateExpression: 'ADD #codes :one, #available :one',
              ConditionExpression: 'attribute_exists(pk) AND attribute_exists(sk)',
              ExpressionAttributeNames: { '#codes': 'codes', '#available': 'available' },
              ExpressionAttributeValues: { ':one': 1 },
            },
          },
        ],
      }),
    );
  }

  it('keeps both shapes after prepare, finishes exactly under load, and every invariant holds', async () => {
    const spring = bookNamed('Spring sale');
    const generated = bookNamed('Generated');
    const oldItems = oldShapes(await api.scan()).length;

    // prepare, with the previous release uploading codes into the shards it is moving.
    const uploads = Array.from({ length: 24 }, (_, i) =>
      i % 2 ? previousReleaseUpload(spring.id, `LATE-S${i}`, i % 4) : previousReleaseUpload(generated.id, `LATE-G${i}`, i % 8),
    );
    const [prepared] = await Promise.all([runMigrations(api.core, { phase: 'prepare', segments: 4, pageSize: 25 }), ...uploads]);
    expect(prepared.done).toBe(true);
    expect(prepared.reports.map((r) => r.outcome)).toEqual(MIGRATIONS.map(() => 'prepared'));
    expect(prepared.pending).toEqual(MIGRATIONS.map((m) => m.id));
    // Nothing the previous release reads is gone: it could go on serving.
    expect(oldShapes(await api.scan()).length).toBe(oldItems + uploads.length);

    // Today's code takes traffic: it finds its items already.
    const claim = async (b: { id: string }, sub: string) => api.call('POST', '/coupons/assign', { token: await token('shop', 'user', sub), body: { bookId: b.id } });
    expect((await claim(spring, 'early-bird')).status).toBe(201);

    // finish, while today's code claims, redeems, rolls back plain ids and replays keys.
    const service = await token('shop', 'service', 'checkout-service');
    const traffic = async () => {
      const answers: number[] = [];
      for (let i = 0; i < 6; i++) {
        const c = await claim(i % 2 ? spring : generated, `buyer-${i}`);
        answers.push(c.status);
        if (c.status === 201) answers.push((await api.call('POST', `/coupons/redeem/${c.json.code}`, { token: await token('shop', 'user', `buyer-${i}`), body: {} })).status);
      }
      for (const r of manifest.redemptions.filter((x) => x.tenant === 'shop').slice(0, 3)) {
        answers.push((await api.call('POST', `/redemptions/${r.redemptionId}/rollback`, { token: service, body: {} })).status);
      }
      return answers;
    };
    const [finished, ...answers] = await Promise.all([runMigrations(api.core, { segments: 4, pageSize: 25 }), traffic(), traffic()]);
    expect(finished.done).toBe(true);
    expect(finished.pending).toEqual([]);
    // Every request was answered (a rollback raced by its twin is refused once: 409).
    for (const a of answers.flat()) expect([200, 201, 409, 404]).toContain(a);

    const items = await api.scan();
    expect(oldShapes(items)).toEqual([]);
    // Stats equal the items (invariant 5) with the late uploads, today's claims, redemptions and rollbacks all counted once.
    expect(checkInvariants(items, api.core.now()).violations).toEqual([]);
    const codes = (b: { id: string }) => items.filter((i) => i.__edb_e__ === 'code' && i.bookId === b.id).length;
    expect((await stats(api, spring)).codes).toBe(codes(spring));
    expect(codes(spring) + codes(generated)).toBe(spring.stats.codes + generated.stats.codes + uploads.length);
  });
});
