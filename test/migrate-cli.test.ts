import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { createDocumentClient, createDynamoDbClient, ensureTable, MIGRATIONS } from '@coupons/core';
import { runProcess } from '../scripts/lib/run-process.ts';
import { checkInvariants } from './support/invariants.ts';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { startDynamoDbLocal, type RunningDynamoDbLocal } from '../scripts/lib/dynamodb-local.ts';
import { createPreviousReleaseTable, fixtureItems, loadPreviousRelease, readPreviousRelease } from './support/previous-release.ts';

// `npm run migrate` as an operator runs it: its own process, on a table holding what the previous
// release stored (test/fixtures/previous-release.json), killed with SIGKILL mid-run and run again.
// The command runs on the real clock, so only what does not expire is counted exactly here
// (test/migrations.test.ts runs the migrations on the fixture's clock).

const fixture = readPreviousRelease();
const endpoint = inject('dynamoDbEndpoint');
const table = `migrate-cli-${randomUUID().slice(0, 8)}`;
const raw = createDynamoDbClient({ DYNAMODB_ENDPOINT: endpoint, AWS_REGION: 'us-east-1' });
// A killed run's lease lapses after a second, so the next run takes its job over at once.
const env = { ...process.env, DYNAMODB_ENDPOINT: endpoint, TABLE_NAME: table, AWS_REGION: 'us-east-1', JOB_LEASE_SECONDS: '1' };
const migrate = (...args: string[]) => runProcess(process.execPath, ['--import', 'tsx', 'scripts/migrate.ts', ...args], { env });

async function scan(client = raw, tableName = table) {
  const doc = createDocumentClient(client);
  const items: Record<string, any>[] = [];
  let ExclusiveStartKey: Record<string, any> | undefined;
  do {
    const page = await doc.send(new ScanCommand({ TableName: tableName, ConsistentRead: true, ExclusiveStartKey }));
    items.push(...(page.Items ?? []));
    ExclusiveStartKey = page.LastEvaluatedKey;
  } while (ExclusiveStartKey);
  return items;
}

/** The summary's line for a migration: outcome, items read, items changed. */
const summaryOf = (stdout: string, id: string) => {
  const m = new RegExp(`^\\s+${id}\\s+(\\S+)\\s+([\\d,]+) read\\s+([\\d,]+) changed$`, 'm').exec(stdout);
  return m && { outcome: m[1], changed: Number(m[3]!.replace(/,/g, '')) };
};

describe('npm run migrate', () => {
  beforeAll(async () => {
    // As a deployed stage holds it once the deploy added today's indexes (the next describe starts from the old table itself).
    await ensureTable(raw, table, { stream: false });
    await loadPreviousRelease(raw, table, fixture);
  }, 60_000);
  afterAll(() => raw.destroy());

  // Child processes on a loaded machine: generous time, as the other CLI tests give theirs.
  it('lists what is pending, and refuses a bad option', { timeout: 120_000 }, async () => {
    const status = await migrate('--status');
    expect(status.code, status.stderr).toBe(0);
    for (const m of MIGRATIONS) expect(status.stdout).toContain(m.id);
    const bad = await migrate('--phase', 'later');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--phase must be prepare or finish');
  });

  it('killed with SIGKILL mid-run and run again, completes every migration with exact counts', { timeout: 180_000 }, async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/migrate.ts', '--segments', '2', '--page-size', '10'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    await new Promise<void>((res, rej) => {
      child.stderr!.on('data', (d) => {
        stderr += d;
        // Killed at its first committed page: the first migration is under way, nothing is complete.
        if (/migrate: 001-\S+ \(finish\): \d+ items read/.test(stderr)) res();
      });
      child.on('exit', () => rej(new Error(`exited before any progress: ${stderr}`)));
    });
    child.kill('SIGKILL');
    await new Promise((res) => child.once('close', res));
    const halfway = await scan();
    expect(halfway.some((i) => i.__edb_e__ === 'bookStatsShard' && /^STATS#/.test(i.sk))).toBe(true);

    const again = await migrate('--segments', '2', '--page-size', '10');
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/migrate: 005-miss-counters-scope \(finish\): [\d,]+ items read, [\d,]+ changed, 2\/2 segments done/);
    expect(again.stdout).toContain('every migration is complete');
    // The killed run's job was resumed, not restarted: its changes and the resumed run's are one total.
    expect(summaryOf(again.stdout, '001-stats-shards-own-partition')).toEqual({ outcome: 'completed', changed: fixtureItems(fixture, 'bookStatsShard').length });
    expect(summaryOf(again.stdout, '002-redemption-ids-name-their-code')).toEqual({ outcome: 'completed', changed: fixtureItems(fixture, 'redemption').length });
    expect(summaryOf(again.stdout, '004-codes-in-by-book-index')).toEqual({ outcome: 'completed', changed: fixtureItems(fixture, 'code').length });

    const items = await scan();
    expect(items.filter((i) => (i.__edb_e__ === 'bookStatsShard' && /^STATS#/.test(i.sk)) || (i.__edb_e__ === 'code' && !i.gsi3pk))).toEqual([]);
    expect(checkInvariants(items).violations).toEqual([]);

    const third = await migrate();
    expect(third.code).toBe(0);
    for (const m of MIGRATIONS) expect(summaryOf(third.stdout, m.id)?.outcome).toBe('complete');
  });
});

describe("npm run migrate on the previous release's own table (npm start's DATA_DIR)", () => {
  // Building the byBook index reads every item, which the suite's shared DynamoDB Local, busy with every
  // other file, can take minutes to get to: this file's own instance does it in about a second.
  let own: RunningDynamoDbLocal;
  let client: ReturnType<typeof createDynamoDbClient>;
  const oldTable = 'coupons';
  beforeAll(async () => {
    own = await startDynamoDbLocal();
    client = createDynamoDbClient({ DYNAMODB_ENDPOINT: own.endpoint, AWS_REGION: 'us-east-1' });
    await createPreviousReleaseTable(client, oldTable, fixture);
  }, 120_000);
  afterAll(async () => {
    client?.destroy();
    await own?.stop();
  });

  it('gives the table the index it lacks, then migrates it: every code listed by book again', { timeout: 180_000 }, async () => {
    const run = await runProcess(process.execPath, ['--import', 'tsx', 'scripts/migrate.ts'], { env: { ...env, DYNAMODB_ENDPOINT: own.endpoint, TABLE_NAME: oldTable } });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('every migration is complete');
    const doc = createDocumentClient(client);
    for (const b of fixture.manifest.books) {
      const codes = fixtureItems(fixture, 'code', (i) => i.bookId?.S === b.id);
      const shards = new Set(codes.map((c) => c.shard!.N));
      let listed = 0;
      for (const shard of shards) {
        const { Items } = await doc.send(
          new QueryCommand({ TableName: oldTable, IndexName: 'byBook', KeyConditionExpression: 'gsi3pk = :pk', ExpressionAttributeValues: { ':pk': `T#${b.tenant}#BOOK#${b.id}#CODES#${shard}` } }),
        );
        listed += Items?.length ?? 0;
      }
      expect(listed, b.name).toBe(codes.length);
    }
    expect(checkInvariants(await scan(client, oldTable)).violations).toEqual([]);
  });
});
