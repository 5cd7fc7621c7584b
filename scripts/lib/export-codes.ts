/**
 * `npm run codes -- export`: every code of a book as CSV, through
 * GET /coupons/{bookId}/codes, page after page (see docs/book-codes.md).
 *
 * Memory stays flat whatever the book's size: one page is being written
 * while the next is fetched, and a page is written before any further one is
 * asked for (the file's or the pipe's pace is the export's pace).
 *
 * Resume: with --out, `<out>.checkpoint.json` holds the cursor of the next
 * page and the file's length once every row before it was written. It is
 * written after each page's rows are. Run again, the export cuts the file back
 * to that length (dropping rows of a page written but not yet checkpointed,
 * or half a row of a killed write) and goes on from the cursor: each code
 * exactly once, whatever way the first run ended.
 */
import { randomInt } from 'node:crypto';
import { once } from 'node:events';
import { createWriteStream, existsSync, readFileSync, renameSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { stringify } from 'csv-stringify/sync';
import { createProgress, formatCount, type ProgressMode } from './progress.ts';

/** The CSV's columns, in order (docs/book-codes.md says what each holds). */
export const EXPORT_COLUMNS = ['code', 'status', 'userId', 'assignedAt', 'redemptionCount', 'maxRedemptions', 'lockExpiresAt'] as const;
export const EXPORT_STATUSES = ['available', 'assigned', 'redeemed'] as const;
export type ExportStatus = (typeof EXPORT_STATUSES)[number];

interface Row {
  code: string;
  status: string;
  userId: string | null;
  assignedAt: string | null;
  redemptionCount: number;
  maxRedemptions: number;
  lockExpiresAt?: string;
}

interface Page {
  items: Row[];
  nextCursor: string | null;
}

export interface ExportOptions {
  api: string;
  token: string;
  bookId: string;
  status?: ExportStatus;
  /** A file (resumable) or, when absent, standard output. */
  out?: string;
  /** Rows per request, 1..1000. */
  pageSize?: number;
  restart?: boolean;
  progress: ProgressMode;
  log: (line: string) => void;
}

export interface ExportCheckpoint {
  version: 1;
  command: 'export';
  bookId: string;
  status: ExportStatus | null;
  /** The cursor of the next page to fetch; null before the first page (and after the last, with `completed`). */
  cursor: string | null;
  /** The file's length, header included, once every row before `cursor` is written. */
  bytes: number;
  rows: number;
  completed: boolean;
  startedAt: string;
  updatedAt: string;
}

export interface ExportReport {
  command: 'export';
  bookId: string;
  status: ExportStatus | null;
  out: string | null;
  completed: boolean;
  resumed: boolean;
  rows: number;
  rowsThisRun: number;
  bytes: number;
  seconds: number;
  rowsPerSecond: number;
  peakRssBytes: number;
}

export class ExportUsageError extends Error {}

class HttpError extends Error {}

const RETRYABLE = new Set([429, 500, 502, 503, 504]);

/** One GET, retried with backoff on network errors, 429 and 5xx (honouring Retry-After); other errors end the export. */
async function getJson<T>(base: string, token: string, path: string, onRetry: (why: string) => void, attempts = 10): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const ceiling = Math.min(30_000, 250 * 2 ** attempt);
    let wait = ceiling / 2 + randomInt(Math.floor(ceiling / 2) + 1);
    let why: string;
    try {
      const res = await fetch(new URL(path, base), { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(120_000) });
      const text = await res.text();
      if (res.ok) return JSON.parse(text) as T;
      let error: { code?: string; message?: string } | undefined;
      try {
        error = JSON.parse(text)?.error;
      } catch {
        error = undefined;
      }
      why = `${res.status} ${error?.code ?? ''}`.trim();
      if (!RETRYABLE.has(res.status) || attempt >= attempts) throw new HttpError(`GET ${path.split('?')[0]}: ${why}: ${error?.message ?? text.slice(0, 200)}`);
      const retryAfter = Number(res.headers.get('retry-after'));
      if (Number.isFinite(retryAfter) && retryAfter > 0) wait = Math.max(wait, retryAfter * 1000);
    } catch (e) {
      if (e instanceof HttpError) throw e;
      if (attempt >= attempts) throw new HttpError(`GET ${path.split('?')[0]}: ${(e as Error).message}`);
      why = (e as Error).message;
    }
    onRetry(why);
    await sleep(wait);
  }
}

function writeJsonAtomic(path: string, value: unknown) {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(value, null, 2));
  renameSync(tmp, path);
}

const toCsv = (rows: Row[]) =>
  stringify(
    rows.map((r) => ({ ...r, userId: r.userId ?? '', assignedAt: r.assignedAt ?? '', lockExpiresAt: r.lockExpiresAt ?? '' })),
    { columns: [...EXPORT_COLUMNS] },
  );

/** Where rows go: a file appended to (each write awaited) or standard output (its drain awaited). */
interface Sink {
  write(text: string): Promise<void>;
  close(): Promise<void>;
}

function fileSink(path: string): Sink {
  const stream = createWriteStream(path, { flags: 'a' });
  return {
    write: (text) => new Promise((res, rej) => stream.write(text, (e) => (e ? rej(e) : res()))),
    close: () => new Promise((res) => stream.end(res)),
  };
}

const stdoutSink: Sink = {
  async write(text) {
    if (!process.stdout.write(text)) await once(process.stdout, 'drain');
  },
  async close() {},
};

/**
 * Opens (or resumes) the export's checkpoint and output; answers the state
 * to go on from. A file without a checkpoint, or a checkpoint of another
 * export, is never overwritten without --restart.
 */
function openCheckpoint(opts: ExportOptions, out: string): { cp: ExportCheckpoint; resumed: boolean } {
  const cpPath = `${out}.checkpoint.json`;
  if (opts.restart) {
    rmSync(cpPath, { force: true });
    rmSync(out, { force: true });
  }
  const status = opts.status ?? null;
  if (existsSync(cpPath)) {
    const cp = JSON.parse(readFileSync(cpPath, 'utf8')) as ExportCheckpoint;
    if (cp.command !== 'export' || cp.bookId !== opts.bookId || cp.status !== status) {
      throw new ExportUsageError(`${cpPath} belongs to another export (book ${cp.bookId}, status ${cp.status ?? 'any'}); use --restart to start over`);
    }
    const size = existsSync(out) ? statSync(out).size : -1;
    if (size < cp.bytes) throw new ExportUsageError(`${out} is shorter than ${cpPath} says it was; use --restart to export again`);
    // Rows written after the checkpoint (or half a row of a killed write) go; the cursor brings them back.
    if (size > cp.bytes) truncateSync(out, cp.bytes);
    return { cp, resumed: true };
  }
  if (existsSync(out)) throw new ExportUsageError(`${out} exists and no export checkpoint says how far it got; use --restart to overwrite it`);
  const header = stringify([], { header: true, columns: [...EXPORT_COLUMNS] });
  writeFileSync(out, header);
  const now = new Date().toISOString();
  const cp: ExportCheckpoint = { version: 1, command: 'export', bookId: opts.bookId, status, cursor: null, bytes: Buffer.byteLength(header), rows: 0, completed: false, startedAt: now, updatedAt: now };
  writeJsonAtomic(cpPath, cp);
  return { cp, resumed: false };
}

/** How many rows the export will have, from the book's stats (null where they do not say). */
async function expectedRows(opts: ExportOptions, onRetry: (why: string) => void): Promise<number | null> {
  const book = await getJson<{ stats: { codes: number; available: number } }>(opts.api, opts.token, `/coupons/${encodeURIComponent(opts.bookId)}`, onRetry);
  if (!opts.status) return book.stats.codes;
  if (opts.status === 'available') return book.stats.available;
  return null;
}

export async function exportCodes(opts: ExportOptions): Promise<{ exitCode: number; report: ExportReport }> {
  const pageSize = opts.pageSize ?? 1000;
  const out = opts.out ? resolve(opts.out) : null;
  let retries = 0;
  const onRetry = () => retries++;

  // Before touching any file: the book must exist and the token may read it.
  const total = await expectedRows(opts, onRetry);
  const { cp, resumed } = out
    ? openCheckpoint(opts, out)
    : {
        cp: { version: 1, command: 'export', bookId: opts.bookId, status: opts.status ?? null, cursor: null, bytes: 0, rows: 0, completed: false, startedAt: new Date().toISOString(), updatedAt: '' } as ExportCheckpoint,
        resumed: false,
      };
  const cpPath = out ? `${out}.checkpoint.json` : null;
  const started = Date.now();
  const startRows = cp.rows;
  const report = (): ExportReport => {
    const seconds = (Date.now() - started) / 1000;
    return {
      command: 'export',
      bookId: opts.bookId,
      status: opts.status ?? null,
      out,
      completed: cp.completed,
      resumed,
      rows: cp.rows,
      rowsThisRun: cp.rows - startRows,
      bytes: cp.bytes,
      seconds: Number(seconds.toFixed(3)),
      rowsPerSecond: seconds > 0 ? Math.round((cp.rows - startRows) / seconds) : 0,
      peakRssBytes: process.resourceUsage().maxRSS * 1024,
    };
  };
  if (cp.completed) {
    opts.log(`${out} already holds the whole export (per ${cpPath}); --restart exports again.`);
    return { exitCode: 0, report: report() };
  }
  if (resumed) opts.log(`Resuming ${out} after ${formatCount(cp.rows)} rows.`);
  if (!out) {
    // Standard output cannot be cut back to a checkpoint: the header goes out now, and a stopped export starts over.
    const header = stringify([], { header: true, columns: [...EXPORT_COLUMNS] });
    await stdoutSink.write(header);
  }

  const progress = createProgress(opts.progress);
  const progressState = () => {
    const seconds = (Date.now() - started) / 1000;
    const rate = seconds > 0 ? (cp.rows - startRows) / seconds : 0;
    const fraction = total ? Math.min(1, cp.rows / total) : null;
    return {
      fraction,
      rate,
      etaSeconds: total && rate > 0 ? Math.max(0, total - cp.rows) / rate : null,
      detail: `${formatCount(cp.rows)}${total !== null ? `/${formatCount(total)}` : ''} rows${retries ? ` retries ${retries}` : ''}`,
    };
  };

  let stopping: string | null = null;
  const onSignal = (signal: string) => {
    // A second signal leaves at once: the checkpoint already matches a prefix of the file.
    if (stopping) process.exit(130);
    stopping = signal;
    progress.done();
    opts.log(`${signal}: writing the page in hand, then saving the checkpoint (again to quit at once)…`);
  };
  const sigint = () => onSignal('SIGINT');
  const sigterm = () => onSignal('SIGTERM');
  process.on('SIGINT', sigint);
  process.on('SIGTERM', sigterm);

  const sink = out ? fileSink(out) : stdoutSink;
  const fetchPage = (cursor: string | null) => {
    const q = new URLSearchParams({ limit: String(pageSize), ...(opts.status ? { status: opts.status } : {}), ...(cursor ? { cursor } : {}) });
    const page = getJson<Page>(opts.api, opts.token, `/coupons/${encodeURIComponent(opts.bookId)}/codes?${q}`, onRetry);
    // A page fetched ahead and then not awaited (a stop, a failed write) must not fail the process on its own.
    page.catch(() => undefined);
    return page;
  };
  let failure: Error | null = null;
  try {
    // One page ahead: the next request runs while this page is written, never more.
    let next = fetchPage(cp.cursor);
    for (;;) {
      const page = await next;
      if (page.nextCursor && !stopping) next = fetchPage(page.nextCursor);
      const text = page.items.length ? toCsv(page.items) : '';
      if (text) await sink.write(text);
      cp.bytes += Buffer.byteLength(text);
      cp.rows += page.items.length;
      cp.cursor = page.nextCursor;
      cp.completed = page.nextCursor === null;
      cp.updatedAt = new Date().toISOString();
      if (cpPath) writeJsonAtomic(cpPath, cp);
      progress.update(progressState());
      if (cp.completed || stopping) break;
    }
  } catch (e) {
    failure = e as Error;
  } finally {
    await sink.close();
    process.off('SIGINT', sigint);
    process.off('SIGTERM', sigterm);
  }
  progress.done(progressState());
  if (failure) {
    opts.log(`Stopped: ${failure.message}`);
    if (out) opts.log(`${formatCount(cp.rows)} rows are in ${out}; run the same command to resume.`);
    return { exitCode: 1, report: report() };
  }
  if (stopping) {
    opts.log(out ? `Interrupted after ${formatCount(cp.rows)} rows; run the same command to resume.` : `Interrupted after ${formatCount(cp.rows)} rows.`);
    return { exitCode: 130, report: report() };
  }
  return { exitCode: 0, report: report() };
}

/**
 * The `export` command from the flags `scripts/codes.ts` parsed. Usage
 * mistakes answer 2 like the other commands.
 */
export async function exportCommand(
  flags: Record<string, string | true>,
  common: { api: string; token: string; progress: ProgressMode; log: (line: string) => void; print: (report: unknown) => void },
): Promise<number> {
  const value = (name: string) => {
    const v = flags[name];
    if (v === true) throw new ExportUsageError(`--${name} needs a value`);
    return v;
  };
  try {
    const bookId = value('book');
    if (!bookId) throw new ExportUsageError('export needs --book <id>');
    const status = value('status');
    if (status !== undefined && !(EXPORT_STATUSES as readonly string[]).includes(status)) throw new ExportUsageError(`--status must be one of ${EXPORT_STATUSES.join(', ')}`);
    const rawSize = value('page-size');
    const pageSize = rawSize === undefined ? 1000 : Number(rawSize);
    if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 1000) throw new ExportUsageError('--page-size must be an integer from 1 to 1000');
    const out = value('out');
    const { exitCode, report } = await exportCodes({
      api: common.api,
      token: common.token,
      bookId,
      status: status as ExportStatus | undefined,
      out,
      pageSize,
      restart: flags.restart === true,
      progress: common.progress,
      log: common.log,
    });
    // With the rows on standard output, the report goes to standard error.
    if (out) common.print(report);
    else common.log(JSON.stringify(report));
    return exitCode;
  } catch (e) {
    if (e instanceof ExportUsageError) {
      common.log(`codes: ${e.message}`);
      return 2;
    }
    throw e;
  }
}
