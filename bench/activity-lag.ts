/**
 * Benchmark (not a test): the lag from a claim's commit to its count in the
 * book's activity, and to its webhook delivery at a local receiver, during a
 * flash sale on DynamoDB Local.
 *
 *   npm run bench:lag                                   # 2,000 codes, 64 clients
 *   npm run bench:lag -- --codes 3000 --clients 64 --max-seconds 60
 *
 * Like `npm start`: its own DynamoDB Local (in memory, free port), the table
 * with its stream, the API on 127.0.0.1 and the local followers of the app's
 * consumers (history with activity; stock watch and webhooks with the
 * in-process dispatcher), with the service's defaults (WEBHOOK_COMMIT_SLACK_MS
 * 1 s among them). One webhook endpoint, on a receiver on 127.0.0.1,
 * subscribed to `code.assigned`. `--clients` concurrent clients claim (each a
 * fresh user) until the book is sold out or `--max-seconds` pass.
 *
 * A claim's commit lies between its `assignedAt` (taken just before the
 * transaction is sent) and the 201 reaching its client, so each lag is given
 * from both: `fromAssignedAt` is an upper bound, `fromResponse` a lower one.
 *
 * - activity: the moment the history consumer's transaction holding the
 *   claim's count returned (the count is readable from then on: a chart reads
 *   the counters themselves). Measured by wrapping that consumer, in process;
 *   `handedOverFromResponse` is when the follower handed the change to it (the
 *   rest is the consumer's own work).
 * - chart: the same, end to end through `GET /coupons/{id}/activity`, polled
 *   every `--poll-ms`: the k-th claim to commit is "shown" once the chart's
 *   total reaches k (the stream need not count in commit order; this is how
 *   far the chart trails the sale). Includes up to one poll interval.
 * - webhook: the receiver's clock when the delivery arrived.
 *
 * Prints one JSON object on stdout; progress on stderr.
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadavg } from 'node:os';
import { codeEventsOf, createDynamoDbClient, ensureTable, type ChangeConsumer } from '@coupons/core';
import { changeConsumerGroups, createApp, createCoreContext, followChanges, startServer } from '@coupons/api';
import { startDynamoDbLocal } from '../scripts/lib/dynamodb-local.ts';
import { mintToken } from '../scripts/lib/tokens.ts';
import { option } from './lib/options.ts';

const CODES = Math.max(1, option('codes', 'CODES', 2000));
const CLIENTS = Math.max(1, option('clients', 'CLIENTS', 64));
const MAX_SECONDS = Math.max(1, option('max-seconds', 'MAX_SECONDS', 60));
const POLL_MS = Math.max(10, option('poll-ms', 'POLL_MS', 100));
const SECRET = `bench-secret-${randomBytes(16).toString('hex')}`;
const TENANT = 'lag';
const log = (msg: string) => process.stderr.write(`[bench:lag] ${msg}\n`);

const round = (n: number) => Math.round(n);
function stats(values: number[]) {
  const s = [...values].sort((a, b) => a - b);
  const at = (p: number) => (s.length ? round(s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!) : null);
  return { p50: at(50), p99: at(99), max: at(100), n: s.length };
}

interface Claim {
  code: string;
  assignedAt: number;
  respondedAt: number;
}

async function main() {
  const ddb = await startDynamoDbLocal();
  const env = {
    DYNAMODB_ENDPOINT: ddb.endpoint,
    TABLE_NAME: 'bench-lag',
    AWS_REGION: 'us-east-1',
    JWT_SECRET: SECRET,
    WEBHOOK_ALLOW_LOOPBACK: 'true',
    // One client per user, many users: the per-caller limit is not what is measured.
    RATE_LIMIT_CALLER_PER_MINUTE: '0',
  };
  const core = createCoreContext(env, undefined, { logLines: { push: () => undefined }, writeEmf: () => undefined });
  await ensureTable(createDynamoDbClient(core.config), env.TABLE_NAME);
  const server = await startServer(createApp({ core, auth: { hs256Secret: SECRET } }), 0, '127.0.0.1');
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  // The receiver: when each code's delivery arrived.
  const deliveredAt = new Map<string, number>();
  const receiver = createServer((req, res) => {
    let raw = '';
    req.on('data', (c) => (raw += c));
    req.on('end', () => {
      const at = Date.now();
      const body = JSON.parse(raw);
      if (body.type === 'code.assigned' && !deliveredAt.has(body.data.code)) deliveredAt.set(body.data.code, at);
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', () => r()));

  // The app's consumers, each timed (where a batch's time goes); after the history one returns,
  // the batch's counts are committed.
  const countedAt = new Map<string, number>();
  // When the history follower handed the claim's change to its consumer: what of the lag is the stream's.
  const handedOverAt = new Map<string, number>();
  const timing = new Map<string, { batches: number; ms: number; codeEvents: number }>();
  const timed = (c: ChangeConsumer): ChangeConsumer => ({
    ...c,
    async handle(changes) {
      const t = Date.now();
      await c.handle(changes);
      const at = Date.now();
      const events = changes.flatMap(codeEventsOf);
      const m = timing.get(c.name) ?? { batches: 0, ms: 0, codeEvents: 0 };
      timing.set(c.name, { batches: m.batches + 1, ms: m.ms + (at - t), codeEvents: m.codeEvents + events.length });
      if (c.name !== 'code-history') return;
      for (const e of events) {
        if (e.type !== 'assigned' || countedAt.has(e.code)) continue;
        countedAt.set(e.code, at);
        handedOverAt.set(e.code, t);
      }
    },
  });
  // The followers `npm start` runs (one per group of the app's consumers), each consumer timed.
  const groups = changeConsumerGroups(core).map((g) => ({ ...g, consumers: g.consumers.map(timed) }));
  const follower = followChanges(core, { name: 'bench-lag', groups });

  const admin = await mintToken(SECRET, { sub: 'admin', tenant: TENANT, role: 'admin' });
  const service = await mintToken(SECRET, { sub: 'checkout', tenant: TENANT, role: 'service' });
  const call = async (method: string, path: string, token: string, body?: unknown) => {
    const res = await fetch(base + path, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    return { status: res.status, json: (await res.json()) as any };
  };

  const hook = await call('POST', '/webhooks', admin, { url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`, events: ['code.assigned'] });
  if (hook.status !== 201) throw new Error(`webhook: ${hook.status} ${JSON.stringify(hook.json)}`);
  const book = await call('POST', '/coupons', admin, { name: 'Lag', maxCodesPerUser: 1 });
  if (book.status !== 201) throw new Error(`book: ${book.status}`);
  const bookId = book.json.id as string;
  for (let i = 0; i < CODES; i += 5000) {
    const codes = Array.from({ length: Math.min(5000, CODES - i) }, (_, j) => `LAG-${(i + j).toString(36).toUpperCase().padStart(5, '0')}`);
    const r = await call('POST', '/coupons/codes', admin, { bookId, codes });
    if (r.status !== 200) throw new Error(`upload: ${r.status}`);
  }
  log(`book ${bookId}: ${CODES} codes; ${CLIENTS} clients claiming`);

  // The chart, polled while the sale runs.
  const from = new Date(Date.now() - 3_600_000).toISOString();
  const to = new Date(Date.now() + 3_600_000 + MAX_SECONDS * 1000).toISOString();
  const chartTotals: { at: number; assigned: number }[] = [];
  const claims: Claim[] = [];
  let selling = true;
  let pollUntil = Infinity;
  const polling = (async () => {
    while ((selling || chartTotals.at(-1)?.assigned !== claims.length) && Date.now() < pollUntil) {
      const r = await call('GET', `/coupons/${bookId}/activity?${new URLSearchParams({ from, to, interval: 'hour' })}`, admin);
      chartTotals.push({ at: Date.now(), assigned: r.json.buckets.reduce((s: number, b: { assigned: number }) => s + b.assigned, 0) });
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  })();

  const claimLatency: number[] = [];
  let errors = 0;
  let next = 0;
  const started = Date.now();
  const deadline = started + MAX_SECONDS * 1000;
  await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      while (Date.now() < deadline) {
        const t = Date.now();
        const r = await call('POST', '/coupons/assign', service, { bookId, userId: `buyer-${next++}` });
        if (r.status === 201) {
          claims.push({ code: r.json.code, assignedAt: Date.parse(r.json.assignedAt), respondedAt: Date.now() });
          claimLatency.push(Date.now() - t);
        } else if (r.json?.error?.code === 'BOOK_EXHAUSTED') return;
        else errors++;
      }
    }),
  );
  selling = false;
  const saleMs = Date.now() - started;
  log(`${claims.length} claims in ${saleMs} ms; waiting for counts and deliveries`);

  const waitUntil = Date.now() + 60_000;
  pollUntil = waitUntil;
  while ((countedAt.size < claims.length || deliveredAt.size < claims.length) && Date.now() < waitUntil) await new Promise((r) => setTimeout(r, 50));
  await polling;

  const lags = (at: Map<string, number>) => ({
    fromAssignedAt: stats(claims.filter((c) => at.has(c.code)).map((c) => at.get(c.code)! - c.assignedAt)),
    fromResponse: stats(claims.filter((c) => at.has(c.code)).map((c) => at.get(c.code)! - c.respondedAt)),
  });
  // The k-th commit (by response) is on the chart at the first poll showing k or more.
  const byResponse = [...claims].sort((a, b) => a.respondedAt - b.respondedAt);
  const byAssigned = [...claims].sort((a, b) => a.assignedAt - b.assignedAt);
  const chartLag = (sorted: Claim[], time: (c: Claim) => number) => {
    const out: number[] = [];
    let p = 0;
    sorted.forEach((c, k) => {
      while (p < chartTotals.length && chartTotals[p]!.assigned < k + 1) p++;
      if (p < chartTotals.length) out.push(chartTotals[p]!.at - time(c));
    });
    return stats(out);
  };

  const final = chartTotals.at(-1)?.assigned ?? 0;
  const result = {
    codes: CODES,
    clients: CLIENTS,
    claims: claims.length,
    errors,
    saleMs,
    claimsPerSec: Math.round((claims.length / saleMs) * 1000 * 10) / 10,
    claimLatencyMs: stats(claimLatency),
    activityLagMs: { ...lags(countedAt), handedOverFromResponse: lags(handedOverAt).fromResponse },
    chartLagMs: { pollMs: POLL_MS, fromAssignedAt: chartLag(byAssigned, (c) => c.assignedAt), fromResponse: chartLag(byResponse, (c) => c.respondedAt) },
    webhookLagMs: lags(deliveredAt),
    // Per consumer: batches handled, ms per batch, code events per batch.
    consumers: Object.fromEntries(
      [...timing].map(([name, m]) => [name, { batches: m.batches, msPerBatch: Math.round(m.ms / m.batches), codeEventsPerBatch: Math.round((m.codeEvents / m.batches) * 10) / 10 }]),
    ),
    loadAvg1m: loadavg()[0],
    verified: final === claims.length && countedAt.size === claims.length && deliveredAt.size === claims.length && errors === 0,
    chartTotal: final,
    counted: countedAt.size,
    delivered: deliveredAt.size,
    node: process.version,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);

  await follower.stop();
  server.close();
  receiver.close();
  await ddb.stop();
}

main().catch((e) => {
  log(`failed: ${(e as Error).stack}`);
  process.exit(1);
});
