/**
 * `npm run codes -- load`: streams a file of codes (constant memory, whatever its size) in
 * chunks to POST /coupons/codes, several at once. `<file>.checkpoint.json` records how far the
 * file is done; after Ctrl-C, a kill or a crash the same command resumes from it, re-sending the
 * chunks that were in flight with their original Idempotency-Keys so nothing is counted twice.
 * Design notes: docs/codes-at-scale.md.
 */
import { randomUUID } from 'node:crypto';
import { appendFileSync, closeSync, existsSync, ftruncateSync, openSync, realpathSync, statSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { detectFormat, readChunks, readFirstLine, type FileFormat } from '../lib/code-file.ts';
import { formatCount, formatDuration } from '../lib/progress.ts';
import { createRate } from '../lib/rate.ts';
import { int, str, UsageError, type Command, type Common, type Values } from './args.ts';
import { runResumable, type RunContext } from './resumable.ts';
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
  const rate = createRate();
  let resumed = false;

  return runResumable<LoadCheckpoint, LoadReport & { command: 'load'; peakRssBytes: number }>(common, {
    checkpoint: cpPath,
    companions: [rejectsPath],
    restart: values.restart === true,
    resume(cp) {
      if (cp.command !== 'load' || cp.bookId !== bookId) {
        throw new UsageError(`${cpPath} belongs to another load (book ${cp.bookId}); use --restart to start over`);
      }
      if (cp.file.size !== identity.size || cp.file.mtimeMs !== identity.mtimeMs) {
        throw new UsageError(`${file} changed since ${cpPath} was written; use --restart to load it from the start`);
      }
      if (values['chunk-size'] !== undefined && chunkSize !== cp.chunkSize) common.log(`(resuming with the checkpoint's chunk size ${cp.chunkSize})`);
      resumed = true;
    },
    async start() {
      const now = new Date().toISOString();
      const format = detectFormat(await readFirstLine(file));
      writeFileSync(rejectsPath, REJECTS_HEADER);
      // The run id is what the chunks' idempotency keys derive from: the checkpoint is written before the first request.
      return {
        version: 1,
        command: 'load',
        runId: randomUUID(),
        file: identity,
        bookId,
        chunkSize,
        format,
        next: { chunk: 0, byte: 0, line: 0 },
        totals: { lines: 0, header: 0, blank: 0, inserted: 0, duplicates: 0, invalid: 0 },
        rejectsBytes: Buffer.byteLength(REJECTS_HEADER),
        firstRejects: [],
        startedAt: now,
        updatedAt: now,
        completed: false,
      };
    },
    work: (run) => loadChunks(run, { file, rejectsPath, parallel, size: identity.size, rate, log: common.log }),
    report: (state) => {
      const r = {
        command: 'load' as const,
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
      };
      return { json: r, text: loadReportText(r) };
    },
    messages: {
      alreadyDone: () => `${file} was already loaded into book ${bookId} (per ${cpPath}); --restart loads it again.`,
      stopping: (signal) => `${signal}: finishing the requests in flight, then saving the checkpoint (Ctrl-C again to quit at once)…`,
      interrupted: (state) => `Interrupted at line ${formatCount(state.next.line + 1)}; run the same command to resume.`,
      afterFailure: (state) => `Everything before line ${formatCount(state.next.line + 1)} is loaded and counted; fix the cause and run the same command to resume.`,
    },
  });
}

/** Sends the file's chunks, several at once, and moves the checkpoint on as each prefix of them is answered. */
async function loadChunks(
  run: RunContext<LoadCheckpoint>,
  opts: { file: string; rejectsPath: string; parallel: number; size: number; rate: ReturnType<typeof createRate>; log: (line: string) => void },
): Promise<'done' | 'interrupted'> {
  const { state, progress } = run;
  const { rate, rejectsPath } = opts;
  // The rejects file may hold lines of chunks counted after the checkpoint was last written.
  const fd = openSync(rejectsPath, existsSync(rejectsPath) ? 'r+' : 'w+');
  ftruncateSync(fd, state.rejectsBytes);
  closeSync(fd);
  if (run.resumed) opts.log(`Resuming ${opts.file} at line ${formatCount(state.next.line + 1)} (chunk ${state.next.chunk}).`);

  let retries = 0;
  // Bytes this run read and sent itself, for the ETA: replayed chunks were an earlier run's work.
  let freshBytes = 0;
  const progressState = () => {
    const perSecond = rate.perSecond();
    const bytesPerSecond = perSecond === null ? 0 : freshBytes / rate.seconds;
    const t = state.totals;
    return {
      fraction: opts.size ? state.next.byte / opts.size : 1,
      rate: perSecond,
      etaSeconds: bytesPerSecond > 0 ? (opts.size - state.next.byte) / bytesPerSecond : null,
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
      run.save();
      progress.update(progressState());
    }
  };

  let failure: unknown = null;
  const inFlight = new Set<Promise<void>>();
  const window = opts.parallel * 4;
  const reader = readChunks(opts.file, { format: state.format, chunkSize: state.chunkSize, startByte: state.next.byte, startLine: state.next.line, startIndex: state.next.chunk });
  for await (const chunk of reader) {
    while (!run.signal && !failure && (inFlight.size >= opts.parallel || chunk.index >= state.next.chunk + window)) await Promise.race(inFlight);
    if (run.signal || failure) break;
    const p: Promise<void> = sendChunk(run.api, state, chunk, () => retries++)
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
  progress.done(progressState());
  if (failure) throw failure;
  if (run.signal) return 'interrupted';
  state.completed = true;
  state.updatedAt = new Date().toISOString();
  run.save();
  return 'done';
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
