/**
 * `npm run codes -- export`: every code of a book as CSV through GET /coupons/{bookId}/codes,
 * in constant memory, resumable with --out (scripts/lib/export-codes.ts does the work).
 */
import { exportCommand } from '../lib/export-codes.ts';
import type { Command, Common, Values } from './args.ts';

export const exportCodesCommand: Command = {
  name: 'export',
  summary: "Export a book's codes as CSV (code, status, holder, redemptions), resumable with --out.",
  usage: 'export --book <id> [--status available|assigned|redeemed] [--out file.csv] [options]',
  options: {
    book: { type: 'string', value: '<id>', description: 'the book (required)' },
    status: { type: 'string', value: 'available|assigned|redeemed', description: 'only codes in this state' },
    out: { type: 'string', value: '<file.csv>', description: 'write here, with <file>.checkpoint.json to resume; default: standard output' },
    'page-size': { type: 'string', value: '<n>', description: 'codes per request, 1..1000 (default 1000)' },
    restart: { type: 'boolean', description: 'forget the checkpoint and export from the start' },
  },
  notes: [
    'Columns: code,status,userId,assignedAt,redemptionCount,maxRedemptions,lockExpiresAt (docs/book-codes.md).',
    'With --out, Ctrl-C or a crash leaves a checkpoint; the same command goes on where it stopped, each code exactly once.',
    'Exit codes: 0 done, 1 refused or failed, 2 bad usage, 130 interrupted (resumable).',
  ].join('\n'),
  run: (values: Values, common: Common) =>
    exportCommand(
      Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined && v !== false)) as Record<string, string | true>,
      { api: common.api, token: common.token, progress: common.progress, log: common.log, print: (report) => common.print(report, JSON.stringify(report)) },
    ),
};
