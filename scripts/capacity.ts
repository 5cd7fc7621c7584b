/**
 * `npm run capacity -- --claims-per-second 20000 [--codes N] [--checkouts-per-second M]`:
 * what a flash sale needs, from the cost model the cost test pins
 * (packages/core/src/cost). Prints a summary, or the whole plan with --json.
 */
import { parseArgs } from 'node:util';
import { API_KEY_COSTS, DEFAULT_CHANGES_PER_STREAM_TRANSACTION, MAX_BOOK_SHARDS, planCapacity, type CapacityPlan } from '@coupons/core';

const HELP = `Usage: npm run capacity -- --claims-per-second N [options]

  --claims-per-second N       peak claims per second on one book (required)
  --codes N                   codes uploaded into the book (priced)
  --checkouts-per-second N    peak checkouts per second (a lock and a redeem each)
  --shards N                  the book's shards, instead of sizing them from the claim rate (1-${MAX_BOOK_SHARDS})
  --latency-ms N              average Lambda duration of a request (default 50)
  --headroom X                multiplier over the peak for warm throughput, throttles, concurrency (default 1.25)
  --api-keys N                API keys signing the sale's requests (backends): each key's item is read by every warm instance
  --webhook-endpoints N       endpoints subscribed to code events (each change: a delivery record each; default 0)
  --stream-batch N            code changes per history transaction of the stream's consumer (1-97, default ${DEFAULT_CHANGES_PER_STREAM_TRANSACTION})
  --json                      print the whole plan as JSON
  -h, --help                  this text
`;

function fail(message: string): never {
  process.stderr.write(`${message}\n\n${HELP}`);
  process.exit(2);
}

function number(raw: string | undefined, name: string, { min, integer = true, max = Infinity }: { min: number; integer?: boolean; max?: number }) {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isFinite(n) || (integer && !Number.isInteger(n)) || n < min || n > max) fail(`--${name} must be ${integer ? 'an integer' : 'a number'} from ${min}${max < Infinity ? ` to ${max}` : ''}, got "${raw}"`);
  return n;
}

let values: Record<string, string | boolean | undefined>;
try {
  ({ values } = parseArgs({
    strict: true,
    options: {
      'claims-per-second': { type: 'string' },
      codes: { type: 'string' },
      'checkouts-per-second': { type: 'string' },
      shards: { type: 'string' },
      'latency-ms': { type: 'string' },
      headroom: { type: 'string' },
      'api-keys': { type: 'string' },
      'webhook-endpoints': { type: 'string' },
      'stream-batch': { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  }));
} catch (e) {
  fail((e as Error).message);
}
if (values.help) {
  process.stdout.write(HELP);
  process.exit(0);
}
const claimsPerSecond = number(values['claims-per-second'] as string | undefined, 'claims-per-second', { min: 1 });
if (claimsPerSecond === undefined) fail('--claims-per-second is required');

const plan = planCapacity({
  claimsPerSecond,
  codes: number(values.codes as string | undefined, 'codes', { min: 0 }),
  checkoutsPerSecond: number(values['checkouts-per-second'] as string | undefined, 'checkouts-per-second', { min: 0 }),
  shards: number(values.shards as string | undefined, 'shards', { min: 1, max: MAX_BOOK_SHARDS }),
  latencyMs: number(values['latency-ms'] as string | undefined, 'latency-ms', { min: 1 }),
  headroom: number(values.headroom as string | undefined, 'headroom', { min: 1, integer: false }),
  apiKeys: number(values['api-keys'] as string | undefined, 'api-keys', { min: 0 }),
  webhookEndpoints: number(values['webhook-endpoints'] as string | undefined, 'webhook-endpoints', { min: 0 }),
  // 97: a transaction's 100 items less the minute, hour and day counters of one bucket.
  changesPerStreamTransaction: number(values['stream-batch'] as string | undefined, 'stream-batch', { min: 1, max: 97 }),
});

process.stdout.write(values.json ? `${JSON.stringify(plan, null, 2)}\n` : summary(plan));

function summary(p: CapacityPlan): string {
  const w = p.warmThroughput;
  const hot = p.hottestPartition;
  const s = p.cost.streamPerChange;
  const c = p.cost.activityChart;
  const fmt = (n: number) => n.toLocaleString('en-US');
  return `Flash sale: ${fmt(p.input.claimsPerSecond)} claims/s, ${fmt(p.input.checkoutsPerSecond)} checkouts/s, ${fmt(p.input.codes)} codes

Book
  shards                      ${p.book.shards} (create with ${JSON.stringify(p.book.createWith)})
Hottest partition key         ${fmt(hot.wcuPerSecond)} WCU/s of ${fmt(hot.limits.wcu)}, ${fmt(hot.rcuPerSecond)} RCU/s of ${fmt(hot.limits.rcu)}${hot.withinLimits ? '' : '   OVER THE LIMIT: more shards, or a lower rate'}
  stats shard (table)         ${fmt(hot.keys.statsShard.wcuPerSecond)} WCU/s
  pool partition (pool index) ${fmt(hot.keys.poolPartition.wcuPerSecond)} WCU/s, ${fmt(hot.keys.poolPartition.rcuPerSecond)} RCU/s
  book item (table)           ${fmt(hot.keys.bookItem.rcuPerSecond)} RCU/s (one read a second per warm instance)
  API key item (table)        ${p.apiKeys.keys ? `${fmt(hot.keys.apiKeyItem.rcuPerSecond)} RCU/s each (one consistent read per warm instance per ${API_KEY_COSTS.cacheMs / 1000} s)` : 'none (--api-keys N when backends sign with keys)'}
Warm throughput (deploy: DYNAMO_WARM_* in infra/table.ts)
  table                       ${fmt(w.table.writeUnitsPerSecond)} writes/s, ${fmt(w.table.readUnitsPerSecond)} reads/s
  index pool                  ${fmt(w.pool!.writeUnitsPerSecond)} writes/s, ${fmt(w.pool!.readUnitsPerSecond)} reads/s
  index byOwner               ${fmt(w.byOwner!.writeUnitsPerSecond)} writes/s, ${fmt(w.byOwner!.readUnitsPerSecond)} reads/s
  index byBook                ${fmt(w.byBook!.writeUnitsPerSecond)} writes/s, ${fmt(w.byBook!.readUnitsPerSecond)} reads/s (uploads and exports only)
API keys                      ${p.apiKeys.keys ? `${fmt(p.apiKeys.keys)}: ${fmt(p.apiKeys.readUnitsPerSecond)} RCU/s at most, ${fmt(p.apiKeys.writeUnitsPerHour)} WCU an hour (lastUsedAt); nothing written per request` : 'none'}
Lambda
  requests/s                  ${fmt(p.lambda.requestsPerSecond)}
  concurrency                 ${fmt(p.lambda.concurrency)} (API_RESERVED_CONCURRENCY; at ${p.input.latencyMs} ms a request)
API Gateway (API_THROTTLE_RATE / API_THROTTLE_BURST)
  rate                        ${fmt(p.apiGateway.throttlingRateLimit)} requests/s
  burst                       ${fmt(p.apiGateway.throttlingBurstLimit)}
DynamoDB on demand (${p.cost.prices.region}, $${p.cost.prices.usdPerMillionWriteUnits}/M write units, $${p.cost.prices.usdPerMillionReadUnits}/M read units, prices of ${p.cost.prices.asOf})
  per million claims          $${p.cost.usdPerMillionClaims} (${p.cost.perClaim.wcu} WCU: ${p.cost.perClaim.requestWcu} in the request + ${p.cost.perClaim.streamWcu} by the stream's consumers; ${p.cost.perClaim.rcu} RCU each)
  per million checkouts       $${p.cost.usdPerMillionCheckouts} (${p.cost.perCheckout.wcu} WCU: ${p.cost.perCheckout.requestWcu} + ${p.cost.perCheckout.streamWcu}; ${p.cost.perCheckout.rcu} RCU each: lock + redeem)
  uploading the codes         $${p.cost.upload.usd} (${fmt(p.cost.upload.wcu)} WCU)
Change stream, per code change (${p.input.changesPerStreamTransaction} changes per history transaction, ${p.input.webhookEndpoints} webhook endpoint(s))
  history entry               ${s.history} WCU (a conditional put in a transaction)
  activity counters           ${s.activity} WCU (minute, hour and day: 3 × 2 WCU per transaction)
  webhook delivery records    ${s.webhooks} WCU (1 per endpoint, delivered at the first attempt)
  activity slot key (table)   ${fmt(hot.keys.activitySlot.wcuPerSecond)} WCU/s${p.input.webhookEndpoints ? `\n  delivery shard key (table)  ${fmt(hot.keys.webhookDeliveryShard.wcuPerSecond)} WCU/s` : ''}
Activity chart (GET /coupons/{id}/activity), whatever the book's size
  a day of minutes            ${c.dayOfMinutes.requests} requests, at most ${c.dayOfMinutes.rcu} RCU
  a month of hours            ${c.monthOfHours.requests} requests, at most ${c.monthOfHours.rcu} RCU
`;
}
