/**
 * Bulk codes through the HTTP API, locally or against a deployed stage:
 *
 *   npm run codes -- load --book <id> --file codes.csv [--token <jwt>] [--api <url>]
 *   npm run codes -- generate --book <id> --count 2000000 [--pattern 'BF-****-****'] [--check-char]
 *
 * Common options:
 *   --api <url>          default $COUPONS_API, else http://localhost:3000 (`npm start`)
 *   --token <jwt>        an admin token; default $COUPONS_TOKEN
 *   --progress <mode>    bar | lines | none (default: bar on a terminal, lines otherwise)
 *   --json               print the final report as JSON on stdout (progress stays on stderr)
 *   --restart            forget the checkpoint and start over
 *
 * load:
 *   --file <path>        text (one code per line) or CSV/TSV with a `code` column (else the first)
 *   --chunk-size <n>     codes per request, 1..5000 (default 1000)
 *   --parallel <n>       requests in flight (default 8)
 *
 *   Streams the file (constant memory, whatever its size), sends chunks in parallel to
 *   POST /coupons/codes, each with an Idempotency-Key derived from the run, the file, the book
 *   and the chunk's index. `<file>.checkpoint.json` records how far the file is done (every chunk
 *   before `next` answered, with its counts); `<file>.rejects.csv` lists every duplicate and
 *   invalid line. After Ctrl-C, a kill or a crash, the same command resumes from the checkpoint:
 *   chunks that were in flight are sent again with their original keys, so the server answers
 *   their first report instead of counting their codes as duplicates. Nothing is lost or counted
 *   twice. (The server keeps a key's answer 24 hours: resume within a day.)
 *
 * generate:
 *   --count <n> --pattern <p> --check-char --checkpoint <path> (default
 *   ./codes-generate-<book>.checkpoint.json). Up to 10,000 codes are made in the request; more
 *   start a job, which the CLI follows (GET /jobs/{id}) until it ends. Stopping the CLI does not
 *   stop the job; running the same command again follows it again (same Idempotency-Key).
 *
 * export:
 *   --book <id> [--status available|assigned|redeemed] [--out file.csv] [--page-size 1..1000]
 *   Every code of the book as CSV (code,status,userId,assignedAt,redemptionCount,maxRedemptions,
 *   lockExpiresAt) through GET /coupons/{bookId}/codes, in constant memory. With --out,
 *   `<out>.checkpoint.json` makes it resumable: the same command goes on where it stopped, each
 *   code exactly once. Without --out, CSV goes to standard output. See docs/book-codes.md.
 *
 * Exit codes: 0 done, 1 refused or failed, 2 bad usage, 130 interrupted (resumable).
 */
import { createHash, randomInt, randomUUID } from 'node:crypto';
import { existsSync, openSync, closeSync, ftruncateSync, readFileSync, realpathSync, renameSync, rmSync, statSync, writeFileSync, appendFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { checkCode } from '../packages/core/src/codes/code-format.ts';
import { detectFormat, readChunks, readFirstLine, type Chunk, type FileFormat } from './lib/code-file.ts';
import { createProgress, formatCount, formatDuration, progressMode } from './lib/progress.ts';
import { exportCommand } from './lib/export-codes.ts';

// ------------------------------------------------------------------------------------------
// Arguments

class UsageError extends Error {}

function parseArgs(argv: string[]) {
  const [command, ...rest] = argv;
  const flags: Record<string, string | true> = {};
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i]!;
    if (!a.startsWith('--')) throw new UsageError(`unexpected argument ${a}`);
    const eq = a.indexOf('=');
    if (eq > 0) flags[a.slice(2, eq)] = a.slice(eq + 1);
    else if (rest[i + 1] !== undefined && !rest[i + 1]!.startsWith('--')) flags[a.slice(2)] = rest[++i]!;
    else flags[a.slice(2)] = true;
  }
  return { command, flags };
}

const str = (flags: Record<string, string | true>, name: string, fallback?: string): string | undefined => {
  const v = flags[name];
  if (v === true) throw new UsageError(`--${name} needs a value`);
  return v ?? fallback;
};

function int(flags: Record<string, string | true>, name: string, fallback: number, min: number, max: number): number {
  const raw = str(flags, name);
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`--${name} must be an integer from ${min} to ${max}`);
  return n;
}

// ------------------------------------------------------------------------------------------
// HTTP

class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const RETRYABLE = new Set([429, 500, 502, 503, 504]);

/** One API call, retried (same body, same Idempotency-Key) on network errors, 429 and 5xx. */
async function api<T>(
  base: string,
  token: string,
  method: string,
  path: string,
  options: { body?: unknown; key?: string; attempts?: number; onRetry?: (why: string) => void } = {},
): Promise<{ status: number; json: T }> {
  const attempts = options.attempts ?? 10;
  for (let attempt = 1; ; attempt++) {
    const ceiling = Math.min(30_000, 250 * 2 ** attempt);
    let wait = ceiling / 2 + randomInt(Math.floor(ceiling / 2) + 1);
    let why: string;
    // A timer cleared with the answer (AbortSignal.timeout's would outlive fast requests by minutes).
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(new Error('no answer in 120 s')), 120_000);
    try {
      const res = await fetch(new URL(path, base), {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
          ...(options.key ? { 'idempotency-key': options.key } : {}),
        },
        body: options.body !== undefined ? JSON.stringify(options.body) : undefined,
        signal: abort.signal,
      });
      const text = await res.text();
      let json: any;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
      if (res.ok) return { status: res.status, json };
      const code = json?.error?.code ?? `HTTP_${res.status}`;
      const message = json?.error?.message ?? text.slice(0, 200);
      if (!RETRYABLE.has(res.status) || attempt >= attempts) throw new ApiError(res.status, code, `${method} ${path}: ${res.status} ${code}: ${message}`);
      const retryAfter = Number(res.headers.get('retry-after'));
      if (Number.isFinite(retryAfter) && retryAfter > 0) wait = Math.max(wait, retryAfter * 1000);
      why = `${res.status} ${code}`;
    } catch (e) {
      if (e instanceof ApiError) throw e;
      if (attempt >= attempts) throw new ApiError(0, 'NETWORK', `${method} ${path}: ${(e as Error).message}`);
      why = (e as Error).message;
    } finally {
      clearTimeout(timer);
    }
    options.onRetry?.(why);
    await sleep(wait);
  }
}

// ------------------------------------------------------------------------------------------
// Checkpoints: written whole, to a temporary file renamed over the old one

function writeJsonAtomic(path: string, value: unknown) {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(value, null, 2));
  renameSync(tmp, path);
}

const readJson = <T>(path: string): T | null => (existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as T) : null);

// ------------------------------------------------------------------------------------------
// load

interface Totals {
  lines: number;
  header: number;
  blank: number;
  inserted: number;
  duplicates: number;
  invalid: number;
}

interface LoadCheckpoint {
  version: 1;
  command: 'load';
  runId: string;
  file: { path: string; size: number; mtimeMs: number };
  bookId: string;
  chunkSize: number;
  format: FileFormat;
  /** Every chunk before `chunk` is answered and counted; the file resumes at `byte` (line `line + 1`). */
  next: { chunk: number; byte: number; line: number };
  totals: Totals;
  /** Length of the rejects file that matches `totals`. */
  rejectsBytes: number;
  firstRejects: Reject[];
  startedAt: string;
  updatedAt: string;
  completed: boolean;
}

interface Reject {
  line: number;
  kind: 'duplicate' | 'invalid';
  code: string;
  reason: string;
}

interface ChunkResult {
  chunk: Chunk;
  inserted: number;
  rejects: Reject[];
}

const csv = (s: string | number) => (/[",\n\r]/.test(String(s)) ? `"${String(s).replace(/"/g, '""')}"` : String(s));
const FIRST_REJECTS = 20;

/** Sends one chunk and maps the answer back to line numbers. */
async function sendChunk(base: string, token: string, cp: LoadCheckpoint, chunk: Chunk, onRetry: (why: string) => void): Promise<ChunkResult> {
  const rejects: Reject[] = [];
  const sent: { line: number; code: string }[] = [];
  const firstLineOf = new Map<string, number>();
  for (const e of chunk.entries) {
    const checked = checkCode(e.code);
    // Refused here, not sent: the API takes at most 256 characters a code and 1 MiB a request,
    // so one overlong line must not fail its whole chunk.
    if (!checked.ok && e.code.length > 64) {
      rejects.push({ line: e.line, kind: 'invalid', code: e.code.length > 80 ? `${e.code.slice(0, 77)}...` : e.code, reason: checked.reason });
      continue;
    }
    if (checked.ok) {
      const seen = firstLineOf.get(checked.code);
      if (seen !== undefined) {
        rejects.push({ line: e.line, kind: 'duplicate', code: checked.code, reason: `repeats line ${seen}` });
        continue;
      }
      firstLineOf.set(checked.code, e.line);
    }
    sent.push(e);
  }
  if (!sent.length) return { chunk, inserted: 0, rejects };
  const key = `codes-load-${createHash('sha256')
    .update([cp.runId, cp.file.path, cp.file.size, cp.file.mtimeMs, cp.bookId, cp.chunkSize, chunk.index].join('|'))
    .digest('hex')
    .slice(0, 48)}`;
  const { json } = await api<{ inserted: number; duplicates: string[]; invalid: { code: string; reason: string }[] }>(base, token, 'POST', '/coupons/codes', {
    body: { bookId: cp.bookId, codes: sent.map((s) => s.code) },
    key,
    onRetry,
  });
  // Invalid codes come back in the order they were sent: walk both lists together.
  let j = 0;
  for (const inv of json.invalid) {
    let k = j;
    while (k < sent.length && sent[k]!.code !== inv.code) k++;
    if (k >= sent.length) k = sent.findIndex((s) => s.code === inv.code);
    const line = k >= 0 ? sent[k]!.line : 0;
    if (k >= 0) j = k + 1;
    rejects.push({ line, kind: 'invalid', code: inv.code, reason: inv.reason });
  }
  for (const dup of json.duplicates) {
    rejects.push({ line: firstLineOf.get(dup) ?? 0, kind: 'duplicate', code: dup, reason: 'already exists' });
  }
  rejects.sort((a, b) => a.line - b.line);
  return { chunk, inserted: json.inserted, rejects };
}

async function load(flags: Record<string, string | true>, common: Common) {
  const bookId = str(flags, 'book');
  const fileArg = str(flags, 'file');
  if (!bookId || !fileArg) throw new UsageError('load needs --book <id> and --file <path>');
  const file = resolve(fileArg);
  if (!existsSync(file)) throw new UsageError(`no file ${file}`);
  const stat = statSync(file);
  const identity = { path: realpathSync(file), size: stat.size, mtimeMs: stat.mtimeMs };
  const cpPath = `${file}.checkpoint.json`;
  const rejectsPath = `${file}.rejects.csv`;
  const parallel = int(flags, 'parallel', 8, 1, 64);
  if (flags.restart) {
    rmSync(cpPath, { force: true });
    rmSync(rejectsPath, { force: true });
  }

  let cp = readJson<LoadCheckpoint>(cpPath);
  const resumed = cp !== null;
  if (cp) {
    if (cp.command !== 'load' || cp.bookId !== bookId) {
      throw new UsageError(`${cpPath} belongs to another load (book ${cp.bookId}); use --restart to start over`);
    }
    if (cp.file.size !== identity.size || cp.file.mtimeMs !== identity.mtimeMs) {
      throw new UsageError(`${file} changed since ${cpPath} was written; use --restart to load it from the start`);
    }
    if (str(flags, 'chunk-size') !== undefined && Number(str(flags, 'chunk-size')) !== cp.chunkSize) {
      common.log(`(resuming with the checkpoint's chunk size ${cp.chunkSize})`);
    }
  } else {
    cp = {
      version: 1,
      command: 'load',
      runId: randomUUID(),
      file: identity,
      bookId,
      chunkSize: int(flags, 'chunk-size', 1000, 1, 5000),
      format: detectFormat(await readFirstLine(file)),
      next: { chunk: 0, byte: 0, line: 0 },
      totals: { lines: 0, header: 0, blank: 0, inserted: 0, duplicates: 0, invalid: 0 },
      rejectsBytes: 0,
      firstRejects: [],
      startedAt: new Date().toISOString(),
      updatedAt: new Date().toISOString(),
      completed: false,
    };
    // Written before the first request: the run id in it is what the idempotency keys derive from.
    writeJsonAtomic(cpPath, cp);
    writeFileSync(rejectsPath, 'line,kind,code,reason\n');
    cp.rejectsBytes = Buffer.byteLength('line,kind,code,reason\n');
    writeJsonAtomic(cpPath, cp);
  }
  const state: LoadCheckpoint = cp;

  const report = (seconds: number, sessionLines: number) => ({
    command: 'load',
    file,
    bookId,
    completed: state.completed,
    resumed,
    ...state.totals,
    rejectsFile: rejectsPath,
    firstRejects: state.firstRejects,
    seconds: Number(seconds.toFixed(3)),
    linesThisRun: sessionLines,
    codesPerSecond: seconds > 0 ? Math.round(sessionLines / seconds) : 0,
    peakRssBytes: process.resourceUsage().maxRSS * 1024,
  });

  if (state.completed) {
    common.log(`${file} was already loaded into book ${bookId} (per ${cpPath}); --restart loads it again.`);
    common.print(report(0, 0));
    return 0;
  }

  // The rejects file may hold lines of chunks counted after the checkpoint was last written.
  const fd = openSync(rejectsPath, existsSync(rejectsPath) ? 'r+' : 'w+');
  ftruncateSync(fd, state.rejectsBytes);
  closeSync(fd);
  if (resumed) common.log(`Resuming ${file} at line ${formatCount(state.next.line + 1)} (chunk ${state.next.chunk}).`);

  const started = Date.now();
  const startByte = state.next.byte;
  let sessionLines = 0;
  let retries = 0;
  const progress = createProgress(common.progress);
  const progressState = () => {
    const seconds = (Date.now() - started) / 1000;
    const bytesDone = state.next.byte - startByte;
    const bytesPerSecond = seconds > 0 ? bytesDone / seconds : 0;
    const t = state.totals;
    return {
      fraction: identity.size ? state.next.byte / identity.size : 1,
      rate: seconds > 0 ? sessionLines / seconds : 0,
      etaSeconds: bytesPerSecond > 0 ? (identity.size - state.next.byte) / bytesPerSecond : null,
      detail: `inserted ${formatCount(t.inserted)} dup ${formatCount(t.duplicates)} invalid ${formatCount(t.invalid)}${retries ? ` retries ${retries}` : ''}`,
    };
  };

  // Chunks answered out of order wait here until every chunk before them is answered.
  const answered = new Map<number, ChunkResult>();
  const advance = () => {
    let moved = false;
    for (let r = answered.get(state.next.chunk); r; r = answered.get(state.next.chunk)) {
      answered.delete(state.next.chunk);
      const dup = r.rejects.filter((x) => x.kind === 'duplicate').length;
      const t = state.totals;
      t.lines += r.chunk.lines;
      t.header += r.chunk.header;
      t.blank += r.chunk.blank;
      t.inserted += r.inserted;
      t.duplicates += dup;
      t.invalid += r.rejects.length - dup;
      if (r.rejects.length) {
        const text = r.rejects.map((x) => `${x.line},${x.kind},${csv(x.code)},${csv(x.reason)}\n`).join('');
        appendFileSync(rejectsPath, text);
        state.rejectsBytes += Buffer.byteLength(text);
        for (const x of r.rejects) if (state.firstRejects.length < FIRST_REJECTS) state.firstRejects.push(x);
      }
      sessionLines += r.chunk.entries.length;
      state.next = { chunk: r.chunk.index + 1, byte: r.chunk.endByte, line: r.chunk.endLine };
      moved = true;
    }
    if (moved) {
      state.updatedAt = new Date().toISOString();
      writeJsonAtomic(cpPath, state);
      progress.update(progressState());
    }
  };

  let stopping: string | null = null;
  let failure: unknown = null;
  const onSignal = (signal: string) => {
    if (stopping) {
      // Second Ctrl-C: leave now; the checkpoint already describes what is counted.
      process.exit(130);
    }
    stopping = signal;
    progress.done();
    common.log(`${signal}: finishing the requests in flight, then saving the checkpoint (Ctrl-C again to quit at once)…`);
  };
  process.on('SIGINT', () => onSignal('SIGINT'));
  process.on('SIGTERM', () => onSignal('SIGTERM'));

  const inFlight = new Set<Promise<void>>();
  const window = parallel * 4;
  const reader = readChunks(file, { format: state.format, chunkSize: state.chunkSize, startByte: state.next.byte, startLine: state.next.line, startIndex: state.next.chunk });
  for await (const chunk of reader) {
    while (!stopping && !failure && (inFlight.size >= parallel || chunk.index >= state.next.chunk + window)) await Promise.race(inFlight);
    if (stopping || failure) break;
    const p: Promise<void> = sendChunk(common.api, common.token, state, chunk, () => retries++)
      .then((r) => {
        answered.set(chunk.index, r);
        advance();
      })
      .catch((e) => {
        failure ??= e;
      })
      .finally(() => inFlight.delete(p));
    inFlight.add(p);
  }
  await Promise.all(inFlight);
  const seconds = (Date.now() - started) / 1000;

  if (!stopping && !failure) {
    state.completed = true;
    state.updatedAt = new Date().toISOString();
    writeJsonAtomic(cpPath, state);
  }
  progress.done(progressState());
  const out = report(seconds, sessionLines);
  if (failure) {
    common.log(`Stopped: ${(failure as Error).message}`);
    common.log(`Everything before line ${formatCount(state.next.line + 1)} is loaded and counted; fix the cause and run the same command to resume.`);
    common.print(out);
    return 1;
  }
  if (stopping) {
    common.log(`Interrupted at line ${formatCount(state.next.line + 1)}; run the same command to resume.`);
    common.print(out);
    return 130;
  }
  common.print(out);
  return 0;
}

function printLoadReport(r: any) {
  const lines = [
    `${r.completed ? 'Loaded' : 'Partly loaded'} ${r.file} into book ${r.bookId}${r.resumed ? ' (resumed)' : ''}`,
    `  lines       ${formatCount(r.lines)}${r.header ? ' (1 header)' : ''}${r.blank ? ` (${formatCount(r.blank)} blank)` : ''}`,
    `  inserted    ${formatCount(r.inserted)}`,
    `  duplicates  ${formatCount(r.duplicates)}`,
    `  invalid     ${formatCount(r.invalid)}`,
  ];
  if (r.firstRejects.length) {
    lines.push(`  first rejects (all of them in ${r.rejectsFile}):`);
    for (const x of r.firstRejects) lines.push(`    line ${x.line}: ${x.kind} ${JSON.stringify(x.code)}${x.reason ? ` (${x.reason})` : ''}`);
  }
  if (r.seconds) lines.push(`  ${formatCount(r.linesThisRun)} lines in ${formatDuration(r.seconds)} (${formatCount(r.codesPerSecond)}/s)`);
  return lines.join('\n');
}

// ------------------------------------------------------------------------------------------
// generate

interface GenerateCheckpoint {
  version: 1;
  command: 'generate';
  bookId: string;
  count: number;
  pattern?: string;
  checkChar?: boolean;
  key: string;
  jobId?: string;
  completed: boolean;
  result?: unknown;
}

async function generate(flags: Record<string, string | true>, common: Common) {
  const bookId = str(flags, 'book');
  if (!bookId) throw new UsageError('generate needs --book <id> and --count <n>');
  const count = int(flags, 'count', 0, 1, 10_000_000);
  if (!count) throw new UsageError('generate needs --count <n>');
  const pattern = str(flags, 'pattern');
  const checkChar = flags['check-char'] === true ? true : undefined;
  const cpPath = resolve(str(flags, 'checkpoint') ?? `codes-generate-${bookId}.checkpoint.json`);
  if (flags.restart) rmSync(cpPath, { force: true });
  let cp = readJson<GenerateCheckpoint>(cpPath);
  if (cp && (cp.bookId !== bookId || cp.count !== count || cp.pattern !== pattern || cp.checkChar !== checkChar)) {
    if (!cp.completed) throw new UsageError(`${cpPath} is for another generation (${cp.count} codes for book ${cp.bookId}); use --restart`);
    cp = null;
  }
  if (cp?.completed) {
    common.log(`Already done (per ${cpPath}); --restart generates again.`);
    common.print(cp.result);
    return 0;
  }
  cp ??= { version: 1, command: 'generate', bookId, count, pattern, checkChar, key: `codes-generate-${randomUUID()}`, completed: false };
  writeJsonAtomic(cpPath, cp);
  const state = cp;
  // Ctrl-C stops following the job, never the job; a second one leaves at once.
  let stopping = false;
  process.on('SIGINT', () => {
    if (stopping) process.exit(130);
    stopping = true;
  });

  if (!state.jobId) {
    const body = { bookId, count, ...(pattern ? { pattern } : {}), ...(checkChar ? { checkChar } : {}) };
    const { status, json } = await api<any>(common.api, common.token, 'POST', '/coupons/codes/generate', { body, key: state.key });
    if (status === 201) {
      state.completed = true;
      state.result = { command: 'generate', bookId, status: 'succeeded', generated: json.generated, total: count };
      writeJsonAtomic(cpPath, state);
      common.print(state.result);
      return 0;
    }
    state.jobId = json.jobId as string;
    writeJsonAtomic(cpPath, state);
    common.log(`Job ${state.jobId} queued for ${formatCount(count)} codes.`);
  } else {
    common.log(`Following job ${state.jobId} again.`);
  }

  const progress = createProgress(common.progress);
  const first = { at: Date.now(), generated: -1 };
  for (;;) {
    const { json: job } = await api<any>(common.api, common.token, 'GET', `/jobs/${state.jobId}`);
    if (first.generated < 0) first.generated = job.generated;
    const seconds = (Date.now() - first.at) / 1000;
    const rate = seconds > 0 ? (job.generated - first.generated) / seconds : 0;
    const state_ = {
      fraction: job.total ? job.generated / job.total : 0,
      rate,
      etaSeconds: rate > 0 ? (job.total - job.generated) / rate : null,
      detail: `${job.status} ${formatCount(job.generated)}/${formatCount(job.total)}`,
    };
    if (job.status === 'succeeded' || job.status === 'failed') {
      progress.done(state_);
      state.completed = job.status === 'succeeded';
      state.result = { command: 'generate', bookId, jobId: job.id, status: job.status, generated: job.generated, total: job.total, startedAt: job.startedAt, finishedAt: job.finishedAt, error: job.error };
      writeJsonAtomic(cpPath, state);
      common.print(state.result);
      return job.status === 'succeeded' ? 0 : 1;
    }
    progress.update(state_);
    if (stopping) {
      progress.done();
      common.log(`The job keeps running on the server; run the same command to follow it again.`);
      return 130;
    }
    await sleep(1000);
  }
}

// ------------------------------------------------------------------------------------------

interface Common {
  api: string;
  token: string;
  progress: ReturnType<typeof progressMode>;
  log: (line: string) => void;
  print: (report: any) => void;
}

async function main(argv: string[]): Promise<number> {
  const { command, flags } = parseArgs(argv);
  if (!command || command === 'help' || flags.help) {
    process.stdout.write(readFileSync(new URL(import.meta.url), 'utf8').split('*/')[0]!.replace(/^\/\*\*\n?/, '').replace(/^ \* ?/gm, '') + '\n');
    return command ? 0 : 2;
  }
  const token = str(flags, 'token', process.env.COUPONS_TOKEN);
  if (!token) throw new UsageError('an admin token is needed: --token <jwt> or COUPONS_TOKEN (npm start prints one)');
  const json = flags.json === true;
  const common: Common = {
    api: str(flags, 'api', process.env.COUPONS_API ?? 'http://localhost:3000')!,
    token,
    progress: progressMode(str(flags, 'progress'), process.stderr),
    log: (line) => process.stderr.write(`${line}\n`),
    print: (report) => process.stdout.write(json ? `${JSON.stringify(report)}\n` : `${report?.command === 'load' ? printLoadReport(report) : JSON.stringify(report, null, 2)}\n`),
  };
  if (command === 'load') return load(flags, common);
  if (command === 'generate') return generate(flags, common);
  if (command === 'export') return exportCommand(flags, common);
  throw new UsageError(`unknown command ${command}: use load, generate or export`);
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e) => {
    if (e instanceof UsageError) {
      process.stderr.write(`codes: ${e.message}\n`);
      process.exit(2);
    }
    process.stderr.write(`codes: ${(e as Error).message}\n`);
    process.exit(1);
  },
);
