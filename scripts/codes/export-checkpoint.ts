/** The export's file format and its checkpoint: what makes a stopped export resume exactly (see export.ts). */
import { existsSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { stringify } from 'csv-stringify/sync';
import { UsageError } from './args.ts';
import { writeJsonAtomic } from './checkpoint.ts';

/** The export's CSV columns, in order (docs/book-codes.md says what each holds). */
export const EXPORT_COLUMNS = ['code', 'status', 'userId', 'assignedAt', 'redemptionCount', 'maxRedemptions', 'lockExpiresAt'] as const;
export const EXPORT_STATUSES = ['available', 'assigned', 'redeemed'] as const;
export type ExportStatus = (typeof EXPORT_STATUSES)[number];

export const csvHeader = () => stringify([], { header: true, columns: [...EXPORT_COLUMNS] });

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

/**
 * Opens (or resumes) the export's checkpoint and output; answers the state
 * to go on from. A file without a checkpoint, or a checkpoint of another
 * export, is never overwritten without --restart.
 */
export function openCheckpoint(opts: { bookId: string; status?: ExportStatus; restart?: boolean }, out: string): { cp: ExportCheckpoint; resumed: boolean } {
  const cpPath = `${out}.checkpoint.json`;
  if (opts.restart) {
    rmSync(cpPath, { force: true });
    rmSync(out, { force: true });
  }
  const status = opts.status ?? null;
  if (existsSync(cpPath)) {
    const cp = JSON.parse(readFileSync(cpPath, 'utf8')) as ExportCheckpoint;
    if (cp.command !== 'export' || cp.bookId !== opts.bookId || cp.status !== status) {
      throw new UsageError(`${cpPath} belongs to another export (book ${cp.bookId}, status ${cp.status ?? 'any'}); use --restart to start over`);
    }
    const size = existsSync(out) ? statSync(out).size : -1;
    if (size < cp.bytes) throw new UsageError(`${out} is shorter than ${cpPath} says it was; use --restart to export again`);
    // Rows written after the checkpoint (or half a row of a killed write) go; the cursor brings them back.
    if (size > cp.bytes) truncateSync(out, cp.bytes);
    return { cp, resumed: true };
  }
  if (existsSync(out)) throw new UsageError(`${out} exists and no export checkpoint says how far it got; use --restart to overwrite it`);
  const header = csvHeader();
  writeFileSync(out, header);
  const now = new Date().toISOString();
  const cp: ExportCheckpoint = { version: 1, command: 'export', bookId: opts.bookId, status, cursor: null, bytes: Buffer.byteLength(header), rows: 0, completed: false, startedAt: now, updatedAt: now };
  writeJsonAtomic(cpPath, cp);
  return { cp, resumed: false };
}

