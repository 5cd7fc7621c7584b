/**
 * `npm run codes -- load`: streams a file of codes (constant memory, whatever its size) in
 * chunks to POST /coupons/codes, several at once. `<file>.checkpoint.json` records how far the
 * file is done; after Ctrl-C, a kill or a crash the same command resumes from it, re-sending the
 * chunks that were in flight with their original Idempotency-Keys so nothing is counted twice.
 * Design notes: docs/codes-at-scale.md.
 */
import { randomUUID } from 'node:crypto';
import { appendFileSync, closeSync, existsSync, ftruncateSync, openSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { detectFormat, readChunks, readFirstLine, type FileFormat } from '../lib/code-file.ts';
import { createProgress, formatCount, formatDuration } from '../lib/progress.ts';
import { createRate } from '../lib/rate.ts';
import { int, str, UsageError, type Command, type Common, type Values } from './args.ts';
import { readJson, writeJsonAtomic } from './checkpoint.ts';
import { createCodesApi } from './http.ts';
import { onInterrupt } from './interrupt.ts';
import { sendChunk, type ChunkResult, type LoadIdentity, type Reject } from './load-chunk.ts';

interface Totals {
  lines: number;
  header: number;
  blank: number;
  inserted: number;
  duplicates: number;
  invalid: number;
}

interface LoadCheckpoint extends LoadIdentity {
  version: 1;
  command: 'load';
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

const csv = (s: string | number) => (/[",\n\r]/.test(String(s)) ? `"${String(s).replace(/"/g, '""')}"` : String(s));
const FIRST_REJECTS = 20;
const REJECTS_HEADER = 'line,kind,code,reason\n';

export const loadCommand: Command = {
  name: 'load',
  summary: 'Load a file of codes into a book: resumable, exact, in constant memory.',
  usage: 'load --book <id> --file <path> [options]',
  options: {
    book: { type: 'string', value: '<id>', description: 'the book to load into (required)' },
    file: { type: 'string', value: '<path>', description: 'one code per line, or CSV/TSV with a `code` column (else the first column) (required)' },
    'chunk-size': { type: 'string', value: '<n>', description: 'codes per request, 1..5000 (default 1000)' },
    parallel: { type: 'string', value: '<n>', description: 'requests in flight, 1..64 (default 8)' },
    restart: { type: 'boolean', description: 'forget the checkpoint and the rejects file, and load from the start' },
  },
  notes: [
    'Writes <file>.checkpoint.json and <file>.rejects.csv (every duplicate and invalid line) beside the file.',
    'Ctrl-C stops after the requests in flight and saves the checkpoint; run the same command to resume.',
    'Exit codes: 0 done, 1 refused or failed (resumable), 2 bad usage, 130 interrupted (resumable).',
  ].join('\n'),
  run: load,
};

async function load(values: Values, common: Common): Promise<number> {
  const bookId = str(values, 'book');
  const fileArg = str(values, 'file');
  if (!bookId || !fileArg) throw new UsageError('load needs --book <id> and --file <path>');
  const file = resolve(fileArg);
  if (!existsSync(file)) throw new UsageError(`no file ${file}`);
  const stat = statSync(file);
  const identity = { path: realpathSync(file), size: stat.size, mtimeMs: stat.mtimeMs };
  const cpPath = `${file}.checkpoint.json`;
  const rejectsPath = `${file}.rejects.csv`;
  const parallel = int(values, 'parallel', 8, 1, 64);
  const chunkSize = int(values, 'chunk-size', 1000, 1, 5000);
  if (values.restart) {
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
    if (values['chunk-size'] !== undefined && chunkSize !== cp.chunkSize) common.log(`(resuming with the checkpoint's chunk size ${cp.chunkSize})`);
  } else {
    const now = new Date().toISOString();
    cp = {
      version: 1,
      command: 'load',
      runId: randomUUID(),
      file: identity,
      bookId,
      chunkSize,
      format: detectFormat(await readFirstLine(file)),
      next: { chunk: 0, byte: 0, line: 0 },
      totals: { lines: 0, header: 0, blank: 0, inserted: 0, duplicates: 0, invalid: 0 },
      rejectsBytes: 0,
      firstRejects: [],
      startedAt: now,
      updatedAt: now,
      completed: false,
    };
    // Written before the first request: the run id in it is what the idempotency keys derive from.
    writeJsonAtomic(cpPath, cp);
    writeFileSync(rejectsPath, REJECTS_HEADER);
    cp.rejectsBytes = Buffer.byteLength(REJECTS_HEADER);
    writeJsonAtomic(cpPath, cp);
  }
  const state: LoadCheckpoint = cp;
  const rate = createRate();

  const report = (): LoadReport & { command: 'load'; peakRssBytes: number } => ({
    command: 'load',
    file,
    bookId,
    completed: state.completed,
    resumed,
    ...state.totals,
    rejectsFile: rejectsPath,
    firstRejects: state.firstRejects,
    seconds: Number(rate.seconds.toFixed(3)),
    linesThisRun: rate.done,
    codesPerSecond: rate.seconds > 0 ? Math.round(rate.done / rate.seconds) : 0,
    peakRssBytes: process.resourceUsage().maxRSS * 1024,
  });
  const print = () => {
    const r = report();
    common.print(r, loadReportText(r));
  };

  if (state.completed) {
    common.log(`${file} was already loaded into book ${bookId} (per ${cpPath}); --restart loads it again.`);
    print();
    return 0;
  }

  // The rejects file may hold lines of chunks counted after the checkpoint was last written.
  const fd = openSync(rejectsPath, existsSync(rejectsPath) ? 'r+' : 'w+');
  ftruncateSync(fd, state.rejectsBytes);
  closeSync(fd);
  if (resumed) common.log(`Resuming ${file} at line ${formatCount(state.next.line + 1)} (chunk ${state.next.chunk}).`);

  const api = createCodesApi(common.api, common.token);
  let retries = 0;
  // Bytes this run read and sent itself, for the ETA: replayed chunks were an earlier run's work.
  let freshBytes = 0;
  const progress = createProgress(common.progress);
  const progressState = () => {
    const perSecond = rate.perSecond();
    const bytesPerSecond = perSecond === null ? 0 : freshBytes / rate.seconds;
    const t = state.totals;
    return {
      fraction: identity.size ? state.next.byte / identity.size : 1,
      rate: perSecond,
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
      if (!r.replayed) {
        rate.add(r.chunk.entries.length);
        freshBytes += r.chunk.endByte - state.next.byte;
      }
      state.next = { chunk: r.chunk.index + 1, byte: r.chunk.endByte, line: r.chunk.endLine };
      moved = true;
    }
    if (moved) {
      state.updatedAt = new Date().toISOString();
      writeJsonAtomic(cpPath, state);
      progress.update(progressState());
    }
  };

  let failure: unknown = null;
  const interrupt = onInterrupt((signal) => {
    progress.done();
    common.log(`${signal}: finishing the requests in flight, then saving the checkpoint (Ctrl-C again to quit at once)…`);
  });

  const inFlight = new Set<Promise<void>>();
  const window = parallel * 4;
  const reader = readChunks(file, { format: state.format, chunkSize: state.chunkSize, startByte: state.next.byte, startLine: state.next.line, startIndex: state.next.chunk });
  for await (const chunk of reader) {
    while (!interrupt.signal && !failure && (inFlight.size >= parallel || chunk.index >= state.next.chunk + window)) await Promise.race(inFlight);
    if (interrupt.signal || failure) break;
    const p: Promise<void> = sendChunk(api, state, chunk, () => retries++)
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

  if (!interrupt.signal && !failure) {
    state.completed = true;
    state.updatedAt = new Date().toISOString();
    writeJsonAtomic(cpPath, state);
  }
  progress.done(progressState());
  if (failure) {
    common.log(`Stopped: ${(failure as Error).message}`);
    common.log(`Everything before line ${formatCount(state.next.line + 1)} is loaded and counted; fix the cause and run the same command to resume.`);
    print();
    return 1;
  }
  if (interrupt.signal) {
    common.log(`Interrupted at line ${formatCount(state.next.line + 1)}; run the same command to resume.`);
    print();
    return 130;
  }
  print();
  return 0;
}

interface LoadReport extends Totals {
  file: string;
  bookId: string;
  completed: boolean;
  resumed: boolean;
  rejectsFile: string;
  firstRejects: Reject[];
  seconds: number;
  linesThisRun: number;
  codesPerSecond: number;
}

function loadReportText(r: LoadReport): string {
  const lines = [
    `${r.completed ? 'Loaded' : 'Partly loaded'} ${r.file} into book ${r.bookId}${r.resumed ? ' (resumed)' : ''}`,
    `  lines       ${formatCount(r.lines)}${r.header ? ' (1 header)' : ''}${r.blank ? ` (${formatCount(r.blank)} blank)` : ''}`,
    `  inserted    ${formatCount(r.inserted)}`,
    `  duplicates  ${formatCount(r.duplicates)}`,
    `  invalid     ${formatCount(r.invalid)}`,
  ];
  if (r.firstRejects.length) {
    lines.push(`  first rejects (all of them in ${r.rejectsFile}):`);
    for (const x of r.firstRejects) lines.push(`    line ${formatCount(x.line)}: ${x.kind} ${JSON.stringify(x.code)}${x.reason ? ` (${x.reason})` : ''}`);
  }
  if (r.seconds) lines.push(`  ${formatCount(r.linesThisRun)} lines in ${formatDuration(r.seconds)} (${formatCount(r.codesPerSecond)}/s)`);
  return lines.join('\n');
}
