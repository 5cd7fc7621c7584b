/**
 * Benchmark (not a test; CI does not run it): many concurrent clients claim
 * random codes from one book through HTTP against DynamoDB Local, then, in the
 * same run, the same number of raw TransactWriteItems of the same shape go
 * straight to DynamoDB Local with the same concurrency.
 *
 * Usage:
 *   npm run bench:assign                         # 3000 codes, 64 clients, A B A B
 *   npm run bench:assign -- --codes 5000 --concurrency 100
 *   CODES=5000 CONCURRENCY=100 MAX_SECONDS=60 WARMUP=3000 npx tsx bench/assign.ts
 *
 * Flags (argv `--name value` or `--name=value`, else env):
 *   --codes / CODES              codes loaded into the book (default 3000)
 *   --concurrency / CONCURRENCY  concurrent clients, each request a distinct user (default 64)
 *   --max-seconds / MAX_SECONDS  time bound of each measured phase (default 60)
 *   --max-requests / MAX_REQUESTS  request bound of the claim phase (default 2 * codes + concurrency)
 *   --warmup / WARMUP            codes / transactions of an unmeasured warm-up of both paths (default 3000, 0 = none;
 *                                with 1,000, both paths still ran 10-20% slower in round 1 than in round 2:
 *                                DynamoDB Local's JVM is still warming up, and A always runs before B)
 *   --shards / SHARDS            stats and pool shards of the books (default 16, the service's default)
 *   --rounds / ROUNDS            measured rounds, each a claim phase (A) then a raw phase (B): A B A B (default 2)
 *   RATE_LIMIT_*, CLAIM_ATTEMPTS   passed to the service (e.g. limits at 0 to price the limiter)
 *
 * It starts its own DynamoDB Local (in memory, free port), creates the table,
 * serves the API on 127.0.0.1 on a free port, and sends traffic nowhere else.
 * Progress goes to stderr; stdout gets exactly one JSON object:
 *   { assignPerSec, rawTxPerSec, ratio, p50Ms, p99Ms, codes, concurrency,
 *     assigned, exhaustedAnswers, errors, verified, rounds: [...], ... }
 * and per round, where the time went: `dynamoRequests` (what the service sent
 * to DynamoDB during the claim phase, by command, `:empty` for a Query that
 * found nothing and `:<error>` for a refused request) and `cpu` (CPU ms per
 * claim and per raw transaction, of this process, which holds the load
 * generator and the API, and of DynamoDB Local's Java process, read from
 * /proc). The table has no change stream: nothing here follows it.
 *
 * The claim phase: C workers, each POST /coupons/assign as a fresh user (the
 * book has maxCodesPerUser 1, so the cap item is part of every transaction),
 * until the book answers BOOK_EXHAUSTED or a bound is reached. assignPerSec =
 * 201s / wall time of the phase; p50Ms/p99Ms = client-side latency of the 201s.
 *
 * The baseline: the 3-item TransactWriteItems the service sends for a random
 * claim on a capped book (Update of an available code item with a condition
 * and REMOVE of its pool keys; Update of a stats shard with ADD and the book
 * gate condition; upsert of the user's holding with ADD and the cap
 * condition), built by the service's own entities (bench/lib/raw-claim.ts,
 * ElectroDB `.params()`) before the phase starts, on fresh items seeded
 * through the entities, with the same concurrency, as many transactions as the
 * claim phase assigned codes. No pick query, no book read, no HTTP, no JWT.
 * Each round compares the baseline's transaction with one the service sent in
 * its claim phase (ids, times and numbers aside); any difference fails the run
 * (`baselineDiff`), so the baseline cannot drift from the service unseen.
 *
 * Verification (`verified`): no code returned twice, every returned code was
 * uploaded to this book, the table holds exactly as many assigned codes of the
 * book as there were 201s and each belongs to the user it was returned to, the
 * stats shards and the holdings agree, an exhausted book has every code
 * assigned, and the raw phase committed exactly its transactions.
 */
import { randomBytes } from 'node:crypto';
import { availableParallelism, loadavg } from 'node:os';
import { ScanCommand, TransactWriteCommand, type DynamoDBDocumentClient, type TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';
import { createStore, DEFAULT_BOOK_SHARDS } from '@coupons/core';
import { option } from './lib/options.ts';
import { apiClient, keepAliveClient, unwrap, type Reply } from './lib/http.ts';
import { cpuNow, cpuPerOp, logger, percentile, pool, round } from './lib/measure.ts';
import { claimShapeDiff, claimTransaction, idsOf, seedRawBook, type RawCode } from './lib/raw-claim.ts';
import { serveApi, startDynamo, tokenFor } from './lib/service.ts';

// ---------------------------------------------------------------- options

const CODES = option('codes', 'CODES', 3000);
const CONCURRENCY = Math.max(1, option('concurrency', 'CONCURRENCY', 64));
const MAX_SECONDS = Math.max(1, option('max-seconds', 'MAX_SECONDS', 60));
const MAX_REQUESTS = option('max-requests', 'MAX_REQUESTS', 2 * CODES + CONCURRENCY);
const WARMUP = option('warmup', 'WARMUP', 3000);
const SHARDS = option('shards', 'SHARDS', DEFAULT_BOOK_SHARDS);
const ROUNDS = Math.max(1, option('rounds', 'ROUNDS', 2));
if (CODES < 1) throw new Error('--codes must be at least 1');

const UPLOAD_CHUNK = 5000; // the API's limit per POST /coupons/codes
const TABLE = 'bench-assign';
const TENANT = 'bench';
const RAW_TENANT = 'rawbench';

const log = logger('assign');

const newCode = (prefix: string, i: number) => `${prefix}-${i.toString(36).toUpperCase().padStart(5, '0')}-${randomBytes(4).toString('hex').toUpperCase()}`;

// ---------------------------------------------------------------- service path

async function createBookWithCodes(base: string, adminToken: string, name: string, codes: string[]): Promise<string> {
  const { coupons } = apiClient(base, adminToken);
  const book = await unwrap(coupons.$post({ json: { name, maxCodesPerUser: 1, shards: SHARDS } }));
  for (let i = 0; i < codes.length; i += UPLOAD_CHUNK) {
    const chunk = codes.slice(i, i + UPLOAD_CHUNK);
    const r = await unwrap(coupons.codes.$post({ json: { bookId: book.id, codes: chunk } }));
    if (r.inserted !== chunk.length) throw new Error(`upload: ${JSON.stringify(r).slice(0, 300)}`);
  }
  return book.id;
}

interface ClaimResult {
  durationMs: number;
  stoppedBy: 'exhausted' | 'time' | 'requests';
  requests: number;
  latenciesOk: number[];
  /** code -> user it was returned to, per 201 (a code returned twice counts in `duplicates`). */
  returned: Map<string, string>;
  duplicates: number;
  wrongUser: number;
  exhaustedAnswers: number;
  errors: number;
  errorsByKind: Record<string, number>;
  /** Requests the service sent to DynamoDB during the phase, by command (and error name when refused). */
  sent?: Record<string, number>;
}

async function claimPhase(base: string, bookId: string, tokens: { user: string; token: string }[], maxSeconds: number, maxRequests: number): Promise<ClaimResult> {
  const r: ClaimResult = {
    durationMs: 0,
    stoppedBy: 'requests',
    requests: 0,
    latenciesOk: [],
    returned: new Map(),
    duplicates: 0,
    wrongUser: 0,
    exhaustedAnswers: 0,
    errors: 0,
    errorsByKind: {},
  };
  let exhausted = false;
  let timedOut = false;
  const client = keepAliveClient(base, CONCURRENCY + 4);
  const started = performance.now();
  const deadline = started + maxSeconds * 1000;
  const kind = (k: string) => {
    r.errors++;
    r.errorsByKind[k] = (r.errorsByKind[k] ?? 0) + 1;
  };
  await pool(CONCURRENCY, async () => {
    if (exhausted) return false;
    if (performance.now() >= deadline) {
      timedOut = true;
      return false;
    }
    if (r.requests >= maxRequests) return false;
    const i = r.requests++;
    // One fresh user per request: the book caps each user at one code.
    const who = tokens[i] ?? { user: `u${i}`, token: await tokenFor(`u${i}`, 'user', TENANT) };
    const reply: Reply = await client.post('/coupons/assign', who.token, { bookId });
    if (reply.status === 201) {
      r.latenciesOk.push(reply.ms);
      const code = reply.json?.code as string;
      if (r.returned.has(code)) r.duplicates++;
      else r.returned.set(code, reply.json?.userId);
      if (reply.json?.userId !== who.user) r.wrongUser++;
    } else if (reply.status === 409 && reply.json?.error?.code === 'BOOK_EXHAUSTED') {
      r.exhaustedAnswers++;
      exhausted = true;
      return false;
    } else {
      kind(reply.status === 0 ? `network: ${reply.error}` : `${reply.status} ${reply.json?.error?.code ?? ''}`.trim());
    }
    return true;
  });
  r.durationMs = performance.now() - started;
  client.close();
  r.stoppedBy = exhausted ? 'exhausted' : timedOut ? 'time' : 'requests';
  return r;
}

// ---------------------------------------------------------------- raw path

interface RawResult {
  durationMs: number;
  committed: number;
  errors: number;
  errorsByKind: Record<string, number>;
  latencies: number[];
}

/** The baseline's transactions, one per seeded code, built before the phase so that building them is not timed. */
function rawTransactions(store: ReturnType<typeof createStore>, bookId: string, codes: RawCode[]): TransactWriteCommandInput[] {
  const now = Date.now();
  return codes.map((code, i) => claimTransaction(store, { tenant: RAW_TENANT, bookId, userId: `raw-user-${bookId.slice(0, 8)}-${i}`, code, now, cap: 1, maxRedemptions: 1 }));
}

async function rawPhase(doc: DynamoDBDocumentClient, transactions: TransactWriteCommandInput[], maxSeconds: number): Promise<RawResult> {
  const r: RawResult = { durationMs: 0, committed: 0, errors: 0, errorsByKind: {}, latencies: [] };
  let next = 0;
  const started = performance.now();
  const deadline = started + maxSeconds * 1000;
  await pool(CONCURRENCY, async () => {
    if (next >= transactions.length || performance.now() >= deadline) return false;
    const i = next++;
    const t0 = performance.now();
    try {
      await doc.send(new TransactWriteCommand(transactions[i]!));
      r.latencies.push(performance.now() - t0);
      r.committed++;
    } catch (e) {
      r.errors++;
      const k = (e as Error).name || 'Error';
      r.errorsByKind[k] = (r.errorsByKind[k] ?? 0) + 1;
    }
    return true;
  });
  r.durationMs = performance.now() - started;
  return r;
}

// ---------------------------------------------------------------- verification

async function scanAll(doc: DynamoDBDocumentClient): Promise<Record<string, any>[]> {
  const items: Record<string, any>[] = [];
  let ExclusiveStartKey: Record<string, any> | undefined;
  do {
    const page = await doc.send(new ScanCommand({ TableName: TABLE, ExclusiveStartKey, ConsistentRead: true }));
    items.push(...(page.Items ?? []));
    ExclusiveStartKey = page.LastEvaluatedKey;
  } while (ExclusiveStartKey);
  return items;
}

function verify(
  items: Record<string, any>[],
  bench: { bookId: string; codes: string[]; claim: ClaimResult },
  raw: { bookId: string; transactions: number; result: RawResult },
): string[] {
  const failures: string[] = [];
  const check = (ok: boolean, what: string) => {
    if (!ok) failures.push(what);
  };
  const { claim } = bench;
  const assigned = claim.latenciesOk.length;
  const uploaded = new Set(bench.codes);

  check(claim.duplicates === 0, `${claim.duplicates} code(s) returned twice`);
  check(claim.wrongUser === 0, `${claim.wrongUser} response(s) named another user`);
  check([...claim.returned.keys()].every((c) => uploaded.has(c)), 'a returned code was not uploaded to the book');

  const codeItems = items.filter((i) => i.__edb_e__ === 'code' && i.tenant === TENANT && i.bookId === bench.bookId);
  check(codeItems.length === bench.codes.length, `book holds ${codeItems.length} code items, ${bench.codes.length} were uploaded`);
  const assignedItems = codeItems.filter((i) => i.status === 'assigned');
  check(assignedItems.length === assigned, `table has ${assignedItems.length} assigned codes, ${assigned} responses were 201`);
  check(
    assignedItems.every((i) => claim.returned.get(i.code) === i.userId),
    'an assigned code in the table belongs to a user other than the one it was returned to',
  );
  check(assignedItems.every((i) => i.gsi1pk === undefined && i.gsi1sk === undefined), 'an assigned code is still in the pool index');
  if (claim.stoppedBy === 'exhausted') check(assigned === bench.codes.length, `book answered exhausted with ${bench.codes.length - assigned} code(s) left`);

  const shards = items.filter((i) => i.__edb_e__ === 'bookStatsShard' && i.tenant === TENANT && i.bookId === bench.bookId);
  const sum = (k: string) => shards.reduce((s, i) => s + (i[k] ?? 0), 0);
  check(sum('assigned') === assigned, `stats say ${sum('assigned')} assigned, ${assigned} expected`);
  check(sum('available') === bench.codes.length - assigned, `stats say ${sum('available')} available, ${bench.codes.length - assigned} expected`);

  const holdings = items.filter((i) => i.__edb_e__ === 'userBookHolding' && i.tenant === TENANT && i.bookId === bench.bookId);
  check(holdings.every((h) => h.held <= 1), 'a user holds more than maxCodesPerUser codes');
  check(holdings.reduce((s, h) => s + h.held, 0) === assigned, 'holdings do not add up to the assignments');

  const rawAssigned = items.filter((i) => i.__edb_e__ === 'code' && i.tenant === RAW_TENANT && i.bookId === raw.bookId && i.status === 'assigned');
  check(rawAssigned.length === raw.result.committed, `raw: ${rawAssigned.length} codes assigned, ${raw.result.committed} transactions committed`);
  const rawShards = items.filter((i) => i.__edb_e__ === 'bookStatsShard' && i.tenant === RAW_TENANT && i.bookId === raw.bookId);
  check(rawShards.reduce((s, i) => s + i.assigned, 0) === raw.result.committed, 'raw: stats shards do not match the committed transactions');
  check(raw.result.committed === raw.transactions, `raw: ${raw.result.committed} of ${raw.transactions} transactions committed`);
  return failures;
}

// ---------------------------------------------------------------- main

async function main() {
  log(`codes=${CODES} concurrency=${CONCURRENCY} maxSeconds=${MAX_SECONDS} maxRequests=${MAX_REQUESTS} warmup=${WARMUP}`);
  const dynamo = await startDynamo();
  const { doc } = dynamo;
  const store = createStore(doc, TABLE);

  let serverErrors = 0;
  // What the service sends to DynamoDB per claim phase: command -> outcome -> count (cheap, unlike the cost meter);
  // and the first claim transaction it sends, which the baseline's must match.
  const sent = new Map<string, number>();
  let firstClaim: TransactWriteCommandInput | undefined;
  const tally = (client: any) =>
    client.middlewareStack.add(
      (next: any, context: any) => async (args: any) => {
        const command = String(context.commandName).replace(/Command$/, '');
        const key = (outcome: string) => `${command}${outcome}`;
        if (command === 'TransactWriteItems' && !firstClaim) firstClaim = structuredClone(args.input);
        try {
          const out = await next(args);
          const k = key(out.output?.Count === 0 ? ':empty' : '');
          sent.set(k, (sent.get(k) ?? 0) + 1);
          return out;
        } catch (e) {
          const reasons = (e as any).CancellationReasons?.map((r: any) => r.Code).join(',');
          const k = key(`:${(e as Error).name}${reasons ? `(${reasons})` : ''}`);
          sent.set(k, (sent.get(k) ?? 0) + 1);
          throw e;
        }
      },
      { step: 'initialize', name: 'benchTally' },
    );
  const takeSent = () => {
    const out = Object.fromEntries([...sent].sort());
    sent.clear();
    firstClaim = undefined;
    return out;
  };
  // The service's own knobs pass through, e.g. RATE_LIMIT_CALLER_PER_MINUTE=0 to price the limiter.
  const knobs = Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => /^(RATE_LIMIT_|CLAIM_ATTEMPTS$)/.test(e[0]) && e[1] !== undefined));
  // No change stream: nothing here follows it, and DynamoDB Local slows down as unread stream records pile up,
  // so later phases would run slower than earlier ones whatever they do.
  const api = await serveApi(dynamo, TABLE, {
    env: knobs,
    stream: false,
    instrument: tally,
    // Serialise each request-log line as production does, but keep stdout for the result.
    log: (line) => {
      JSON.stringify(line);
      if (Number(line.status) >= 500 && serverErrors++ < 5) log(`server error: ${JSON.stringify(line).slice(0, 500)}`);
    },
  });
  log(`DynamoDB Local ${dynamo.endpoint}, API ${api.base}`);

  try {
    const adminToken = await tokenFor('bench-admin', 'admin', TENANT);
    const mintUsers = (prefix: string, n: number) =>
      Promise.all(
        Array.from({ length: n }, async (_, i) => {
          const user = `${prefix}-${i}`;
          return { user, token: await tokenFor(user, 'user', TENANT) };
        }),
      );

    // Warm-up of both paths (JIT, SDK connections, DynamoDB Local's JVM), not measured.
    if (WARMUP > 0) {
      const t0 = performance.now();
      const warmCodes = Array.from({ length: WARMUP }, (_, i) => newCode('W', i));
      const warmBook = await createBookWithCodes(api.base, adminToken, 'bench warm-up', warmCodes);
      const warm = await claimPhase(api.base, warmBook, await mintUsers('warm', WARMUP + CONCURRENCY), MAX_SECONDS, 2 * WARMUP + CONCURRENCY);
      const warmRawBook = `warm-${randomBytes(4).toString('hex')}`;
      const warmRaw = await rawPhase(doc, rawTransactions(store, warmRawBook, await seedRawBook(store, RAW_TENANT, warmRawBook, WARMUP, SHARDS, 'RW')), MAX_SECONDS);
      log(`warm-up: ${warm.latenciesOk.length} claims (${warm.errors} errors${warm.errors ? ` ${JSON.stringify(warm.errorsByKind)}` : ''}), ${warmRaw.committed} raw tx, ${round(performance.now() - t0, 0)} ms`);
    }

    // Measured rounds, A B A B: the service's claims (A), then as many raw transactions (B), twice,
    // so a slow stretch of the shared machine lands on both sides rather than on one.
    const loadBefore = loadavg()[0]!;
    const rounds: { claim: ClaimResult; raw: RawResult; cpu: Record<string, ReturnType<typeof cpuPerOp>> }[] = [];
    const failures: string[] = [];
    for (let round_ = 0; round_ < ROUNDS; round_++) {
      const t0 = performance.now();
      const codes = Array.from({ length: CODES }, (_, i) => newCode(`B${round_}`, i));
      const bookId = await createBookWithCodes(api.base, adminToken, `bench book ${round_}`, codes);
      const users = await mintUsers(`user${round_}`, Math.min(MAX_REQUESTS, CODES + 2 * CONCURRENCY));
      log(`round ${round_ + 1}: book ${bookId}, ${CODES} codes loaded, ${users.length} user tokens minted in ${round(performance.now() - t0, 0)} ms`);

      takeSent();
      const cpuA = cpuNow(dynamo.pid);
      const claim = await claimPhase(api.base, bookId, users, MAX_SECONDS, MAX_REQUESTS);
      const serviceClaim = firstClaim;
      claim.sent = takeSent();
      const assigned = claim.latenciesOk.length;
      const claimCpu = cpuPerOp(cpuA, cpuNow(dynamo.pid), assigned);
      log(`round ${round_ + 1} A: ${assigned} assigned, ${claim.exhaustedAnswers} exhausted, ${claim.errors} errors in ${round(claim.durationMs, 0)} ms (stopped by ${claim.stoppedBy})`);

      // Baseline: as many raw transactions as the service committed, same concurrency, fresh items.
      const transactions = assigned || CODES;
      const rawBookId = `raw-${randomBytes(4).toString('hex')}`;
      const rawTx = rawTransactions(store, rawBookId, await seedRawBook(store, RAW_TENANT, rawBookId, transactions, SHARDS, `R${round_}`));
      if (serviceClaim) {
        for (const d of claimShapeDiff(serviceClaim, idsOf(serviceClaim, TENANT), rawTx[0]!, idsOf(rawTx[0]!, RAW_TENANT))) failures.push(`round ${round_ + 1}: baseline differs from the service's claim: ${d}`);
      } else {
        failures.push(`round ${round_ + 1}: the service sent no claim transaction to compare the baseline with`);
      }
      const cpuB = cpuNow(dynamo.pid);
      const raw = await rawPhase(doc, rawTx, MAX_SECONDS);
      const rawCpu = cpuPerOp(cpuB, cpuNow(dynamo.pid), raw.committed);
      log(`round ${round_ + 1} B: ${raw.committed} raw transactions, ${raw.errors} errors in ${round(raw.durationMs, 0)} ms`);

      const items = await scanAll(doc);
      for (const f of verify(items, { bookId, codes, claim }, { bookId: rawBookId, transactions, result: raw })) failures.push(`round ${round_ + 1}: ${f}`);
      rounds.push({ claim, raw, cpu: { perClaim: claimCpu, perRawTransaction: rawCpu } });
    }
    for (const f of failures) log(`verification failed: ${f}`);

    const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
    const assigned = sum(rounds.map((r) => r.claim.latenciesOk.length));
    const claimMs = sum(rounds.map((r) => r.claim.durationMs));
    const rawCommitted = sum(rounds.map((r) => r.raw.committed));
    const rawMs = sum(rounds.map((r) => r.raw.durationMs));
    const ok = rounds.flatMap((r) => r.claim.latenciesOk).sort((a, b) => a - b);
    const rawSorted = rounds.flatMap((r) => r.raw.latencies).sort((a, b) => a - b);
    const claimErrors = sum(rounds.map((r) => r.claim.errors));
    const rawErrors = sum(rounds.map((r) => r.raw.errors));
    const assignPerSec = round(assigned / (claimMs / 1000));
    const rawTxPerSec = round(rawCommitted / (rawMs / 1000));
    const result = {
      assignPerSec,
      rawTxPerSec,
      ratio: rawTxPerSec > 0 ? round(assignPerSec / rawTxPerSec, 3) : null,
      p50Ms: percentile(ok, 50),
      p99Ms: percentile(ok, 99),
      rawP50Ms: percentile(rawSorted, 50),
      rawP99Ms: percentile(rawSorted, 99),
      rounds: rounds.map((r) => ({
        assignPerSec: round(r.claim.latenciesOk.length / (r.claim.durationMs / 1000)),
        rawTxPerSec: round(r.raw.committed / (r.raw.durationMs / 1000)),
        assigned: r.claim.latenciesOk.length,
        stoppedBy: r.claim.stoppedBy,
        exhaustedAnswers: r.claim.exhaustedAnswers,
        dynamoRequests: r.claim.sent,
        cpu: r.cpu,
        ...(r.claim.errors ? { errorsByKind: r.claim.errorsByKind } : {}),
        ...(r.raw.errors ? { rawErrorsByKind: r.raw.errorsByKind } : {}),
      })),
      codes: CODES,
      concurrency: CONCURRENCY,
      shards: SHARDS,
      assigned,
      errors: claimErrors,
      rawTransactions: rawCommitted,
      rawErrors,
      verified: failures.length === 0,
      ...(failures.length ? { verificationFailures: failures } : {}),
      itemsPerTransaction: 3,
      warmup: WARMUP,
      node: process.version,
      cpus: availableParallelism(),
      // 1-minute load average before and after the measured phases: other processes on the machine skew the figures.
      loadAvg1m: [round(loadBefore, 2), round(loadavg()[0]!, 2)],
    };
    process.stdout.write(`${JSON.stringify(result)}\n`);
    return failures.length === 0 && claimErrors === 0 && rawErrors === 0;
  } finally {
    await api.close();
    await dynamo.stop();
  }
}

main().then(
  (ok) => process.exit(ok ? 0 : 1),
  (e) => {
    log(`failed: ${(e as Error).stack ?? e}`);
    process.exit(2);
  },
);
