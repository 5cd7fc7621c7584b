/** The export's file format and its checkpoint: what makes a stopped export resume exactly (see export.ts). */
import { existsSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { stringify } from 'csv-stringify/sync';
import { UsageError } from './args.ts';

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
 * Accepts a checkpoint found beside `out` as this export's, and cuts the file back to it: rows
 * written after the checkpoint (or half a row of a killed write) go, the cursor brings them back.
 */
export function resumeCheckpoint(cp: ExportCheckpoint, opts: { bookId: string; status?: ExportStatus }, out: string): void {
  const cpPath = `${out}.checkpoint.json`;
  if (cp.command !== 'export' || cp.bookId !== opts.bookId || cp.status !== (opts.status ?? null)) {
    throw new UsageError(`${cpPath} belongs to another export (book ${cp.bookId}, status ${cp.status ?? 'any'}); use --restart to start over`);
  }
  const size = existsSync(out) ? statSync(out).size : -1;
  if (size < cp.bytes) throw new UsageError(`${out} is shorter than ${cpPath} says it was; use --restart to export again`);
  if (size > cp.bytes) truncateSync(out, cp.bytes);
}

/** A new export's checkpoint; with `out`, the file is started (its header), and one no checkpoint explains is never overwritten. */
export function startCheckpoint(opts: { bookId: string; status?: ExportStatus }, out: string | null): ExportCheckpoint {
  const header = csvHeader();
  if (out) {
    if (existsSync(out)) throw new UsageError(`${out} exists and no export checkpoint says how far it got; use --restart to overwrite it`);
    writeFileSync(out, header);
  }
  const now = new Date().toISOString();
  return { version: 1, command: 'export', bookId: opts.bookId, status: opts.status ?? null, cursor: null, bytes: out ? Buffer.byteLength(header) : 0, rows: 0, completed: false, startedAt: now, updatedAt: now };
}
