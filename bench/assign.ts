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
 * condition), expressions copied from what ElectroDB generates, on fresh
 * pre-seeded items, with the same concurrency, as many transactions as the
 * claim phase assigned codes. No pick query, no book read, no HTTP, no JWT.
 *
 * Verification (`verified`): no code returned twice, every returned code was
 * uploaded to this book, the table holds exactly as many assigned codes of the
 * book as there were 201s and each belongs to the user it was returned to, the
 * stats shards and the holdings agree, an exhausted book has every code
 * assigned, and the raw phase committed exactly its transactions.
 */
import { randomBytes, randomInt } from 'node:crypto';
import { Agent, request } from 'node:http';
import { availableParallelism, loadavg } from 'node:os';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { BatchWriteCommand, ScanCommand, TransactWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createDocumentClient, createDynamoDbClient, DEFAULT_BOOK_SHARDS, ensureTable, loadConfig } from '@coupons/core';
import { createApp, createCoreContext, startServer } from '@coupons/api';
import { startDynamoDbLocal } from '../scripts/lib/dynamodb-local.ts';
import { mintToken } from '../scripts/lib/tokens.ts';
import { option } from './lib/options.ts';

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

const log = (msg: string) => process.stderr.write(`[bench:assign] ${msg}\n`);

// ---------------------------------------------------------------- small helpers

function percentile(sorted: number[], p: number): number | null {
  if (!sorted.length) return null;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return round(sorted[i]!);
}
/** CPU time (ms) of this process and of DynamoDB Local's Java process so far: where a phase's time goes. */
function cpuNow(javaPid: number | undefined): { node: number; dynamoLocal: number | null } {
  const { user, system } = process.cpuUsage();
  let dynamoLocal: number | null = null;
  try {
    // /proc/<pid>/stat fields 14 and 15: utime and stime in clock ticks (100 a second on Linux).
    const fields = readFileSync(`/proc/${javaPid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    dynamoLocal = ((Number(fields[11]) + Number(fields[12])) / 100) * 1000;
  } catch {
    // Not Linux, or no pid: report Node's share only.
  }
  return { node: (user + system) / 1000, dynamoLocal };
}

/** CPU ms per operation of a phase, from two cpuNow() readings. */
function cpuPerOp(before: ReturnType<typeof cpuNow>, after: ReturnType<typeof cpuNow>, ops: number) {
  const per = (a: number | null, b: number | null) => (a === null || b === null || !ops ? null : round((b - a) / ops, 2));
  return { nodeMs: per(before.node, after.node), dynamoLocalMs: per(before.dynamoLocal, after.dynamoLocal) };
}

const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;

const newCode = (prefix: string, i: number) => `${prefix}-${i.toString(36).toUpperCase().padStart(5, '0')}-${randomBytes(4).toString('hex').toUpperCase()}`;

/** Runs `workers` concurrent loops, each calling `fn` until it returns false (the loops share the caller's counters). */
async function pool(workers: number, fn: (worker: number) => Promise<boolean>): Promise<void> {
  await Promise.all(
    Array.from({ length: workers }, async (_, w) => {
      while (await fn(w));
    }),
  );
}

// ---------------------------------------------------------------- HTTP client (keep-alive, 127.0.0.1 only)

interface Reply {
  status: number;
  json: any;
  ms: number;
}

/**
 * Keep-alive only within one phase: a socket left idle longer than the
 * server's keepAliveTimeout (5 s) can be closed by the server just as the
 * client reuses it ("socket hang up"), so each claim phase gets a fresh agent.
 */
function makeClient(port: number, keepAlive: boolean) {
  const agent = new Agent({ keepAlive, maxSockets: CONCURRENCY + 4 });
  function post(path: string, token: string, body: unknown): Promise<Reply> {
    const payload = Buffer.from(JSON.stringify(body));
    const started = performance.now();
    return new Promise((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port,
          path,
          method: 'POST',
          agent,
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'content-length': payload.length },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const ms = performance.now() - started;
            let json: any;
            try {
              json = JSON.parse(Buffer.concat(chunks).toString('utf8'));
            } catch {
              json = undefined;
            }
            resolve({ status: res.statusCode ?? 0, json, ms });
          });
          res.on('error', reject);
        },
      );
      req.setTimeout(30_000, () => req.destroy(new Error('request timed out after 30 s')));
      req.on('error', reject);
      req.end(payload);
    });
  }
  return { post, close: () => agent.destroy() };
}

type Client = ReturnType<typeof makeClient>;

// ---------------------------------------------------------------- service path

async function createBookWithCodes(client: Client, adminToken: string, name: string, codes: string[]): Promise<string> {
  const created = await client.post('/coupons', adminToken, { name, maxCodesPerUser: 1, shards: SHARDS });
  if (created.status !== 201) throw new Error(`create book: ${created.status} ${JSON.stringify(created.json)}`);
  const bookId = created.json.id as string;
  for (let i = 0; i < codes.length; i += UPLOAD_CHUNK) {
    const chunk = codes.slice(i, i + UPLOAD_CHUNK);
    const r = await client.post('/coupons/codes', adminToken, { bookId, codes: chunk });
    if (r.status !== 200 || r.json?.inserted !== chunk.length) throw new Error(`upload: ${r.status} ${JSON.stringify(r.json).slice(0, 300)}`);
  }
  return bookId;
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

async function claimPhase(port: number, bookId: string, tokens: { user: string; token: string }[], maxSeconds: number, maxRequests: number): Promise<ClaimResult> {
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
  const client = makeClient(port, true);
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
    const who = tokens[i] ?? { user: `u${i}`, token: await mintToken(SECRET, { sub: `u${i}`, tenant: TENANT, role: 'user' }) };
    let reply: Reply;
    try {
      reply = await client.post('/coupons/assign', who.token, { bookId });
    } catch (e) {
      kind(`network: ${(e as Error).message}`);
      return true;
    }
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
      kind(`${reply.status} ${reply.json?.error?.code ?? ''}`.trim());
    }
    return true;
  });
  r.durationMs = performance.now() - started;
  client.close();
  r.stoppedBy = exhausted ? 'exhausted' : timedOut ? 'time' : 'requests';
  return r;
}

// ---------------------------------------------------------------- raw path

interface RawItem {
  code: string;
  shard: number;
  poolSlot: string;
}

const rawPoolPartition = (bookId: string, shard: number) => `T#${RAW_TENANT}#BOOK#${bookId}#POOL#${shard}`;

/** Seeds a raw book: its stats shards (gate open) and `count` available code items in the pool index, as the service stores them. */
async function seedRaw(doc: DynamoDBDocumentClient, bookId: string, count: number, shards: number, prefix: string): Promise<RawItem[]> {
  const createdAt = new Date().toISOString();
  const items: RawItem[] = Array.from({ length: count }, (_, i) => ({ code: newCode(prefix, i), shard: i % shards, poolSlot: randomBytes(8).toString('hex') }));
  const puts: Record<string, unknown>[] = [
    ...Array.from({ length: shards }, (_, shard) => {
      const n = items.filter((it) => it.shard === shard).length;
      return {
        pk: `T#${RAW_TENANT}#BOOK#${bookId}#STATS#${shard}`,
        sk: 'STATS',
        tenant: RAW_TENANT,
        bookId,
        shard,
        codes: n,
        available: n,
        assigned: 0,
        redeemed: 0,
        bookStatus: 'active',
        __edb_e__: 'bookStatsShard',
        __edb_v__: '1',
      };
    }),
    ...items.map((it) => ({
      pk: `T#${RAW_TENANT}#CODE#${it.code}`,
      sk: 'CODE',
      gsi1pk: rawPoolPartition(bookId, it.shard),
      gsi1sk: it.poolSlot,
      tenant: RAW_TENANT,
      code: it.code,
      bookId,
      shard: it.shard,
      poolPartition: rawPoolPartition(bookId, it.shard),
      poolSlot: it.poolSlot,
      status: 'available',
      redemptionCount: 0,
      createdAt,
      __edb_e__: 'code',
      __edb_v__: '1',
    })),
  ];
  const batches: Record<string, unknown>[][] = [];
  for (let i = 0; i < puts.length; i += 25) batches.push(puts.slice(i, i + 25));
  let next = 0;
  await pool(8, async () => {
    const batch = batches[next++];
    if (!batch) return false;
    let pending: any[] = batch.map((Item) => ({ PutRequest: { Item } }));
    while (pending.length) {
      const out = await doc.send(new BatchWriteCommand({ RequestItems: { [TABLE]: pending } }));
      pending = out.UnprocessedItems?.[TABLE] ?? [];
    }
    return true;
  });
  return items;
}

/** The three-item transaction of a random claim on a capped book, as ElectroDB writes it (see commitAssignment). */
function assignmentTransaction(bookId: string, item: RawItem, userId: string, now: number) {
  const ownerKey = `T#${RAW_TENANT}#USER#${userId}`;
  const ownerSort = `BOOK#${bookId}#CODE#${item.code}`;
  return new TransactWriteCommand({
    TransactItems: [
      {
        Update: {
          TableName: TABLE,
          Key: { pk: `T#${RAW_TENANT}#CODE#${item.code}`, sk: 'CODE' },
          UpdateExpression:
            'SET #bookId = :bookId_u0, #shard = :shard_u0, #poolPartition = :poolPartition_u0, #poolSlot = :poolSlot_u0, #status = :status_u0, #userId = :userId_u0, #assignedAt = :assignedAt_u0, #maxRedemptions = :maxRedemptions_u0, #ownerKey = :ownerKey_u0, #ownerSort = :ownerSort_u0, #gsi2pk = :gsi2pk_u0, #gsi2sk = :gsi2sk_u0, #tenant = :tenant_u0, #code = :code_u0, #__edb_e__ = :__edb_e___u0, #__edb_v__ = :__edb_v___u0 REMOVE #gsi1pk, #gsi1sk',
          ConditionExpression: 'attribute_exists(#pk) AND attribute_exists(#sk) AND #status = :status0 AND #bookId = :bookId0',
          ExpressionAttributeNames: {
            '#pk': 'pk',
            '#sk': 'sk',
            '#status': 'status',
            '#bookId': 'bookId',
            '#shard': 'shard',
            '#poolPartition': 'poolPartition',
            '#poolSlot': 'poolSlot',
            '#userId': 'userId',
            '#assignedAt': 'assignedAt',
            '#maxRedemptions': 'maxRedemptions',
            '#ownerKey': 'ownerKey',
            '#ownerSort': 'ownerSort',
            '#gsi2pk': 'gsi2pk',
            '#gsi2sk': 'gsi2sk',
            '#gsi1pk': 'gsi1pk',
            '#gsi1sk': 'gsi1sk',
            '#tenant': 'tenant',
            '#code': 'code',
            '#__edb_e__': '__edb_e__',
            '#__edb_v__': '__edb_v__',
          },
          ExpressionAttributeValues: {
            ':status0': 'available',
            ':bookId0': bookId,
            ':bookId_u0': bookId,
            ':shard_u0': item.shard,
            ':poolPartition_u0': rawPoolPartition(bookId, item.shard),
            ':poolSlot_u0': item.poolSlot,
            ':status_u0': 'assigned',
            ':userId_u0': userId,
            ':assignedAt_u0': new Date(now).toISOString(),
            ':maxRedemptions_u0': 1,
            ':ownerKey_u0': ownerKey,
            ':ownerSort_u0': ownerSort,
            ':gsi2pk_u0': ownerKey,
            ':gsi2sk_u0': ownerSort,
            ':tenant_u0': RAW_TENANT,
            ':code_u0': item.code,
            ':__edb_e___u0': 'code',
            ':__edb_v___u0': '1',
          },
        },
      },
      {
        Update: {
          TableName: TABLE,
          Key: { pk: `T#${RAW_TENANT}#BOOK#${bookId}#STATS#${item.shard}`, sk: 'STATS' },
          UpdateExpression:
            'SET #tenant = :tenant_u0, #bookId = :bookId_u0, #shard = :shard_u0, #__edb_e__ = :__edb_e___u0, #__edb_v__ = :__edb_v___u0 ADD #available :available_u0, #assigned :assigned_u0',
          ConditionExpression:
            'attribute_exists(#pk) AND attribute_exists(#sk) AND #bookStatus = :bookStatus0 AND (attribute_not_exists(#validFromMs) OR #validFromMs <= :validFromMs0) AND (attribute_not_exists(#validUntilMs) OR #validUntilMs > :validUntilMs0)',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          ExpressionAttributeNames: {
            '#pk': 'pk',
            '#sk': 'sk',
            '#bookStatus': 'bookStatus',
            '#validFromMs': 'validFromMs',
            '#validUntilMs': 'validUntilMs',
            '#available': 'available',
            '#assigned': 'assigned',
            '#tenant': 'tenant',
            '#bookId': 'bookId',
            '#shard': 'shard',
            '#__edb_e__': '__edb_e__',
            '#__edb_v__': '__edb_v__',
          },
          ExpressionAttributeValues: {
            ':bookStatus0': 'active',
            ':validFromMs0': now,
            ':validUntilMs0': now,
            ':available_u0': -1,
            ':assigned_u0': 1,
            ':tenant_u0': RAW_TENANT,
            ':bookId_u0': bookId,
            ':shard_u0': item.shard,
            ':__edb_e___u0': 'bookStatsShard',
            ':__edb_v___u0': '1',
          },
        },
      },
      {
        Update: {
          TableName: TABLE,
          Key: { pk: ownerKey, sk: `BOOK#${bookId}` },
          UpdateExpression:
            'SET #__edb_e__ = :__edb_e___u0, #__edb_v__ = :__edb_v___u0, #tenant = :tenant_u0, #userId = :userId_u0, #bookId = :bookId_u0 ADD #held :held_u0',
          ConditionExpression: 'attribute_not_exists(#held) OR #held < :held0',
          ExpressionAttributeNames: {
            '#held': 'held',
            '#__edb_e__': '__edb_e__',
            '#__edb_v__': '__edb_v__',
            '#tenant': 'tenant',
            '#userId': 'userId',
            '#bookId': 'bookId',
          },
          ExpressionAttributeValues: {
            ':held0': 1,
            ':__edb_e___u0': 'userBookHolding',
            ':__edb_v___u0': '1',
            ':tenant_u0': RAW_TENANT,
            ':userId_u0': userId,
            ':bookId_u0': bookId,
            ':held_u0': 1,
          },
        },
      },
    ],
  });
}

interface RawResult {
  durationMs: number;
  committed: number;
  errors: number;
  errorsByKind: Record<string, number>;
  latencies: number[];
}

async function rawPhase(doc: DynamoDBDocumentClient, bookId: string, items: RawItem[], maxSeconds: number): Promise<RawResult> {
  const r: RawResult = { durationMs: 0, committed: 0, errors: 0, errorsByKind: {}, latencies: [] };
  let next = 0;
  const started = performance.now();
  const deadline = started + maxSeconds * 1000;
  await pool(CONCURRENCY, async () => {
    if (next >= items.length || performance.now() >= deadline) return false;
    const i = next++;
    const t0 = performance.now();
    try {
      await doc.send(assignmentTransaction(bookId, items[i]!, `raw-user-${bookId.slice(0, 8)}-${i}`, Date.now()));
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

const SECRET = `bench-secret-${randomBytes(16).toString('hex')}`;

async function main() {
  log(`codes=${CODES} concurrency=${CONCURRENCY} maxSeconds=${MAX_SECONDS} maxRequests=${MAX_REQUESTS} warmup=${WARMUP}`);
  const ddb = await startDynamoDbLocal();
  // The service's own knobs pass through, e.g. RATE_LIMIT_CALLER_PER_MINUTE=0 to price the limiter.
  const knobs = Object.fromEntries(Object.entries(process.env).filter(([k]) => /^(RATE_LIMIT_|CLAIM_ATTEMPTS$)/.test(k)));
  const env = { ...knobs, DYNAMODB_ENDPOINT: ddb.endpoint, TABLE_NAME: TABLE, AWS_REGION: 'us-east-1', JWT_SECRET: SECRET };
  const config = loadConfig(env);
  const rawClient = createDynamoDbClient(config);
  // No change stream: nothing here follows it, and DynamoDB Local slows as unread stream records pile up,
  // so later phases would run slower than earlier ones whatever they do.
  await ensureTable(rawClient, TABLE, { stream: false });
  const doc = createDocumentClient(rawClient); // same factory, same SDK settings as the service's client

  let serverErrors = 0;
  // What the service sends to DynamoDB per claim phase: command -> outcome -> count (cheap, unlike the cost meter).
  const sent = new Map<string, number>();
  const tally = (client: any) =>
    client.middlewareStack.add(
      (next: any, context: any) => async (args: any) => {
        const key = (outcome: string) => `${String(context.commandName).replace(/Command$/, '')}${outcome}`;
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
    return out;
  };
  const app = createApp({
    core: createCoreContext(env, undefined, {
      instrument: tally,
      // Serialise each log line as production does, but keep stdout for the result.
      logLines: {
        push: (line) => {
          JSON.stringify(line);
          if (Number(line.status) >= 500 && serverErrors++ < 5) log(`server error: ${JSON.stringify(line).slice(0, 500)}`);
        },
      },
      writeEmf: () => undefined,
    }),
    auth: { hs256Secret: SECRET },
  });
  const server = await startServer(app, 0, '127.0.0.1');
  const port = (server.address() as AddressInfo).port;
  const client = makeClient(port, false); // set-up requests only
  log(`DynamoDB Local ${ddb.endpoint}, API http://127.0.0.1:${port}`);

  try {
    const adminToken = await mintToken(SECRET, { sub: 'bench-admin', tenant: TENANT, role: 'admin' });
    const mintUsers = (prefix: string, n: number) =>
      Promise.all(
        Array.from({ length: n }, async (_, i) => {
          const user = `${prefix}-${i}`;
          return { user, token: await mintToken(SECRET, { sub: user, tenant: TENANT, role: 'user' }) };
        }),
      );

    // Warm-up of both paths (JIT, SDK connections, DynamoDB Local's JVM), not measured.
    if (WARMUP > 0) {
      const t0 = performance.now();
      const warmCodes = Array.from({ length: WARMUP }, (_, i) => newCode('W', i));
      const warmBook = await createBookWithCodes(client, adminToken, 'bench warm-up', warmCodes);
      const warm = await claimPhase(port, warmBook, await mintUsers('warm', WARMUP + CONCURRENCY), MAX_SECONDS, 2 * WARMUP + CONCURRENCY);
      const warmRawBook = `warm-${randomBytes(4).toString('hex')}`;
      const warmRaw = await rawPhase(doc, warmRawBook, await seedRaw(doc, warmRawBook, WARMUP, SHARDS, 'RW'), MAX_SECONDS);
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
      const bookId = await createBookWithCodes(client, adminToken, `bench book ${round_}`, codes);
      const users = await mintUsers(`user${round_}`, Math.min(MAX_REQUESTS, CODES + 2 * CONCURRENCY));
      log(`round ${round_ + 1}: book ${bookId}, ${CODES} codes loaded, ${users.length} user tokens minted in ${round(performance.now() - t0, 0)} ms`);

      takeSent();
      const cpuA = cpuNow(ddb.pid);
      const claim = await claimPhase(port, bookId, users, MAX_SECONDS, MAX_REQUESTS);
      claim.sent = takeSent();
      const assigned = claim.latenciesOk.length;
      const claimCpu = cpuPerOp(cpuA, cpuNow(ddb.pid), assigned);
      log(`round ${round_ + 1} A: ${assigned} assigned, ${claim.exhaustedAnswers} exhausted, ${claim.errors} errors in ${round(claim.durationMs, 0)} ms (stopped by ${claim.stoppedBy})`);

      // Baseline: as many raw transactions as the service committed, same concurrency, fresh items.
      const transactions = assigned || CODES;
      const rawBookId = `raw-${randomBytes(4).toString('hex')}`;
      const rawItems = await seedRaw(doc, rawBookId, transactions, SHARDS, `R${round_}`);
      const cpuB = cpuNow(ddb.pid);
      const raw = await rawPhase(doc, rawBookId, rawItems, MAX_SECONDS);
      const rawCpu = cpuPerOp(cpuB, cpuNow(ddb.pid), raw.committed);
      log(`round ${round_ + 1} B: ${raw.committed} raw transactions, ${raw.errors} errors in ${round(raw.durationMs, 0)} ms`);

      const items = await scanAll(doc);
      for (const f of verify(items, { bookId, codes, claim }, { bookId: rawBookId, transactions, result: raw })) {
        failures.push(`round ${round_ + 1}: ${f}`);
        log(`verification failed: round ${round_ + 1}: ${f}`);
      }
      rounds.push({ claim, raw, cpu: { perClaim: claimCpu, perRawTransaction: rawCpu } });
    }

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
    process.stdout.write(JSON.stringify(result) + '\n');
    return failures.length === 0 && claimErrors === 0 && rawErrors === 0;
  } finally {
    client.close();
    (server as any).closeAllConnections?.();
    await new Promise<void>((res) => server.close(() => res()));
    rawClient.destroy();
    await ddb.stop();
  }
}

main().then(
  (ok) => process.exit(ok ? 0 : 1),
  (e) => {
    log(`failed: ${(e as Error).stack ?? e}`);
    process.exit(2);
  },
);
