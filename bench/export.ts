/**
 * Benchmark (not a test; CI does not run it): exporting a book's codes, on one DynamoDB Local.
 *
 *   npm run bench:export                                  # 200,000 codes, A B A B, 10,000,000-row stub run
 *   npm run bench:export -- --codes 50000 --stub-rows 0   # quicker
 *
 * Flags (argv `--name value` or `--name=value`, else env):
 *   --codes / CODES            codes in the book (default 200000; 10% assigned, 2% redeemed to their cap)
 *   --page-size / PAGE_SIZE    rows per request of the export (default 1000)
 *   --rounds / ROUNDS          A B rounds (default 2: A B A B)
 *   --stub-rows / STUB_ROWS    rows for the CLI-only memory run against a stub API (default 10000000; 0 skips it)
 *   --cli-heap-mib / CLI_HEAP_MIB  cap the CLI's V8 heap (`--max-old-space-size`) to show its working set (default 0: no cap)
 *
 * It starts its own DynamoDB Local (in memory, free port) and the API on 127.0.0.1 (free port),
 * and sends traffic nowhere else. Progress on stderr; stdout gets one JSON object.
 *
 * Phases, alternated A B A B so that a machine shared with other work slows both alike:
 *   A export   `scripts/codes.ts export --out file` as a separate process over HTTP; rate = rows /
 *              the CLI's own elapsed time; its peak RSS (maxRSS).
 *   B raw      the same reads straight to DynamoDB Local in this process: Query each byBook
 *              partition (keys only, 1,000 a page), BatchGet the items 100 at a time (4 in flight,
 *              eventually consistent), CSV to a file. No HTTP, no JSON, no cursor, no auth.
 *   stub       the CLI against a stub API that answers every page at once with made-up rows and
 *              reads nothing: the CLI's own memory and speed at 10,000,000 rows, which DynamoDB
 *              Local would take hours to serve.
 *
 * Verification (`verified`): every export file holds each code of the book exactly once.
 */
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { BatchGetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { stringify } from 'csv-stringify/sync';
import type { CoreContext } from '@coupons/core';
import { EXPORT_COLUMNS } from '../scripts/codes/export-checkpoint.ts';
import { apiClient, unwrap } from './lib/http.ts';
import { logger } from './lib/measure.ts';
import { option } from './lib/options.ts';
import { ownerKeys } from './lib/raw-claim.ts';
import { runCodesCli } from './lib/run-cli.ts';
import { serveApi, startDynamo, tokenFor } from './lib/service.ts';

const CODES = option('codes', 'CODES', 200_000);
const PAGE_SIZE = option('page-size', 'PAGE_SIZE', 1000);
const ROUNDS = option('rounds', 'ROUNDS', 2);
const STUB_ROWS = option('stub-rows', 'STUB_ROWS', 10_000_000);
const CLI_HEAP_MIB = option('cli-heap-mib', 'CLI_HEAP_MIB', 0);

const TENANT = 'bench';
const TABLE = 'bench-export';
const log = logger('export');
const round = (n: number, d = 0) => Number(n.toFixed(d));
const MiB = (bytes: number) => round(bytes / 2 ** 20, 1);

const dynamo = await startDynamo();
const { doc } = dynamo;
const dir = mkdtempSync(join(tmpdir(), 'bench-export-'));
const token = await tokenFor('bench-admin', 'admin', TENANT);

/**
 * The book's codes, written through the code entity (so its keys, byBook's included, are the
 * service's), with the book's stats moved to match. Faster than uploads, which this does not measure.
 */
async function seed(core: CoreContext, bookId: string, poolShards: number, n: number) {
  const now = new Date().toISOString();
  const perShard = Array.from({ length: poolShards }, () => ({ codes: 0, available: 0, assigned: 0, redeemed: 0 }));
  const batch = 5000;
  for (let start = 0; start < n; start += batch) {
    const items = Array.from({ length: Math.min(batch, n - start) }, (_, k) => {
      const i = start + k;
      const code = `EXP-${i.toString(36).toUpperCase().padStart(6, '0')}`;
      const shard = i % poolShards;
      const s = perShard[shard]!;
      s.codes++;
      const base = {
        tenant: TENANT,
        code,
        bookId,
        shard,
        poolSlot: randomBytes(8).toString('hex'),
        createdAt: now,
      };
      if (i % 10 !== 0) {
        s.available++;
        return { ...base, status: 'available' as const, redemptionCount: 0 };
      }
      const redeemed = i % 50 === 0;
      s.assigned++;
      if (redeemed) s.redeemed++;
      const userId = `user-${i}`;
      return {
        ...base,
        status: 'assigned' as const,
        userId,
        assignedAt: now,
        maxRedemptions: 1,
        redemptionCount: redeemed ? 1 : 0,
        ...ownerKeys(core.store, TENANT, userId, bookId, code),
      };
    });
    const { unprocessed } = await core.store.code.put(items).go({ concurrency: 4 });
    if (unprocessed.length) throw new Error(`${unprocessed.length} seed items unprocessed`);
    if ((start / batch) % 10 === 0) log(`  seeded ${start + items.length}/${n}`);
  }
  for (const [shard, add] of perShard.entries()) await core.store.bookStatsShard.patch({ tenant: TENANT, bookId, shard }).add(add).go();
}

/** Rows of a CSV export and whether each code appears exactly once. */
async function verifyFile(path: string, expected: number) {
  const seen = new Set<string>();
  let rows = 0;
  let header = '';
  for await (const line of createInterface({ input: createReadStream(path) })) {
    if (!header) {
      header = line;
      continue;
    }
    rows++;
    seen.add(line.slice(0, line.indexOf(',')));
  }
  return { rows, verified: header === EXPORT_COLUMNS.join(',') && rows === expected && seen.size === expected };
}

const runCli = (base: string, args: string[]) => runCodesCli(base, token, args, CLI_HEAP_MIB ? [`--max-old-space-size=${CLI_HEAP_MIB}`] : []);

async function exportPhase(base: string, bookId: string, n: number, tag: string) {
  const out = join(dir, `export-${tag}.csv`);
  const report = await runCli(base, ['export', '--book', bookId, '--out', out, '--page-size', String(PAGE_SIZE)]);
  const check = await verifyFile(out, n);
  const fileMiB = MiB(statSync(out).size);
  rmSync(out);
  rmSync(`${out}.checkpoint.json`);
  return { rows: report.rows, seconds: report.seconds, rowsPerSec: report.rowsPerSecond, cliPeakRssMiB: MiB(report.peakRssBytes), fileMiB, verified: check.verified && report.completed };
}

/** The baseline: the same index reads and item reads, straight to DynamoDB Local, CSV to a file. */
async function rawPhase(core: CoreContext, bookId: string, poolShards: number, n: number | null, tag: string) {
  const out = join(dir, `raw-${tag}.csv`);
  const file = createWriteStream(out);
  const write = (text: string) => new Promise<void>((res, rej) => file.write(text, (e) => (e ? rej(e) : res())));
  await write(stringify([], { header: true, columns: [...EXPORT_COLUMNS] }));
  const started = performance.now();
  for (let shard = 0; shard < poolShards; shard++) {
    let ExclusiveStartKey: Record<string, any> | undefined;
    do {
      // The book shard's byBook partition, as the code entity queries it (its keys, its index).
      const query = core.store.code.query.byBook({ tenant: TENANT, bookId, shard }).params({ limit: 1000 });
      const page = await doc.send(new QueryCommand({ ...query, ExclusiveStartKey }));
      ExclusiveStartKey = page.LastEvaluatedKey;
      const keys = (page.Items ?? []).map((i) => ({ pk: i.pk, sk: i.sk }));
      const groups = Array.from({ length: Math.ceil(keys.length / 100) }, (_, g) => keys.slice(g * 100, g * 100 + 100));
      const items: Record<string, any>[] = [];
      for (let g = 0; g < groups.length; g += 4) {
        const answers = await Promise.all(
          groups.slice(g, g + 4).map(async (group) => {
            const got: Record<string, any>[] = [];
            let pending: Record<string, any>[] = group;
            while (pending.length) {
              const r = await doc.send(new BatchGetCommand({ RequestItems: { [TABLE]: { Keys: pending } } }));
              got.push(...(r.Responses?.[TABLE] ?? []));
              pending = (r.UnprocessedKeys?.[TABLE]?.Keys as Record<string, any>[] | undefined) ?? [];
            }
            return got;
          }),
        );
        items.push(...answers.flat());
      }
      const rows = items.map((i) => ({
        code: i.code,
        status: i.status === 'available' ? 'available' : i.redemptionCount >= (i.maxRedemptions ?? 1) ? 'redeemed' : 'assigned',
        userId: i.userId ?? '',
        assignedAt: i.assignedAt ?? '',
        redemptionCount: i.redemptionCount,
        maxRedemptions: i.maxRedemptions ?? 1,
        lockExpiresAt: '',
      }));
      if (rows.length) await write(stringify(rows, { columns: [...EXPORT_COLUMNS] }));
    } while (ExclusiveStartKey);
  }
  await new Promise<void>((r) => file.end(r));
  const seconds = (performance.now() - started) / 1000;
  const check = await verifyFile(out, n ?? -1);
  rmSync(out);
  return { rows: check.rows, seconds: round(seconds, 2), rowsPerSec: round(check.rows / seconds), verified: check.verified };
}

const results: Record<string, any> = {};
try {
  const api = await serveApi(dynamo, TABLE);
  const { core, base } = api;
  const book = await unwrap(apiClient(base, token).coupons.$post({ json: { name: 'bench export' } }));
  const poolShards = book.shards;
  log(`DynamoDB Local on ${dynamo.endpoint}; seeding ${CODES} codes over ${poolShards} shards`);
  await seed(core, book.id, poolShards, CODES);

  log('warm-up (JIT of DynamoDB Local and of this process): two shards, raw');
  await rawPhase(core, book.id, 2, null, 'warm');

  const a: any[] = [];
  const b: any[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    log(`round ${r + 1}: A export (CLI over HTTP)`);
    a.push(await exportPhase(base, book.id, CODES, `a${r}`));
    log(`  ${a.at(-1).rowsPerSec} rows/s, peak RSS ${a.at(-1).cliPeakRssMiB} MiB`);
    log(`round ${r + 1}: B raw Query + BatchGet`);
    b.push(await rawPhase(core, book.id, poolShards, CODES, `b${r}`));
    log(`  ${b.at(-1).rowsPerSec} rows/s`);
  }
  await api.close();
  const best = (runs: any[]) => runs.reduce((x, y) => (y.rowsPerSec > x.rowsPerSec ? y : x));
  results.export = { ...best(a), runs: a.map((x) => x.rowsPerSec), peakRssMiB: a.map((x) => x.cliPeakRssMiB), pageSize: PAGE_SIZE, verified: a.every((x) => x.verified) };
  results.raw = { ...best(b), runs: b.map((x) => x.rowsPerSec), verified: b.every((x) => x.verified) };
  results.ratioToRaw = round(results.export.rowsPerSec / results.raw.rowsPerSec, 3);
  results.pairRatios = a.map((x, i) => round(x.rowsPerSec / b[i].rowsPerSec, 3));

  if (STUB_ROWS > 0) {
    log(`stub: the CLI exporting ${STUB_ROWS} made-up rows from a stub API (memory of the CLI alone)`);
    const assignedAt = new Date().toISOString();
    const stub = createServer((req, res) => {
      const url = new URL(req.url!, 'http://stub');
      if (!url.pathname.endsWith('/codes')) {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ stats: { codes: STUB_ROWS, available: 0, assigned: STUB_ROWS, redeemed: 0 } }));
        return;
      }
      const from = Number(url.searchParams.get('cursor') ?? 0);
      const to = Math.min(STUB_ROWS, from + Number(url.searchParams.get('limit')));
      const items = [];
      for (let i = from; i < to; i++) {
        items.push({ code: `STUB-${i.toString(36).toUpperCase().padStart(6, '0')}`, status: 'assigned', userId: `user-${i}`, assignedAt, redemptionCount: 0, maxRedemptions: 1 });
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ items, nextCursor: to < STUB_ROWS ? String(to) : null }));
    });
    await new Promise<void>((r) => stub.listen(0, '127.0.0.1', r));
    const out = join(dir, 'stub.csv');
    const report = await runCli(`http://127.0.0.1:${(stub.address() as AddressInfo).port}`, ['export', '--book', 'stub', '--out', out, '--page-size', String(PAGE_SIZE)]);
    stub.close();
    results.stub = {
      rows: report.rows,
      fileMiB: MiB(statSync(out).size),
      seconds: report.seconds,
      rowsPerSec: report.rowsPerSecond,
      cliPeakRssMiB: MiB(report.peakRssBytes),
      verified: report.completed && report.rows === STUB_ROWS,
    };
    rmSync(out);
    log(`stub: peak RSS ${results.stub.cliPeakRssMiB} MiB for ${STUB_ROWS} rows`);
  }
} finally {
  await dynamo.stop();
  rmSync(dir, { recursive: true, force: true });
}

process.stdout.write(
  `${JSON.stringify({
    when: new Date().toISOString(),
    node: process.version,
    cpus: `${cpus()[0]?.model.trim()} (${cpus().length})`,
    loadAvg1m: round(loadavg()[0]!, 2),
    codes: CODES,
    cliHeapMiB: CLI_HEAP_MIB || null,
    ...results,
    verified: Object.values(results).every((r: any) => r?.verified !== false),
  })}\n`,
);
process.exit(0);
