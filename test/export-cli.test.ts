import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { unwrap } from '@coupons/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXPORT_COLUMNS } from '../scripts/codes/export-checkpoint.ts';
import { admin, bookWithCodes, startTestApi, type TestApi } from './support/harness.ts';
import { waitFor } from './support/wait-for.ts';

// `npm run codes -- export` as a user runs it: its own process, HTTP to a real API over DynamoDB
// Local, stopped with SIGKILL and SIGINT and run again. The table is what the file must equal.
/** Shards of every book here, chosen per book at creation. */
const SHARDS = 4;
let api: TestApi;
let dir: string;
let bookId: string;
let tableRows: Map<string, string[]>;
const N = 1500;

beforeAll(async () => {
  api = await startTestApi('export-cli');
  dir = mkdtempSync(join(tmpdir(), 'export-cli-'));
  const { book, codes } = await bookWithCodes(api, N, { shards: SHARDS, maxRedemptionsPerUser: 2 });
  bookId = book.id;
  const { coupons } = api.client(await admin());
  for (const [i, code] of codes.slice(0, 6).entries()) await unwrap(coupons.assign[':code'].$post({ param: { code }, json: { userId: `user-${i}` } }));
  for (const code of codes.slice(0, 2)) {
    for (let i = 0; i < 2; i++) await unwrap(coupons.redeem[':code'].$post({ param: { code }, json: { userId: `user-${codes.indexOf(code)}` } }));
  }
  await unwrap(coupons.redeem[':code'].$post({ param: { code: codes[2]! }, json: { userId: 'user-2' } }));
  // What each code's row must say, from the items themselves.
  const items = (await api.scan()).filter((i) => i.__edb_e__ === 'code' && i.bookId === bookId);
  tableRows = new Map(
    items.map((i) => {
      const status = i.status === 'available' ? 'available' : i.redemptionCount >= (i.maxRedemptions ?? 1) ? 'redeemed' : 'assigned';
      return [i.code, [i.code, status, i.userId ?? '', i.assignedAt ?? '', String(i.redemptionCount), String(i.maxRedemptions ?? 2), '']];
    }),
  );
}, 120_000);
afterAll(async () => {
  await api.close();
  rmSync(dir, { recursive: true, force: true });
});

interface Run {
  child: ChildProcess;
  done: Promise<{ code: number | null; stdout: string; stderr: string }>;
}

/** The CLI in its own process (`node --import tsx`, so signals reach it). */
async function cli(args: string[]): Promise<Run> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/codes.ts', 'export', ...args, '--api', api.base, '--token', await admin(), '--progress', 'none'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, COUPONS_TOKEN: '', COUPONS_API_KEY: '', COUPONS_API: '' },
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((res) => child.once('exit', (code) => res({ code, stdout, stderr })));
  return { child, done };
}
const run = async (args: string[]) => (await cli(args)).done;

const checkpoint = (out: string) => {
  try {
    return JSON.parse(readFileSync(`${out}.checkpoint.json`, 'utf8'));
  } catch {
    return undefined;
  }
};

/** The file is the header and then exactly one row per code of the book, each saying what the table says. */
function expectExactly(text: string, expected: Map<string, string[]>) {
  const [header, ...lines] = text.split('\n');
  expect(header).toBe(EXPORT_COLUMNS.join(','));
  expect(lines.pop()).toBe('');
  const rows = lines.map((l) => l.split(','));
  const codes = rows.map((r) => r[0]!);
  expect(new Set(codes).size).toBe(codes.length);
  expect([...codes].sort()).toEqual([...expected.keys()].sort());
  for (const r of rows) expect(r).toEqual(expected.get(r[0]!));
}

describe('npm run codes -- export', () => {
  it('writes every code of the book once with its state, holder and redemptions, and reports on stdout', async () => {
    const out = join(dir, 'all.csv');
    const r = await run(['--book', bookId, '--out', out, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expectExactly(readFileSync(out, 'utf8'), tableRows);
    const report = JSON.parse(r.stdout);
    expect(report).toMatchObject({ command: 'export', bookId, completed: true, resumed: false, rows: N, rowsThisRun: N, out });
    expect(checkpoint(out)).toMatchObject({ completed: true, rows: N, cursor: null });

    // Run again: the export is done, the file stays as it is.
    const before = readFileSync(out, 'utf8');
    const again = await run(['--book', bookId, '--out', out, '--json']);
    expect(again.code).toBe(0);
    expect(again.stderr).toContain('already holds the whole export');
    expect(readFileSync(out, 'utf8')).toBe(before);
  });

  it('killed with SIGKILL mid-export, even after rows the checkpoint does not cover, and run again: each code exactly once', async () => {
    const out = join(dir, 'killed.csv');
    const first = await cli(['--book', bookId, '--out', out, '--page-size', '5']);
    await waitFor('some pages', () => (checkpoint(out)?.rows ?? 0) >= 200);
    first.child.kill('SIGKILL');
    expect((await first.done).code).toBe(null);
    const cp = checkpoint(out);
    expect(cp.completed).toBe(false);
    expect(cp.rows).toBeLessThan(N);
    // A page written but not yet checkpointed, and half a row of a write cut short.
    appendFileSync(out, `${[...tableRows.values()][0]!.join(',')}\nHALF-A-RO`);

    const second = await run(['--book', bookId, '--out', out, '--page-size', '50', '--json']);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).toContain(`Resuming ${out} after`);
    const report = JSON.parse(second.stdout);
    expect(report).toMatchObject({ completed: true, resumed: true, rows: N });
    expect(report.rowsThisRun).toBe(N - cp.rows);
    expectExactly(readFileSync(out, 'utf8'), tableRows);
  });

  it('Ctrl-C writes the page in hand, saves the checkpoint and exits 130; the rerun completes exactly', async () => {
    const out = join(dir, 'interrupted.csv');
    const first = await cli(['--book', bookId, '--out', out, '--page-size', '5']);
    await waitFor('some pages', () => (checkpoint(out)?.rows ?? 0) >= 100);
    first.child.kill('SIGINT');
    const stopped = await first.done;
    expect(stopped.code, stopped.stderr).toBe(130);
    expect(stopped.stderr).toContain('run the same command to resume');
    const cp = checkpoint(out);
    expect(cp.completed).toBe(false);
    // A polite stop leaves the file exactly as long as the checkpoint says.
    expect(readFileSync(out).length).toBe(cp.bytes);
    const second = await run(['--book', bookId, '--out', out]);
    expect(second.code, second.stderr).toBe(0);
    expectExactly(readFileSync(out, 'utf8'), tableRows);
  });

  it('--status filters; without --out the CSV goes to stdout and the report to stderr', async () => {
    for (const status of ['assigned', 'redeemed', 'available'] as const) {
      const r = await run(['--book', bookId, '--status', status, '--page-size', '200', '--json']);
      expect(r.code, r.stderr).toBe(0);
      const expected = new Map([...tableRows].filter(([, row]) => row[1] === status));
      expectExactly(r.stdout, expected);
      expect(JSON.parse(r.stderr.trim().split('\n').at(-1)!)).toMatchObject({ completed: true, rows: expected.size, out: null });
    }
  });

  it('stops cleanly when the reader of its standard output goes away (`| head`)', async () => {
    const { child, done } = await cli(['--book', bookId, '--page-size', '10']);
    child.stdout!.once('data', () => child.stdout!.destroy());
    const r = await done;
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/Stopped: .*EPIPE/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('refuses to overwrite a file it did not write, to resume another export, a bad --status; an unknown book fails before any file is made', async () => {
    const foreign = join(dir, 'foreign.csv');
    writeFileSync(foreign, 'keep me\n');
    const r1 = await run(['--book', bookId, '--out', foreign]);
    expect(r1.code).toBe(2);
    expect(r1.stderr).toContain('--restart');
    expect(readFileSync(foreign, 'utf8')).toBe('keep me\n');

    const other = join(dir, 'other.csv');
    expect((await run(['--book', bookId, '--status', 'assigned', '--out', other])).code).toBe(0);
    const r2 = await run(['--book', bookId, '--out', other]);
    expect(r2.code).toBe(2);
    expect(r2.stderr).toContain('belongs to another export');
    expect((await run(['--book', bookId, '--out', other, '--restart'])).code).toBe(0);
    expectExactly(readFileSync(other, 'utf8'), tableRows);

    const r3 = await run(['--book', bookId, '--status', 'locked']);
    expect(r3.code).toBe(2);
    expect(r3.stderr).toContain('--status must be one of');

    const missing = join(dir, 'missing.csv');
    const r4 = await run(['--book', 'no-such-book', '--out', missing]);
    expect(r4.code).toBe(1);
    expect(r4.stderr).toContain('BOOK_NOT_FOUND');
    expect(existsSync(missing)).toBe(false);
  });
});
