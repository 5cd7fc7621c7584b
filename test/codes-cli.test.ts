import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { admin, createBook, startTestApi, uniqueCode, type TestApi } from './support/harness.ts';
import { checkInvariants } from './support/invariants.ts';

// `npm run codes` as a user runs it: a separate process talking HTTP to a real API, stopped the
// hard way (SIGKILL) and the polite way (SIGINT), then run again. The table is the ground truth.
let api: TestApi;
let dir: string;
beforeAll(async () => {
  api = await startTestApi('codes-cli');
  dir = mkdtempSync(join(tmpdir(), 'codes-cli-'));
});
afterAll(async () => {
  await api.close();
  rmSync(dir, { recursive: true, force: true });
});

interface Run {
  child: ChildProcess;
  done: Promise<{ code: number | null; stdout: string; stderr: string }>;
}

/** The CLI in its own process: `node --import tsx` (not the tsx wrapper) so signals reach it. */
async function cli(args: string[], { withToken = true } = {}): Promise<Run> {
  const auth = withToken ? ['--token', await admin()] : [];
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/codes.ts', ...args, '--api', api.base, ...auth], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, COUPONS_TOKEN: '', COUPONS_API: '' },
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((res) =>
    child.once('exit', (code) => res({ code, stdout, stderr })),
  );
  return { child, done };
}

async function waitFor<T>(what: string, fn: () => T | undefined | false, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 15));
  }
}

const readCheckpoint = (path: string) => {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    return undefined;
  }
};

const codesOf = async (bookId: string) => (await api.scan()).filter((i) => i.__edb_e__ === 'code' && i.tenant === 't1' && i.bookId === bookId).map((i) => i.code as string);
const stats = async (bookId: string) => (await api.call('GET', `/coupons/${bookId}`, { token: await admin() })).json.stats;

/**
 * A CSV of `n` fresh codes with a header, plus what a real export has: codes repeated further
 * down (some within 100 lines, some far), invalid ones, blank lines, lower case and padding.
 */
function makeFile(name: string, n: number) {
  const fresh = Array.from({ length: n }, () => uniqueCode('CLI'));
  const lines = ['code,campaign'];
  // Each repeat pairs the line of the code's first appearance with the line that repeats it.
  const expected = { valid: new Set<string>(), invalidLines: [] as number[], repeatLines: [] as number[], pairs: [] as [number, number][] };
  const lineOf = new Map<string, number>();
  let i = 0;
  for (const code of fresh) {
    lines.push(i % 7 === 0 ? `  ${code.toLowerCase()} ,spring` : `${code},spring`);
    lineOf.set(code, lines.length);
    expected.valid.add(code);
    i++;
    if (i % 200 === 0) {
      for (const again of [fresh[i - 3]!, fresh[Math.floor(i / 2)]!]) {
        // One repeat close by (the same chunk or the next), one far back (another chunk).
        lines.push(`${again},again`);
        expected.repeatLines.push(lines.length);
        expected.pairs.push([lineOf.get(again)!, lines.length]);
      }
      lines.push(i % 400 === 0 ? `${'X'.repeat(300)},too long` : 'bad code!,x');
      expected.invalidLines.push(lines.length);
      lines.push('');
    }
  }
  const path = join(dir, name);
  writeFileSync(path, `${lines.join('\n')}\n`);
  return { path, fresh, lines: lines.length, ...expected };
}

describe('npm run codes -- load', () => {
  it('killed with SIGKILL mid-file and run again: exactly the file’s codes in the table, each counted once', async () => {
    const book = await createBook(api, { name: 'CLI load' });
    const other = await createBook(api, { name: 'CLI elsewhere' });
    const file = makeFile('codes.csv', 6000);
    // 40 of the file's codes already exist in another book of the tenant: duplicates, left alone.
    const taken = file.fresh.filter((_, k) => k % 150 === 5);
    expect((await api.call('POST', '/coupons/codes', { token: await admin(), body: { bookId: other.id, codes: taken } })).json.inserted).toBe(taken.length);

    const args = ['load', '--book', book.id, '--file', file.path, '--chunk-size', '100', '--parallel', '4', '--json'];
    const first = await cli(args);
    const cpPath = `${file.path}.checkpoint.json`;
    await waitFor('ten chunks done', () => (readCheckpoint(cpPath)?.next.chunk ?? 0) >= 10);
    first.child.kill('SIGKILL');
    const killed = await first.done;
    expect(killed.code).toBe(null);
    const atKill = readCheckpoint(cpPath);
    expect(atKill.completed).toBe(false);
    const inTableAtKill = (await codesOf(book.id)).length;
    expect(inTableAtKill).toBeLessThan(file.fresh.length - taken.length);
    // Some chunks after the checkpoint were in flight: their codes are in the table, uncounted.
    expect(inTableAtKill).toBeGreaterThanOrEqual(atKill.totals.inserted);

    const second = await cli(args);
    const resumed = await second.done;
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toMatch(/Resuming/);
    const report = JSON.parse(resumed.stdout);

    // The table holds exactly the file's valid codes, minus those another book already had.
    const inTable = new Set(await codesOf(book.id));
    const expected = new Set([...file.valid].filter((c) => !taken.includes(c)));
    expect(inTable.size).toBe(expected.size);
    for (const c of expected) expect(inTable.has(c)).toBe(true);
    // …and the report counts each line once: the re-sent chunks answered their first reports.
    expect(report).toMatchObject({
      completed: true,
      resumed: true,
      lines: file.lines,
      header: 1,
      blank: file.invalidLines.length,
      inserted: expected.size,
      duplicates: file.repeatLines.length + taken.length,
      invalid: file.invalidLines.length,
    });
    expect(report.header + report.blank + report.inserted + report.duplicates + report.invalid).toBe(report.lines);
    expect(await stats(book.id)).toEqual({ codes: expected.size, available: expected.size, assigned: 0, redeemed: 0 });

    // The rejects file names every rejected line once, with its number.
    const rejects = readFileSync(report.rejectsFile, 'utf8').trim().split('\n').slice(1).map((l) => l.split(','));
    expect(rejects.filter((r) => r[1] === 'invalid').map((r) => Number(r[0]))).toEqual(file.invalidLines);
    const dupLines = rejects.filter((r) => r[1] === 'duplicate').map((r) => Number(r[0]));
    expect(new Set(dupLines).size).toBe(dupLines.length);
    expect(dupLines).toHaveLength(file.repeatLines.length + taken.length);
    // Of a code's two lines exactly one is the duplicate: the later one when both are in one
    // chunk; across chunks sent in parallel, whichever reached the server second.
    for (const [a, b] of file.pairs) expect([dupLines.includes(a), dupLines.includes(b)].filter(Boolean), `lines ${a} and ${b}`).toHaveLength(1);
    const takenLines = file.fresh.flatMap((c, k) => (taken.includes(c) ? [k] : []));
    expect(takenLines).toHaveLength(taken.length);

    // Run once more: already loaded, nothing sent.
    const third = await (await cli(args)).done;
    expect(third.code).toBe(0);
    expect(third.stderr).toMatch(/already loaded/);
    expect(JSON.parse(third.stdout).inserted).toBe(expected.size);
    expect(checkInvariants(await api.scan()).violations).toEqual([]);
  });

  it('Ctrl-C finishes the requests in flight, saves the checkpoint and exits 130; the rerun completes exactly', async () => {
    const book = await createBook(api, { name: 'CLI interrupt' });
    const lines = Array.from({ length: 4000 }, () => uniqueCode('INT'));
    const path = join(dir, 'plain.txt');
    writeFileSync(path, lines.join('\r\n')); // CRLF, no final newline
    const args = ['load', '--book', book.id, '--file', path, '--chunk-size', '100', '--parallel', '3', '--json', '--progress', 'lines'];
    const first = await cli(args);
    const cpPath = `${path}.checkpoint.json`;
    await waitFor('five chunks', () => (readCheckpoint(cpPath)?.next.chunk ?? 0) >= 5);
    first.child.kill('SIGINT');
    const stopped = await first.done;
    expect(stopped.code).toBe(130);
    expect(stopped.stderr).toMatch(/finishing the requests in flight/);
    const cp = readCheckpoint(cpPath);
    // Nothing in flight was abandoned: the table holds exactly what the checkpoint counted.
    expect((await codesOf(book.id)).length).toBe(cp.totals.inserted);
    expect(cp.totals.lines).toBe(cp.next.line);

    const second = await (await cli(args)).done;
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).toMatch(/progress:/);
    expect(JSON.parse(second.stdout)).toMatchObject({ completed: true, lines: 4000, inserted: 4000, duplicates: 0, invalid: 0 });
    expect(new Set(await codesOf(book.id))).toEqual(new Set(lines));
  });

  it('refuses a checkpoint for another book or a changed file, and a missing token', async () => {
    const book = await createBook(api, { name: 'CLI refusals' });
    const path = join(dir, 'small.txt');
    writeFileSync(path, 'SMALL-0001\nSMALL-0002\n');
    expect((await (await cli(['load', '--book', book.id, '--file', path, '--json'])).done).code).toBe(0);
    const other = await (await cli(['load', '--book', 'another-book', '--file', path])).done;
    expect(other.code).toBe(2);
    expect(other.stderr).toMatch(/another load/);
    writeFileSync(path, 'SMALL-0001\nSMALL-0002\nSMALL-0003\n');
    const changed = await (await cli(['load', '--book', book.id, '--file', path])).done;
    expect(changed.code).toBe(2);
    expect(changed.stderr).toMatch(/changed/);
    const restarted = await (await cli(['load', '--book', book.id, '--file', path, '--restart', '--json'])).done;
    expect(JSON.parse(restarted.stdout)).toMatchObject({ inserted: 1, duplicates: 2 });
    const unknown = await (await cli(['load', '--book', 'no-such-book', '--file', path, '--restart'])).done;
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/BOOK_NOT_FOUND/);
    expect(existsSync(`${path}.checkpoint.json`)).toBe(true);
    const anonymous = await (await cli(['load', '--book', book.id, '--file', path], { withToken: false })).done;
    expect(anonymous.code).toBe(2);
    expect(anonymous.stderr).toMatch(/token/);
  });
});

describe('npm run codes -- generate', () => {
  it('starts a job above 10,000 codes and follows it; interrupted and run again, it follows the same job', async () => {
    const book = await createBook(api, { name: 'CLI generate', codePattern: 'CG-******' });
    const cp = join(dir, 'generate.checkpoint.json');
    const args = ['generate', '--book', book.id, '--count', '10020', '--checkpoint', cp, '--json'];
    const first = await cli(args);
    await waitFor('the job id', () => readCheckpoint(cp)?.jobId);
    first.child.kill('SIGINT');
    expect((await first.done).code).toBe(130);
    const { jobId } = readCheckpoint(cp);

    const second = await (await cli(args)).done;
    expect(second.code, second.stderr).toBe(0);
    expect(JSON.parse(second.stdout)).toMatchObject({ jobId, status: 'succeeded', generated: 10_020, total: 10_020 });
    expect(await stats(book.id)).toMatchObject({ codes: 10_020 });

    const small = await (await cli(['generate', '--book', book.id, '--count', '25', '--checkpoint', join(dir, 'g2.json'), '--json'])).done;
    expect(JSON.parse(small.stdout)).toMatchObject({ status: 'succeeded', generated: 25 });
    expect(await stats(book.id)).toMatchObject({ codes: 10_045 });
  });
});
