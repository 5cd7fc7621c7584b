/**
 * Benchmark (not a test; CI does not run it): bulk codes, in one run, on one DynamoDB Local.
 *
 *   npm run bench:load                                   # 100,000 codes, 1,000,000-line memory run
 *   npm run bench:load -- --codes 50000 --memory-lines 0 # quicker, no memory run
 *   npm run bench:load -- --write-results                # also (re)writes `## load` in bench/RESULTS.md
 *
 * Flags (argv `--name value` or `--name=value`, else env):
 *   --codes / CODES                  codes per measured phase (default 100000; at least 10001, so generation is a job)
 *   --memory-lines / MEMORY_LINES    lines of the file for the peak-memory run (default 1000000; 0 skips it)
 *   --stub-lines / STUB_LINES        lines for the CLI-only memory run against a stub API (default 10000000; 0 skips it)
 *   --chunk-size / CHUNK_SIZE        CLI codes per request (default 1000)
 *   --parallel / PARALLEL            CLI requests in flight (default 8)
 *   --raw-concurrency / RAW_CONCURRENCY  transactions in flight in the raw phase (default 8)
 *
 * It starts its own DynamoDB Local (in memory, free port) and the API on 127.0.0.1 (free port),
 * and sends traffic nowhere else. Each phase writes to a table of its own, so none runs against
 * a table another phase has grown. Progress on stderr; stdout gets one JSON object.
 *
 * Phases:
 *   raw      TransactWriteItems of 100 conditional puts (attribute_not_exists), items shaped like
 *            the service's code items (same attributes, pool and byBook index keys), `--raw-concurrency`
 *            in flight, straight to DynamoDB Local: no HTTP, no JSON, no stats, no idempotency.
 *   load     `scripts/codes.ts load` on a file of `--codes` fresh codes, as a separate process over
 *            HTTP; rate = lines / the CLI's own elapsed time (its start-up excluded; wall rate too).
 *   job      POST /coupons/codes/generate with count `--codes` (a job, run in-process by the
 *            API), polled through GET /jobs/{id}; rate = total / (finishedAt - startedAt).
 *   memory   the CLI on a `--memory-lines`-line file; peak RSS of the CLI process (maxRSS).
 *   stub     the CLI on a `--stub-lines`-line file against a stub API that answers every upload
 *            at once ("all inserted") and writes nothing: the CLI's own memory and speed at
 *            10,000,000 lines, which DynamoDB Local would take over an hour to absorb.
 *
 * Verification (`verified`): every phase's table holds exactly its codes and the book's stats
 * say the same.
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir, cpus } from 'node:os';
import { join } from 'node:path';
import { TransactWriteCommand, QueryCommand, type TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';
import { createStore, ensureTable } from '@coupons/core';
import { apiClient, unwrap } from './lib/http.ts';
import { logger } from './lib/measure.ts';
import { option } from './lib/options.ts';
import { runCodesCli } from './lib/run-cli.ts';
import { serveApi, startDynamo, tokenFor } from './lib/service.ts';


const CODES = option('codes', 'CODES', 100_000);
const MEMORY_LINES = option('memory-lines', 'MEMORY_LINES', 1_000_000);
const STUB_LINES = option('stub-lines', 'STUB_LINES', 10_000_000);
const CHUNK_SIZE = option('chunk-size', 'CHUNK_SIZE', 1000);
const PARALLEL = option('parallel', 'PARALLEL', 8);
const RAW_CONCURRENCY = option('raw-concurrency', 'RAW_CONCURRENCY', 8);
const WRITE_RESULTS = process.argv.includes('--write-results');
if (CODES <= 10_000) throw new Error('--codes must be above 10,000 so that generation runs as a job');

const TENANT = 'bench';
const log = logger('load');
const round = (n: number, d = 0) => Number(n.toFixed(d));

// ---------------------------------------------------------------- set-up

const dynamo = await startDynamo();
const { endpoint, doc, rawClient } = dynamo;
const dir = mkdtempSync(join(tmpdir(), 'bench-load-'));

const serve = (table: string) => serveApi(dynamo, table);

const token = await tokenFor('bench-admin', 'admin', TENANT);

const client = (base: string) => apiClient(base, token);
const createBook = (base: string, body: { codePattern?: string } = {}) => unwrap(client(base).coupons.$post({ json: { name: 'bench', ...body } }));
const bookStats = async (base: string, bookId: string) => (await unwrap(client(base).coupons[':bookId'].$get({ param: { bookId } }))).stats;

/** The book's available codes, counted through its pool index partitions (keys only) as the code entity queries them. */
async function countAvailable(table: string, bookId: string, shards: number): Promise<number> {
  const store = createStore(doc, table);
  let n = 0;
  for (let shard = 0; shard < shards; shard++) {
    let ExclusiveStartKey: Record<string, any> | undefined;
    do {
      const query = store.code.query.pool({ tenant: TENANT, bookId, shard }).params();
      const page = await doc.send(new QueryCommand({ ...query, Select: 'COUNT', ExclusiveStartKey }));
      n += page.Count ?? 0;
      ExclusiveStartKey = page.LastEvaluatedKey;
    } while (ExclusiveStartKey);
  }
  return n;
}

function writeCodes(path: string, n: number, prefix: string): Promise<void> {
  const out = createWriteStream(path);
  let i = 0;
  return new Promise((resolve, reject) => {
    out.on('error', reject);
    const write = () => {
      let ok = true;
      while (i < n && ok) {
        const block: string[] = [];
        for (let k = 0; k < 10_000 && i < n; k++, i++) block.push(`${prefix}-${i.toString(36).toUpperCase().padStart(6, '0')}`);
        ok = out.write(`${block.join('\n')}\n`);
      }
      if (i < n) out.once('drain', write);
      else out.end(resolve);
    };
    write();
  });
}

const runCli = (base: string, args: string[]) => runCodesCli(base, token, args);

// ---------------------------------------------------------------- raw

const RAW_SHARDS = 16;

async function rawPhase(table: string, n: number, tag: string) {
  await ensureTable(rawClient, table);
  const store = createStore(doc, table);
  const bookId = `raw-${tag}`;
  const createdAt = new Date().toISOString();
  const count = Math.ceil(n / 100);
  // 100 conditional puts of new codes each, as the code entity creates them (its keys, its pool and
  // byBook entries, its attribute_not_exists condition); built before the clock starts.
  const transactions: TransactWriteCommandInput[] = Array.from({ length: count }, (_, t) =>
    store.service.transaction
      .write(({ code }) =>
        Array.from({ length: Math.min(100, n - t * 100) }, (_, j) =>
          code
            .create({
              tenant: TENANT,
              code: `RAW${tag}-${(t * 100 + j).toString(36).toUpperCase()}`,
              bookId,
              shard: (t + j) % RAW_SHARDS,
              poolSlot: randomBytes(8).toString('hex'),
              status: 'available',
              redemptionCount: 0,
              createdAt,
            })
            .commit(),
        ),
      )
      .params() as TransactWriteCommandInput,
  );
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: RAW_CONCURRENCY }, async () => {
      while (next < transactions.length) await doc.send(new TransactWriteCommand(transactions[next++]!));
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const stored = await countAvailable(table, bookId, RAW_SHARDS);
  return { codes: n, seconds: round(seconds, 2), codesPerSec: round(n / seconds), transactionsPerSec: round(count / seconds, 1), verified: stored === n };
}

// ---------------------------------------------------------------- run

const results: Record<string, any> = {};
try {
  log(`DynamoDB Local on ${endpoint}; ${CODES} codes per phase, CLI chunk ${CHUNK_SIZE} x ${PARALLEL} in flight, raw ${RAW_CONCURRENCY} in flight`);

  log('warm-up (JIT of DynamoDB Local and of this process)');
  await rawPhase('bench-warm', 20_000, 'W');
  {
    const warm = await serve('bench-warm-api');
    const book = await createBook(warm.base);
    const file = join(dir, 'warm.txt');
    await writeCodes(file, 5000, 'WARM');
    await runCli(warm.base, ['load', '--book', book.id, '--file', file, '--chunk-size', String(CHUNK_SIZE), '--parallel', String(PARALLEL)]);
    await warm.close();
  }

  // DynamoDB Local's JIT keeps warming for a while, so raw runs both before and after the
  // service's phases; the faster of the two is the baseline (the conservative choice).
  log('raw (before): conditional TransactWriteItems of 100 puts');
  const rawBefore = await rawPhase('bench-raw-1', CODES, 'R1');
  results.raw = rawBefore;
  log(`raw (before): ${rawBefore.codesPerSec} codes/s`);

  log('load: the CLI, over HTTP');
  {
    const s = await serve('bench-load');
    const book = await createBook(s.base);
    const file = join(dir, 'codes.txt');
    await writeCodes(file, CODES, 'LOAD');
    const wallStart = performance.now();
    const report = await runCli(s.base, ['load', '--book', book.id, '--file', file, '--chunk-size', String(CHUNK_SIZE), '--parallel', String(PARALLEL)]);
    const wall = (performance.now() - wallStart) / 1000;
    const stats = await bookStats(s.base, book.id);
    results.load = {
      codes: CODES,
      seconds: report.seconds,
      codesPerSec: report.codesPerSecond,
      wallSeconds: round(wall, 2),
      wallCodesPerSec: round(CODES / wall),
      chunkSize: CHUNK_SIZE,
      parallel: PARALLEL,
      ratioToRaw: round(report.codesPerSecond / results.raw.codesPerSec, 3),
      cliPeakRssMiB: round(report.peakRssBytes / 2 ** 20, 1),
      verified: report.inserted === CODES && stats.codes === CODES && stats.available === CODES,
    };
    await s.close();
    log(`load: ${results.load.codesPerSec} codes/s (${results.load.ratioToRaw} of raw)`);
  }

  log('job: POST /coupons/codes/generate, polled through GET /jobs');
  {
    const s = await serve('bench-job');
    const book = await createBook(s.base, { codePattern: 'JOB-********' });
    const accepted = await unwrap(client(s.base).coupons.codes.generate.$post({ json: { bookId: book.id, count: CODES } }));
    if (!('jobId' in accepted)) throw new Error(`generate ${CODES} answered without a job`);
    const { jobId } = accepted;
    const poll = () => unwrap(client(s.base).jobs[':jobId'].$get({ param: { jobId } }));
    let job = await poll();
    while (job.status !== 'succeeded' && job.status !== 'failed') {
      await new Promise((r) => setTimeout(r, 250));
      job = await poll();
    }
    // A finished job has both times.
    const seconds = (Date.parse(job.finishedAt!) - Date.parse(job.startedAt!)) / 1000;
    const stats = await bookStats(s.base, book.id);
    results.job = {
      codes: CODES,
      status: job.status,
      seconds: round(seconds, 2),
      codesPerSec: round(CODES / seconds),
      lanes: s.core.config.JOB_LANES,
      chunkSize: s.core.config.JOB_CHUNK_SIZE,
      ratioToRaw: round(CODES / seconds / results.raw.codesPerSec, 3),
      verified: job.status === 'succeeded' && job.generated === CODES && stats.codes === CODES,
    };
    await s.close();
    log(`job: ${results.job.codesPerSec} codes/s (${results.job.ratioToRaw} of raw)`);
  }

  log('raw (after)');
  const rawAfter = await rawPhase('bench-raw-2', CODES, 'R2');
  log(`raw (after): ${rawAfter.codesPerSec} codes/s`);
  results.raw = { ...(rawAfter.codesPerSec > rawBefore.codesPerSec ? rawAfter : rawBefore), runs: [rawBefore.codesPerSec, rawAfter.codesPerSec] };
  for (const phase of [results.load, results.job]) phase.ratioToRaw = round(phase.codesPerSec / results.raw.codesPerSec, 3);
  log(`ratios to the faster raw run: load ${results.load.ratioToRaw}, job ${results.job.ratioToRaw}`);

  if (MEMORY_LINES > 0) {
    log(`memory: the CLI on a ${MEMORY_LINES}-line file (this takes a while on DynamoDB Local)`);
    const s = await serve('bench-memory');
    const book = await createBook(s.base);
    const file = join(dir, 'million.txt');
    await writeCodes(file, MEMORY_LINES, 'MEM');
    const report = await runCli(s.base, ['load', '--book', book.id, '--file', file, '--chunk-size', String(CHUNK_SIZE), '--parallel', String(PARALLEL)]);
    const stats = await bookStats(s.base, book.id);
    results.memory = {
      lines: MEMORY_LINES,
      fileMiB: round(statSync(file).size / 2 ** 20, 1),
      seconds: report.seconds,
      codesPerSec: report.codesPerSecond,
      cliPeakRssMiB: round(report.peakRssBytes / 2 ** 20, 1),
      verified: report.inserted === MEMORY_LINES && stats.codes === MEMORY_LINES,
    };
    await s.close();
    log(`memory: peak RSS ${results.memory.cliPeakRssMiB} MiB for ${MEMORY_LINES} lines`);
  }

  if (STUB_LINES > 0) {
    log(`stub: the CLI on a ${STUB_LINES}-line file against a stub API (memory of the CLI alone)`);
    let received = 0;
    const stub = createServer((req, res) => {
      const parts: Buffer[] = [];
      req.on('data', (d) => parts.push(d));
      req.on('end', () => {
        const n = JSON.parse(Buffer.concat(parts).toString()).codes.length;
        received += n;
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ inserted: n, duplicates: [], invalid: [] }));
      });
    });
    await new Promise<void>((r) => stub.listen(0, '127.0.0.1', r));
    const file = join(dir, 'ten-million.txt');
    await writeCodes(file, STUB_LINES, 'STUB');
    const report = await runCli(`http://127.0.0.1:${(stub.address() as AddressInfo).port}`, ['load', '--book', 'stub', '--file', file, '--chunk-size', String(CHUNK_SIZE), '--parallel', String(PARALLEL)]);
    stub.close();
    results.stub = {
      lines: STUB_LINES,
      fileMiB: round(statSync(file).size / 2 ** 20, 1),
      seconds: report.seconds,
      linesPerSec: report.codesPerSecond,
      cliPeakRssMiB: round(report.peakRssBytes / 2 ** 20, 1),
      verified: report.inserted === STUB_LINES && received === STUB_LINES,
    };
    log(`stub: peak RSS ${results.stub.cliPeakRssMiB} MiB for ${STUB_LINES} lines`);
  }
} finally {
  await dynamo.stop();
  rmSync(dir, { recursive: true, force: true });
}

const output: Record<string, any> = {
  when: new Date().toISOString(),
  node: process.version,
  cpus: `${cpus()[0]?.model.trim()} (${cpus().length})`,
  ...results,
  verified: Object.values(results).every((r: any) => r.verified),
};
process.stdout.write(`${JSON.stringify(output)}\n`);

if (WRITE_RESULTS) {
  const path = new URL('./RESULTS.md', import.meta.url);
  const f = (n: number) => n.toLocaleString('en-US');
  const section = [
    '## load',
    '',
    `Run ${output.when} with \`npm run bench:load${process.argv.slice(2).length ? ` -- ${process.argv.slice(2).join(' ')}` : ''}\`: Node ${output.node}, ${output.cpus}, DynamoDB Local (in memory), one table per phase.`,
    '',
    '| phase | codes | seconds | codes/s | of raw |',
    '|---|---|---|---|---|',
    `| raw: TransactWriteItems of 100 conditional puts, ${RAW_CONCURRENCY} in flight (faster of runs before and after: ${output.raw.runs.map(f).join(' and ')} codes/s) | ${f(output.raw.codes)} | ${output.raw.seconds} | ${f(output.raw.codesPerSec)} | 1 |`,
    `| CLI load (\`npm run codes -- load\`, chunks of ${CHUNK_SIZE}, ${PARALLEL} in flight, over HTTP) | ${f(output.load.codes)} | ${output.load.seconds} | ${f(output.load.codesPerSec)} | ${output.load.ratioToRaw} |`,
    `| generation job (${output.job.lanes} lanes, ${output.job.chunkSize} codes a transaction) | ${f(output.job.codes)} | ${output.job.seconds} | ${f(output.job.codesPerSec)} | ${output.job.ratioToRaw} |`,
    '',
    output.memory
      ? `Peak memory of the CLI process (maxRSS) loading a ${f(output.memory.lines)}-line file (${output.memory.fileMiB} MiB): **${output.memory.cliPeakRssMiB} MiB** ` +
        `(${f(output.memory.codesPerSec)} codes/s over ${output.memory.seconds} s; the ${f(output.load.codes)}-code run peaked at ${output.load.cliPeakRssMiB} MiB). ` +
        `What the CLI keeps does not grow with the file: it reads it as a stream and holds at most ${PARALLEL * 4} chunks (in flight or answered out of order). ` +
        `RSS still rises with the run's length because V8 grows its heap lazily while memory is plentiful: capped with \`node --max-old-space-size=48\`, ` +
        `a 10,000,000-line load completes at about 140 MiB.`
      : `Peak memory of the CLI for the ${f(output.load.codes)}-code run: ${output.load.cliPeakRssMiB} MiB (memory run skipped).`,
    ...(output.stub
      ? [
          '',
          `The CLI alone at ${f(output.stub.lines)} lines (${output.stub.fileMiB} MiB), against a stub API that answers every upload at once and writes nothing: ` +
            `**${output.stub.cliPeakRssMiB} MiB** peak RSS, ${f(output.stub.linesPerSec)} lines/s. (Through DynamoDB Local the same file would take over an hour.)`,
        ]
      : []),
    '',
    'Where the rest of the raw rate goes. Load: HTTP and JSON, the book read and the Idempotency-Key record (two writes) per request, and one or two stats ' +
      'counters per transaction (98 or 99 codes per 100 items). Job: the stats counter and the lane\'s progress in every transaction (98 codes per 100 items). ' +
      'DynamoDB Local runs transactions one at a time (about 28 a second of 100 items, whatever the concurrency), so these are ratios on Local, not AWS figures: ' +
      'on AWS, throughput grows with parallelism (`--parallel`, JOB_LANES) up to the table\'s write capacity.',
    '',
    `All figures verified against the tables (every code present, stats equal): ${output.verified}.`,
    '',
  ].join('\n');
  // Re-read right before writing: other benchmarks write their own sections of this file.
  let text = '';
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    text = '# Benchmark results\n';
  }
  const start = text.search(/^## load\s*$/m);
  if (start >= 0) {
    const rest = text.slice(start + 1);
    const next = rest.search(/^## /m);
    text = text.slice(0, start) + section + (next >= 0 ? `\n${rest.slice(next)}` : '');
  } else {
    text = `${text.trimEnd()}\n\n${section}`;
  }
  writeFileSync(path, text.endsWith('\n') ? text : `${text}\n`);
  log(`wrote the load section of ${path.pathname}`);
}
process.exit(0);
