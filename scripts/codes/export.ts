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
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { resolve } from 'node:path';
import { stringify } from 'csv-stringify/sync';
import { formatCount } from '../lib/progress.ts';
import { int, str, UsageError, type Command, type Common, type Values } from './args.ts';
import { csvHeader, EXPORT_COLUMNS, EXPORT_STATUSES, resumeCheckpoint, startCheckpoint, type ExportCheckpoint, type ExportStatus } from './export-checkpoint.ts';
import type { BookCodesPage, CodesApi } from './http.ts';
import { runResumable } from './resumable.ts';

export { EXPORT_COLUMNS, EXPORT_STATUSES, type ExportStatus } from './export-checkpoint.ts';

interface Row {
  code: string;
  status: string;
  userId: string | null;
  assignedAt: string | null;
  redemptionCount: number;
  maxRedemptions: number;
  lockExpiresAt?: string;
}

type Page = BookCodesPage;

export interface ExportOptions {
  bookId: string;
  status?: ExportStatus;
  /** A file (resumable) or, when absent, standard output. */
  out?: string;
  /** Rows per request, 1..1000. */
  pageSize: number;
  restart: boolean;
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

function stdoutSink(): Sink {
  // A reader that goes away (`| head`) is an EPIPE: the export stops with it instead of crashing.
  let broken: Error | null = null;
  process.stdout.on('error', (e) => (broken ??= e));
  return {
    async write(text) {
      if (broken) throw broken;
      // `once` rejects if the stream errors while waiting.
      if (!process.stdout.write(text)) await once(process.stdout, 'drain');
      if (broken) throw broken;
    },
    async close() {},
  };
}

/** How many rows the export will have, from the book's stats (null where they do not say). */
async function expectedRows(api: CodesApi, opts: ExportOptions): Promise<number | null> {
  const book = await api.getBook(opts.bookId);
  if (!opts.status) return book.stats.codes;
  if (opts.status === 'available') return book.stats.available;
  return null;
}

export function exportCodes(common: Common, opts: ExportOptions): Promise<number> {
  const out = opts.out ? resolve(opts.out) : null;
  const cpPath = out ? `${out}.checkpoint.json` : null;
  let total: number | null = null;
  let resumed = false;
  let started = Date.now();
  let startRows = 0;
  const report = (cp: ExportCheckpoint): ExportReport => {
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
  return runResumable<ExportCheckpoint, ExportReport>(common, {
    checkpoint: cpPath,
    companions: out ? [out] : [],
    restart: opts.restart,
    // Before touching any file: the book must exist and the token may read it.
    before: async (api) => {
      total = await expectedRows(api, opts);
    },
    resume(cp) {
      resumeCheckpoint(cp, opts, out!);
      resumed = true;
    },
    start: () => startCheckpoint(opts, out),
    work: async (run) => {
      const { state: cp, progress } = run;
      started = Date.now();
      startRows = cp.rows;
      if (resumed) common.log(`Resuming ${out} after ${formatCount(cp.rows)} rows.`);
      let retries = 0;
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
      const sink = out ? fileSink(out) : stdoutSink();
      const fetchPage = (cursor: string | null) => {
        const page = run.api.listBookCodes(opts.bookId, { status: opts.status, limit: opts.pageSize, cursor }, () => retries++);
        // A page fetched ahead and then not awaited (a stop, a failed write) must not fail the process on its own.
        page.catch(() => undefined);
        return page;
      };
      try {
        // Standard output cannot be cut back to a checkpoint: the header goes out first, and a stopped export starts over.
        if (!out) await sink.write(csvHeader());
        // One page ahead: the next request runs while this page is written, never more.
        let next = fetchPage(cp.cursor);
        for (;;) {
          const page: Page = await next;
          if (page.nextCursor && !run.signal) next = fetchPage(page.nextCursor);
          const text = page.items.length ? toCsv(page.items as Row[]) : '';
          if (text) await sink.write(text);
          cp.bytes += Buffer.byteLength(text);
          cp.rows += page.items.length;
          cp.cursor = page.nextCursor;
          cp.completed = page.nextCursor === null;
          cp.updatedAt = new Date().toISOString();
          run.save();
          progress.update(progressState());
          if (cp.completed || run.signal) break;
        }
      } finally {
        await sink.close();
        progress.done(progressState());
      }
      return cp.completed ? 'done' : 'interrupted';
    },
    report: (cp) => {
      const r = report(cp);
      return { json: r, text: reportText(r) };
    },
    // With the rows on standard output, the report goes to standard error.
    print: (r) => (out ? common.print(r.json, r.text) : common.log(common.json ? JSON.stringify(r.json) : r.text)),
    messages: {
      alreadyDone: () => `${out} already holds the whole export (per ${cpPath}); --restart exports again.`,
      stopping: (signal) => `${signal}: writing the page in hand, then saving the checkpoint (again to quit at once)…`,
      interrupted: (cp) => (out ? `Interrupted after ${formatCount(cp.rows)} rows; run the same command to resume.` : `Interrupted after ${formatCount(cp.rows)} rows.`),
      afterFailure: (cp) => (out ? `${formatCount(cp.rows)} rows are in ${out}; run the same command to resume.` : null),
    },
  });
}

function reportText(r: ExportReport): string {
  const where = r.out ?? 'standard output';
  const head = `${r.completed ? 'Exported' : 'Partly exported'} ${formatCount(r.rows)} codes of book ${r.bookId}${r.status ? ` (${r.status})` : ''} to ${where}${r.resumed ? ' (resumed)' : ''}`;
  return r.seconds ? `${head}\n  ${formatCount(r.rowsThisRun)} rows in ${r.seconds} s (${formatCount(r.rowsPerSecond)}/s)` : head;
}

export const exportCommand: Command = {
  name: 'export',
  summary: "Export a book's codes as CSV, with state, holder and redemptions; resumable with --out.",
  usage: 'export --book <id> [--status available|assigned|redeemed] [--out <file.csv>] [options]',
  options: {
    book: { type: 'string', value: '<id>', description: 'the book (required)' },
    status: { type: 'string', value: 'available|assigned|redeemed', description: 'only codes in this state (default: all)' },
    out: { type: 'string', value: '<file.csv>', description: 'write here, resumably (<file>.checkpoint.json); default: standard output' },
    'page-size': { type: 'string', value: '<n>', description: 'rows per request, 1..1000 (default 1000)' },
    restart: { type: 'boolean', description: 'forget the checkpoint and the file, and start over' },
  },
  notes: [
    `Columns: ${EXPORT_COLUMNS.join(',')} (docs/book-codes.md says what each holds).`,
    'Memory stays flat whatever the book\'s size. With --out, running the same command again after Ctrl-C, a kill',
    'or a failure goes on where it stopped: the file is cut back to its checkpoint, so each code is in it exactly once.',
    'Without --out the report goes to stderr, and a stopped export starts over.',
  ].join('\n'),
  async run(values: Values, common: Common): Promise<number> {
    const bookId = str(values, 'book');
    if (!bookId) throw new UsageError('export needs --book <id>');
    const status = str(values, 'status');
    if (status !== undefined && !(EXPORT_STATUSES as readonly string[]).includes(status)) throw new UsageError(`--status must be one of ${EXPORT_STATUSES.join(', ')}`);
    return exportCodes(common, {
      bookId,
      status: status as ExportStatus | undefined,
      out: str(values, 'out'),
      pageSize: int(values, 'page-size', 1000, 1, 1000),
      restart: values.restart === true,
    });
  },
};
