/**
 * Benchmark (not a test; CI does not run it): loading codes the way a user does, against raw
 * transactions on a table of the same shape.
 *
 *   npm run bench:load                                   # 100,000 codes, 1,000,000-line memory run
 *   npm run bench:load -- --codes 50000 --memory-lines 0 # quicker, no memory run
 *   npm run bench:load -- --write-results                # also (re)writes `## load` in bench/RESULTS.md
 *
 * Flags (argv `--name value` or `--name=value`, else env):
 *   --codes / CODES                  codes per measured phase (default 100000; at least 10001, so generation is a job)
 *   --warm-up / WARM_UP              raw puts that warm each DynamoDB Local before its phase (default 20000)
 *   --memory-lines / MEMORY_LINES    lines of the file for the peak-memory run (default 1000000; 0 skips it)
 *   --stub-lines / STUB_LINES        lines for the CLI-only memory run against a stub API (default 10000000; 0 skips it)
 *   --chunk-size / CHUNK_SIZE        CLI codes per request (default 1000)
 *   --parallel / PARALLEL            CLI requests in flight (default 8)
 *   --raw-concurrency / RAW_CONCURRENCY  transactions in flight in the raw phase (default 8)
 *   --rounds / ROUNDS                rounds of the load, job and API-alone phases (default 1), each followed by raw
 *
 * Every phase gets a DynamoDB Local of its own (in memory, free port, 127.0.0.1 only), warmed
 * by `--warm-up` raw puts on a table without a stream that is then deleted: DynamoDB Local
 * slows down as stream records pile up, whichever table they belong to, so a phase sharing a
 * Local with an earlier one would pay for that phase's records. Every measured table is made by
 * `ensureTable`, as `npm start` makes its own: the same key schema, indexes, TTL and change
 * stream. Progress on stderr; stdout gets one JSON object.
 *
 * Phases:
 *   raw      TransactWriteItems of 100 conditional puts (attribute_not_exists), items shaped like
 *            the service's code items (same attributes, pool and byBook index keys), `--raw-concurrency`
 *            in flight, straight to DynamoDB Local: no HTTP, no JSON, no stats, no idempotency,
 *            nothing reading the stream. Run first and after each round: a round's ratios are to
 *            the mean of the two raw runs around it (the machine is shared, and its load drifts).
 *   load     the path a user takes: `npm start` (scripts/dev.ts in its own process: the API, the
 *            change stream's follower and its consumers, jobs in-process), then `npm run codes --
 *            load` on a file of `--codes` fresh codes with the COUPONS_API and ADMIN token that
 *            `npm start` printed. Rate = lines / the CLI's own elapsed time (start-up excluded).
 *   job      POST /coupons/codes/generate with count `--codes` on `npm start` (a job, run
 *            in-process, follower on), polled through GET /jobs/{id}; rate = total / (finishedAt - startedAt).
 *   apiOnly  where the time goes: the same CLI load against the API alone, served from this
 *            process, with nothing reading the stream.
 *   memory   the CLI on a `--memory-lines`-line file (API alone); peak RSS of the CLI process (maxRSS).
 *   stub     the CLI on a `--stub-lines`-line file against a stub API that answers every upload
 *            at once ("all inserted") and writes nothing: the CLI's own memory and speed at
 *            10,000,000 lines, which DynamoDB Local would take over an hour to absorb.
 *
 * Verification (`verified`): every phase's table holds exactly its codes (the book's stats, or
 * a count of the pool index for raw), and the CLI reported each code inserted exactly once.
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir, cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { DeleteTableCommand } from '@aws-sdk/client-dynamodb';
import { createDocumentClient, createDynamoDbClient, ensureTable, loadConfig } from '@coupons/core';
import { createApp, createCoreContext, startServer } from '@coupons/api';
import { createCouponClient, unwrap } from '@coupons/client';
import { startDynamoDbLocal } from '../scripts/lib/dynamodb-local.ts';
import { mintToken } from '../scripts/lib/tokens.ts';
import { option } from './lib/options.ts';
import { runCodesCli } from './lib/run-cli.ts';
import { startNpmStart } from './lib/npm-start.ts';
import { writeLoadSection } from './lib/load-section.ts';
import { countRawCodes, rawTransactions } from './lib/raw-codes.ts';

const CODES = option('codes', 'CODES', 100_000);
const WARM_UP = option('warm-up', 'WARM_UP', 20_000);
const MEMORY_LINES = option('memory-lines', 'MEMORY_LINES', 1_000_000);
const STUB_LINES = option('stub-lines', 'STUB_LINES', 10_000_000);
const CHUNK_SIZE = option('chunk-size', 'CHUNK_SIZE', 1000);
const PARALLEL = option('parallel', 'PARALLEL', 8);
const RAW_CONCURRENCY = option('raw-concurrency', 'RAW_CONCURRENCY', 8);
const ROUNDS = Math.max(1, option('rounds', 'ROUNDS', 1));
const WRITE_RESULTS = process.argv.includes('--write-results');
if (CODES <= 10_000) throw new Error('--codes must be above 10,000 so that generation runs as a job');

const SECRET = `bench-${randomBytes(12).toString('hex')}`;
const TENANT = 'bench';
const runStarted = Date.now();
const log = (msg: string) => process.stderr.write(`[bench:load ${Math.round((Date.now() - runStarted) / 1000)}s] ${msg}\n`);
const round = (n: number, d = 0) => Number(n.toFixed(d));
const dir = mkdtempSync(join(tmpdir(), 'bench-load-'));

// ---------------------------------------------------------------- what each phase runs on

/** What a phase stops when it ends, or when the run fails. */
const running = new Set<{ stop(): Promise<void> }>();
async function started<T extends { stop(): Promise<void> }>(thing: Promise<T>): Promise<T> {
  const t = await thing;
  running.add(t);
  return t;
}
async function stopped(thing: { stop(): Promise<void> }) {
  running.delete(thing);
  await thing.stop();
}

/** A fresh DynamoDB Local, warmed by raw puts on a stream-less table that is then deleted. */
async function warmLocal(tag: string) {
  const ddb = await startDynamoDbLocal();
  const client = createDynamoDbClient({ DYNAMODB_ENDPOINT: ddb.endpoint, AWS_REGION: 'us-east-1' });
  const doc = createDocumentClient(client);
  try {
    if (WARM_UP > 0) {
      await ensureTable(client, 'bench-warm-up', { stream: false });
      await rawTransactions(doc, { table: 'bench-warm-up', n: WARM_UP, tag: `W${tag}`, tenant: TENANT, concurrency: RAW_CONCURRENCY });
      await client.send(new DeleteTableCommand({ TableName: 'bench-warm-up' }));
    }
  } catch (e) {
    await ddb.stop();
    throw e;
  }
  return { endpoint: ddb.endpoint, client, doc, stop: ddb.stop };
}
type Local = Awaited<ReturnType<typeof warmLocal>>;

/** A running API, with the admin token that works on it. */
interface Service {
  base: string;
  token: string;
  /** The change follower's batches that failed and were retried (npm start only). */
  followerRetries?: () => number;
  stop(): Promise<void>;
}

/** The path a user takes: `npm start` in its own process (follower on, jobs in-process) on a fresh table. */
async function npmStart(local: Local, table: string): Promise<Service> {
  const s = await startNpmStart({ endpoint: local.endpoint, table, log });
  return { base: s.api, token: s.adminToken, followerRetries: s.followerRetries, stop: s.stop };
}

/** The API alone, in this process, with nothing reading the table's stream. */
async function apiOnly(local: Local, table: string): Promise<Service> {
  const env = { DYNAMODB_ENDPOINT: local.endpoint, TABLE_NAME: table, AWS_REGION: 'us-east-1' };
  await ensureTable(local.client, table, { stream: true });
  const app = createApp({ core: createCoreContext(env, undefined, { logLines: { push: () => undefined }, writeEmf: () => undefined }), auth: { hs256Secret: SECRET } });
  const server = await startServer(app, 0, '127.0.0.1');
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const token = await mintToken(SECRET, { sub: 'bench-admin', tenant: TENANT, role: 'admin' });
  return { base, token, stop: () => new Promise<void>((r) => server.close(() => r())) };
}

const client = (s: Service) => createCouponClient(s.base, { token: s.token });
const createBook = (s: Service, body: { codePattern?: string } = {}) => unwrap(client(s).coupons.$post({ json: { name: 'bench', ...body } }));
const bookStats = async (s: Service, bookId: string) => (await unwrap(client(s).coupons[':bookId'].$get({ param: { bookId } }))).stats;
const loadArgs = (bookId: string, file: string) => ['load', '--book', bookId, '--file', file, '--chunk-size', String(CHUNK_SIZE), '--parallel', String(PARALLEL)];
const runCli = (s: Pick<Service, 'base' | 'token'>, args: string[]) => runCodesCli(s.base, s.token, args);

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

/** A file of `n` fresh codes loaded through the CLI into a new book of `s`, checked against the book's stats. */
async function cliLoad(s: Service, n: number, prefix: string) {
  const book = await createBook(s);
  const file = join(dir, `${prefix.toLowerCase()}.txt`);
  await writeCodes(file, n, prefix);
  const wallStart = performance.now();
  const report = await runCli(s, loadArgs(book.id, file));
  const wall = (performance.now() - wallStart) / 1000;
  const stats = await bookStats(s, book.id);
  return {
    codes: n,
    seconds: report.seconds,
    codesPerSec: report.codesPerSecond,
    wallSeconds: round(wall, 2),
    wallCodesPerSec: round(n / wall),
    cliPeakRssMiB: round(report.peakRssBytes / 2 ** 20, 1),
    // A chunk whose request failed after some of its transactions committed is reported as duplicates on its retry.
    reported: { inserted: report.inserted, duplicates: report.duplicates },
    ...(s.followerRetries ? { followerRetries: s.followerRetries() } : {}),
    verified: report.inserted === n && stats.codes === n && stats.available === n,
  };
}

// ---------------------------------------------------------------- raw

async function rawPhase(n: number, tag: string) {
  const local = await started(warmLocal(tag));
  // The table `npm start` makes: same key schema, indexes, TTL and change stream.
  await ensureTable(local.client, 'bench-raw', { stream: true });
  const seconds = await rawTransactions(local.doc, { table: 'bench-raw', n, tag, tenant: TENANT, concurrency: RAW_CONCURRENCY });
  const stored = await countRawCodes(local.doc, { table: 'bench-raw', tag, tenant: TENANT });
  await stopped(local);
  return { codes: n, seconds: round(seconds, 2), codesPerSec: round(n / seconds), transactionsPerSec: round(n / 100 / seconds, 1), verified: stored === n };
}

/** The user's path: a fresh `npm start` loaded through the CLI with what it printed. */
async function loadPhase(tag: string) {
  const local = await started(warmLocal(tag));
  const s = await started(npmStart(local, 'coupons'));
  const result = { ...(await cliLoad(s, CODES, `LOAD${tag}`)), chunkSize: CHUNK_SIZE, parallel: PARALLEL };
  await stopped(s);
  await stopped(local);
  return result;
}

/** A generation job of CODES codes on a fresh `npm start`, followed through GET /jobs. */
async function jobPhase(tag: string) {
  const local = await started(warmLocal(tag));
  const s = await started(npmStart(local, 'coupons'));
  const book = await createBook(s, { codePattern: 'JOB-********' });
  const accepted = await unwrap(client(s).coupons.codes.generate.$post({ json: { bookId: book.id, count: CODES } }));
  if (!('jobId' in accepted)) throw new Error(`generate ${CODES} answered without a job`);
  const { jobId } = accepted;
  const poll = async () => {
    const answer = await unwrap(client(s).jobs[':jobId'].$get({ param: { jobId } }));
    if ('kind' in answer) throw new Error(`job ${jobId} is an ${answer.kind}`);
    return answer;
  };
  let job = await poll();
  while (job.status !== 'succeeded' && job.status !== 'failed') {
    await new Promise((r) => setTimeout(r, 250));
    job = await poll();
  }
  // A finished job has both times.
  const seconds = (Date.parse(job.finishedAt!) - Date.parse(job.startedAt!)) / 1000;
  const stats = await bookStats(s, book.id);
  // `npm start` runs with this process's environment, so its job settings are these.
  const config = loadConfig(process.env);
  const result = {
    codes: CODES,
    status: job.status,
    seconds: round(seconds, 2),
    codesPerSec: round(CODES / seconds),
    lanes: config.JOB_LANES,
    chunkSize: config.JOB_CHUNK_SIZE,
    followerRetries: s.followerRetries!(),
    verified: job.status === 'succeeded' && job.generated === CODES && stats.codes === CODES,
  };
  await stopped(s);
  await stopped(local);
  return result;
}

/** The same CLI load against the API alone, nothing reading the stream: where the user's path loses its time. */
async function apiOnlyPhase(tag: string) {
  const local = await started(warmLocal(tag));
  const s = await started(apiOnly(local, 'coupons'));
  const result = await cliLoad(s, CODES, `APIONLY${tag}`);
  await stopped(s);
  await stopped(local);
  return result;
}

// ---------------------------------------------------------------- run

const results: Record<string, any> = {};
// The machine is shared: the 1-minute load average at the start and after each phase says how much.
const loadAvg1m: number[] = [round(loadavg()[0]!, 1)];
async function phase<T extends { codesPerSec: number }>(name: string, run: () => Promise<T>): Promise<T> {
  log(`${name}…`);
  const result = await run();
  loadAvg1m.push(round(loadavg()[0]!, 1));
  log(`${name}: ${result.codesPerSec} codes/s; 1-minute load average ${loadAvg1m.at(-1)}`);
  return result;
}
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
try {
  log(`${CODES} codes per phase, ${ROUNDS} round(s), CLI chunk ${CHUNK_SIZE} x ${PARALLEL} in flight, raw ${RAW_CONCURRENCY} in flight; each phase on a fresh DynamoDB Local warmed by ${WARM_UP} raw puts`);

  // raw, then each round's phases followed by raw again: every round is bracketed by two raw
  // runs, and its ratios are to their mean, so a machine whose load drifts skews them least.
  const raws = [await phase('raw 0', () => rawPhase(CODES, 'R0'))];
  const rounds: Record<string, any>[] = [];
  for (let r = 1; r <= ROUNDS; r++) {
    const load = await phase(`round ${r}: load, the user's path (npm start, then the CLI)`, () => loadPhase(`L${r}`));
    const job = await phase(`round ${r}: job on npm start`, () => jobPhase(`J${r}`));
    const alone = await phase(`round ${r}: the same load, API alone`, () => apiOnlyPhase(`A${r}`));
    raws.push(await phase(`raw ${r}`, () => rawPhase(CODES, `R${r}`)));
    const baseline = (raws[r - 1]!.codesPerSec + raws[r]!.codesPerSec) / 2;
    const ratio = (p: { codesPerSec: number }) => round(p.codesPerSec / baseline, 3);
    rounds.push({ rawBaseline: round(baseline), load: { ...load, ratioToRaw: ratio(load) }, job: { ...job, ratioToRaw: ratio(job) }, apiOnly: { ...alone, ratioToRaw: ratio(alone) } });
  }
  results.raw = { codes: CODES, runs: raws.map((r) => r.codesPerSec), verified: raws.every((r) => r.verified) };
  for (const name of ['load', 'job', 'apiOnly'] as const) {
    const runs = rounds.map((r) => r[name]);
    results[name] = {
      codes: CODES,
      codesPerSec: runs.map((p) => p.codesPerSec),
      ratioToRaw: runs.map((p) => p.ratioToRaw),
      medianRatioToRaw: round(median(runs.map((p) => p.ratioToRaw)), 3),
      verified: runs.every((p) => p.verified),
    };
  }
  results.rounds = rounds;
  log(`median ratios to raw: load ${results.load.medianRatioToRaw}, job ${results.job.medianRatioToRaw}, apiOnly ${results.apiOnly.medianRatioToRaw}`);

  if (MEMORY_LINES > 0) {
    // The CLI's memory does not depend on what serves it; the API alone absorbs the file fastest.
    log(`memory: the CLI on a ${MEMORY_LINES}-line file (this takes a while on DynamoDB Local)`);
    const local = await started(warmLocal('M'));
    const s = await started(apiOnly(local, 'coupons'));
    const book = await createBook(s);
    const file = join(dir, 'million.txt');
    await writeCodes(file, MEMORY_LINES, 'MEM');
    const report = await runCli(s, loadArgs(book.id, file));
    const stats = await bookStats(s, book.id);
    results.memory = {
      lines: MEMORY_LINES,
      fileMiB: round(statSync(file).size / 2 ** 20, 1),
      seconds: report.seconds,
      codesPerSec: report.codesPerSecond,
      cliPeakRssMiB: round(report.peakRssBytes / 2 ** 20, 1),
      verified: report.inserted === MEMORY_LINES && stats.codes === MEMORY_LINES,
    };
    await stopped(s);
    await stopped(local);
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
    const report = await runCli({ base: `http://127.0.0.1:${(stub.address() as AddressInfo).port}`, token: 'stub' }, loadArgs('stub', file));
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
  // A failed phase leaves its server and DynamoDB Local running: stop them, newest first.
  for (const thing of [...running].reverse()) await thing.stop().catch((e) => log(`stopping: ${(e as Error).message}`));
  rmSync(dir, { recursive: true, force: true });
}

const output: Record<string, any> = {
  when: new Date().toISOString(),
  node: process.version,
  cpus: `${cpus()[0]?.model.trim()} (${cpus().length})`,
  loadAvg1m,
  ...results,
  verified: Object.entries(results).every(([name, r]: [string, any]) => name === 'rounds' || r.verified),
};
process.stdout.write(`${JSON.stringify(output)}\n`);
if (WRITE_RESULTS) {
  const path = writeLoadSection(output, { args: process.argv.slice(2), chunkSize: CHUNK_SIZE, parallel: PARALLEL, rawConcurrency: RAW_CONCURRENCY, warmUp: WARM_UP });
  log(`wrote the load section of ${path}`);
}
process.exit(0);
