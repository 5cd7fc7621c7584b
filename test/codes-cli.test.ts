import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { admin, answer, bookStats, createBook, startTestApi, uniqueCode, type TestApi } from './support/harness.ts';
import { expectInvariants } from './support/invariants.ts';
import { freePort } from '../scripts/lib/dynamodb-local.ts';
import { waitFor } from './support/wait-for.ts';

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
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
}

/** The CLI in its own process: `node --import tsx`, exactly what `npm run codes` runs. */
async function cli(args: string[], { withToken = true, env = {} as Record<string, string>, base = api.base } = {}): Promise<Run> {
  const auth = withToken ? ['--token', await admin()] : [];
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/codes.ts', ...args, '--api', base, ...auth], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, COUPONS_TOKEN: '', COUPONS_API_KEY: '', COUPONS_API: '', ...env },
  });
  return collect(child);
}

function collect(child: ChildProcess): Run {
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  // 'close': every process holding the pipes is gone (under npm, the CLI as well as npm).
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((res) =>
    child.once('close', (code, signal) => res({ code, signal, stdout, stderr })),
  );
  return { child, done };
}

/**
 * `npm run codes` as a user starts it from a terminal: npm in its own process group, so that a
 * Ctrl-C can be delivered the way a terminal delivers it, to every process of the group.
 */
async function npmRunCodes(args: string[]): Promise<Run> {
  const child = spawn('npm', ['run', '--silent', 'codes', '--', ...args, '--api', api.base], {
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
    env: { ...process.env, COUPONS_TOKEN: await admin(), COUPONS_API_KEY: '', COUPONS_API: '' },
  });
  return collect(child);
}


/** The codes-per-second figure of every `progress:` line (null where it says `--/s`). */
const progressRates = (stderr: string) =>
  [...stderr.matchAll(/^progress:.*? (--|[\d,]+)\/s/gm)].map((m) => (m[1] === '--' ? null : Number(m[1]!.replace(/,/g, ''))));

const readCheckpoint = (path: string) => {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    return undefined;
  }
};

const codesOf = async (bookId: string) => (await api.scan()).filter((i) => i.__edb_e__ === 'code' && i.tenant === 't1' && i.bookId === bookId).map((i) => i.code as string);
const stats = (bookId: string) => bookStats(api, bookId);

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
    expect((await answer(api.client(await admin()).coupons.codes.$post({ json: { bookId: other.id, codes: taken } }))).json.inserted).toBe(taken.length);

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
    // Progress measures this run only: chunks the server replays and the first instants are not
    // a rate, so no line claims more than twice what the run averaged.
    const rates = progressRates(resumed.stderr).filter((r) => r !== null);
    expect(rates.length).toBeGreaterThan(0);
    for (const r of rates) expect(r).toBeLessThanOrEqual(2 * report.codesPerSecond + 1);

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
    await expectInvariants(api);
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
    // One Ctrl-C, and the copy a wrapper (npm, tsx) relays a moment later: still one graceful stop.
    first.child.kill('SIGINT');
    await new Promise((r) => setTimeout(r, 30));
    first.child.kill('SIGINT');
    const stopped = await first.done;
    expect(stopped.code).toBe(130);
    expect(stopped.stderr).toMatch(/finishing the requests in flight/);
    expect(stopped.stderr).not.toMatch(/quitting at once/);
    expect(JSON.parse(stopped.stdout)).toMatchObject({ completed: false });
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

  it('Ctrl-C to the process group of `npm run codes`, three times: each stop is graceful, with its report and nothing in flight lost', async () => {
    const book = await createBook(api, { name: 'CLI npm Ctrl-C' });
    const lines = Array.from({ length: 6000 }, () => uniqueCode('NPM'));
    const path = join(dir, 'npm-run.txt');
    writeFileSync(path, `${lines.join('\n')}\n`);
    const cpPath = `${path}.checkpoint.json`;
    const args = ['load', '--book', book.id, '--file', path, '--chunk-size', '100', '--parallel', '3', '--json'];
    for (let round = 0; round < 3; round++) {
      const before = readCheckpoint(cpPath)?.next.chunk ?? 0;
      const run = await npmRunCodes(args);
      await waitFor('three more chunks', () => (readCheckpoint(cpPath)?.next.chunk ?? 0) >= before + 3);
      // What a terminal does on Ctrl-C: SIGINT to npm, its shell and the CLI at once. npm relays it
      // to its child as well, so the CLI sees it more than once.
      process.kill(-run.child.pid!, 'SIGINT');
      const stopped = await run.done;
      // The CLI exits 130; npm then re-raises the signal on itself, as a shell expects of Ctrl-C.
      expect([stopped.code, stopped.signal], `round ${round}: ${stopped.stderr}`).toEqual([null, 'SIGINT']);
      expect(stopped.stderr).toMatch(/Interrupted at line/);
      expect(stopped.stderr).toMatch(/finishing the requests in flight/);
      expect(stopped.stderr).not.toMatch(/quitting at once/);
      const cp = readCheckpoint(cpPath);
      const report = JSON.parse(stopped.stdout);
      expect(report).toMatchObject({ completed: false, inserted: cp.totals.inserted, lines: cp.totals.lines });
      // The chunks in flight were answered and counted: the table holds exactly what the checkpoint says.
      expect((await codesOf(book.id)).length, `round ${round}`).toBe(cp.totals.inserted);
      // And nothing of the group outlives npm.
      expect(() => process.kill(-run.child.pid!, 0)).toThrow();
    }
    const last = await (await npmRunCodes(args)).done;
    expect(last.code, last.stderr).toBe(0);
    expect(JSON.parse(last.stdout)).toMatchObject({ completed: true, lines: 6000, inserted: 6000, duplicates: 0, invalid: 0 });
    expect(new Set(await codesOf(book.id))).toEqual(new Set(lines));
  });

  it('help on every command, strict flags, and the token from COUPONS_TOKEN', async () => {
    for (const args of [['--help'], ['-h'], ['help'], ['load', '--help'], ['load', '-h'], ['generate', '--help'], ['generate', '-h'], ['help', 'generate']]) {
      const r = await (await cli(args, { withToken: false })).done;
      expect(r.code, args.join(' ')).toBe(0);
      expect(r.stdout, args.join(' ')).toMatch(/^npm run codes -- /);
    }
    expect((await (await cli(['load', '--help'], { withToken: false })).done).stdout).toMatch(/--chunk-size <n>/);
    expect((await (await cli(['generate', '-h'], { withToken: false })).done).stdout).toMatch(/--check-char/);

    const path = join(dir, 'strict.txt');
    writeFileSync(path, 'STRICT-0001\n');
    const misspelt = await (await cli(['load', '--book', 'b', '--file', path, '--parralel', '3'])).done;
    expect(misspelt.code).toBe(2);
    expect(misspelt.stderr).toMatch(/unknown option --parralel \(did you mean --parallel\?\)/);
    const stray = await (await cli(['load', '--book', 'b', '--file', path, 'extra'])).done;
    expect(stray.code).toBe(2);
    expect(stray.stderr).toMatch(/unexpected argument "extra"/);
    const unknown = await (await cli(['lod'])).done;
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown command "lod"/);
    expect(existsSync(`${path}.checkpoint.json`)).toBe(false);

    const book = await createBook(api, { name: 'CLI env token' });
    const viaEnv = await (await cli(['load', '--book', book.id, '--file', path, '--json'], { withToken: false, env: { COUPONS_TOKEN: await admin() } })).done;
    expect(viaEnv.code, viaEnv.stderr).toBe(0);
    expect(JSON.parse(viaEnv.stdout)).toMatchObject({ completed: true, inserted: 1 });
  });

  it('signs with an API key from COUPONS_API_KEY, which wins over COUPONS_TOKEN; a service key is refused as a service token is', async () => {
    const path = join(dir, 'keyed.txt');
    writeFileSync(path, 'KEYED-0001\nKEYED-0002\n');
    const book = await createBook(api, { name: 'CLI API key' });
    const newKey = async (role: 'admin' | 'service') =>
      (await api.call('POST', '/api-keys', { token: await admin(), body: { name: `cli ${role}`, role } })).json.key as string;
    const adminKey = await newKey('admin');
    const viaKey = await (await cli(['load', '--book', book.id, '--file', path, '--json'], { withToken: false, env: { COUPONS_API_KEY: adminKey } })).done;
    expect(viaKey.code, viaKey.stderr).toBe(0);
    expect(JSON.parse(viaKey.stdout)).toMatchObject({ completed: true, inserted: 2 });
    expect(`${viaKey.stdout}${viaKey.stderr}`).not.toContain(adminKey.slice(-20));
    // Both set: the key is used, and the CLI says so; a service key may not load codes.
    const both = await (await cli(['load', '--book', book.id, '--file', path, '--restart', '--json'], {
      withToken: false,
      env: { COUPONS_API_KEY: await newKey('service'), COUPONS_TOKEN: await admin() },
    })).done;
    expect(both.code).toBe(1);
    expect(both.stderr).toMatch(/using COUPONS_API_KEY/);
    expect(both.stderr).toMatch(/FORBIDDEN/);
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

    // The same command once more: nothing to do, and the report in words.
    const again = await (await cli(args.filter((x) => x !== '--json'))).done;
    expect(again.code).toBe(0);
    expect(again.stdout).toContain(`Generated 10,020 codes in book ${book.id} (job ${jobId})`);
    expect(again.stdout).toMatch(/generated +10,020 of 10,020/);

    const small = await (await cli(['generate', '--book', book.id, '--count', '25', '--checkpoint', join(dir, 'g2.json')])).done;
    expect(small.code, small.stderr).toBe(0);
    expect(small.stdout).toContain(`Generated 25 codes in book ${book.id} (in the request)`);
    expect(small.stdout).toMatch(/pattern +CG-\*{6}|first codes CG-/);
    expect(await stats(book.id)).toMatchObject({ codes: 10_045 });
  });

  it('an API that does not answer (a wrong port) is one line and exit 1 at once, with no checkpoint or file left behind', async () => {
    const nobody = `http://127.0.0.1:${await freePort()}`;
    const path = join(dir, 'unreachable.txt');
    writeFileSync(path, 'UNREACH-0001\n');
    const out = join(dir, 'unreachable.csv');
    const generateCp = join(dir, 'unreachable-generate.checkpoint.json');
    for (const args of [
      ['load', '--book', 'any-book', '--file', path],
      ['export', '--book', 'any-book', '--out', out],
      ['generate', '--book', 'any-book', '--count', '5', '--checkpoint', generateCp],
    ]) {
      const started = Date.now();
      const r = await (await cli(args, { base: nobody })).done;
      expect(r.code, args[0]).toBe(1);
      expect(Date.now() - started, args[0]).toBeLessThan(15_000);
      expect(r.stderr.trim().split('\n'), args[0]).toEqual([expect.stringMatching(/^codes: cannot reach the API at http:\/\/127\.0\.0\.1:\d+ \(connection refused\)/)]);
    }
    expect([`${path}.checkpoint.json`, `${path}.rejects.csv`, out, `${out}.checkpoint.json`, generateCp].filter((f) => existsSync(f))).toEqual([]);
  });

});
