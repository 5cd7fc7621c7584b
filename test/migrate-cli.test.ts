import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { createDocumentClient, createDynamoDbClient, ensureTable, MIGRATIONS } from '@coupons/core';
import { runProcess } from '../scripts/lib/run-process.ts';
import { checkInvariants } from './support/invariants.ts';
import { createPreviousReleaseTable, fixtureItems, readPreviousRelease } from './support/previous-release.ts';

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

async function scan() {
  const doc = createDocumentClient(raw);
  const items: Record<string, any>[] = [];
  let ExclusiveStartKey: Record<string, any> | undefined;
  do {
    const page = await doc.send(new ScanCommand({ TableName: table, ConsistentRead: true, ExclusiveStartKey }));
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
    await createPreviousReleaseTable(raw, table, fixture);
    // The indexes it lacks, as the command would add them (test/migrations.test.ts goes that way): here it is the command that is
    // timed. Without a stream, as the harness's tables: building an index on a loaded DynamoDB Local that also streams is slow.
    await ensureTable(raw, table, { stream: false });
  }, 180_000);
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
