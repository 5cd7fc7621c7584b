import { ACTIVITY_COUNTER_SLOTS, activityChartReads, API_KEY_COSTS, apiKeyItemRcuPerSecond, ERASURE_COSTS, OPERATIONS, ON_DEMAND_PRICES, onPool, onStatsShard, planWcu, STREAM_WRITES, streamWcuPerChange, targetOf, type OperationCost } from './model.ts';
import { KEY_RCU_LIMIT, KEY_WCU_LIMIT, MAX_BOOK_SHARDS, shardsForClaimRate } from './shards.ts';

export interface CapacityInput {
  claimsPerSecond: number;
  /** Codes uploaded into the book beforehand (priced, not a rate). */
  codes?: number;
  /** Checkouts per second: each a lock and a redeem of a claimed code. */
  checkoutsPerSecond?: number;
  /** Shards, when not sized from the claim rate. */
  shards?: number;
  /** Average Lambda duration of one request. */
  latencyMs?: number;
  /** Multiplier over the computed peak for warm throughput, throttles and concurrency. */
  headroom?: number;
  /** API keys signing the sale's requests (backends); each is read by every warm instance that serves it. */
  apiKeys?: number;
  /** Webhook endpoints subscribed to code events: each change is one delivery record per endpoint. */
  webhookEndpoints?: number;
  /**
   * Code changes per history transaction of the stream's consumer (at most 95): its activity
   * counters are written once per transaction. On AWS a batch is what one of the stream's lanes
   * collects in its one-second batching window (docs/activity.md).
   */
  changesPerStreamTransaction?: number;
  /** Shards of each webhook endpoint's delivery records (WEBHOOK_DELIVERY_SHARDS). */
  webhookDeliveryShards?: number;
}

/** The default batch: a 20,000 claims/s sale spread over a couple of thousand stream lanes, each batching a second. */
export const DEFAULT_CHANGES_PER_STREAM_TRANSACTION = 10;

const INDEXES = ['pool', 'byOwner', 'byBook'] as const;
const round = (n: number, d = 2) => Math.round(n * 10 ** d) / 10 ** d;
const usd = (units: number, perMillion: number) => round((units * perMillion) / 1e6, 4);

/** Per-second units of a mix of operations, by target (table, each index). */
function unitsByTarget(mix: { op: OperationCost; perSecond: number }[]) {
  const out: Record<string, number> = { table: 0, pool: 0, byOwner: 0, byBook: 0 };
  for (const { op, perSecond } of mix) for (const target of Object.keys(out)) out[target]! += perSecond * planWcu(op.plan, (l) => targetOf(l) === target);
  return out;
}

/**
 * What a flash sale needs, from the cost model (model.ts) alone: the book's
 * shards, the hottest partition key's load, warm throughput to request for
 * the table and each index, Lambda concurrency, API Gateway throttles, and
 * DynamoDB's on-demand price per million claims and checkouts.
 */
export function planCapacity(input: CapacityInput) {
  const { claimsPerSecond: claims, codes = 0, checkoutsPerSecond: checkouts = 0, latencyMs = 50, headroom = 1.25, apiKeys = 0 } = input;
  const { webhookEndpoints = 0, changesPerStreamTransaction = DEFAULT_CHANGES_PER_STREAM_TRANSACTION, webhookDeliveryShards = 32 } = input;
  const shards = input.shards ?? shardsForClaimRate(claims);
  const claim = OPERATIONS.claimCapped;
  const { lock, redeem } = OPERATIONS;
  const mix = [
    { op: claim, perSecond: claims },
    { op: lock, perSecond: checkouts },
    { op: redeem, perSecond: checkouts },
  ];
  const requestsPerSecond = claims + 2 * checkouts;
  const concurrency = Math.ceil((requestsPerSecond * latencyMs * headroom) / 1000);

  // The keys many users share are the book's shards: its stats item in the table and its pool partition.
  const statsShardWcu = (claims * planWcu(claim.plan, onStatsShard) + checkouts * (planWcu(lock.plan, onStatsShard) + planWcu(redeem.plan, onStatsShard))) / shards;
  const poolPartitionWcu = (claims * planWcu(claim.plan, onPool)) / shards;
  const poolPartitionRcu = (claims * claim.rcu) / shards;
  // Every warm instance reads the book item once a second (eventually consistent: 0.5 RCU).
  const bookItemRcu = concurrency * 0.5;
  // And each API key's item once per cache window (at most: only the instances the key's requests reach).
  const apiKeyItemRcu = apiKeys ? apiKeyItemRcuPerSecond({ instances: concurrency }) : 0;
  const requestWrites = unitsByTarget(mix);
  // Off the request path, per code change (a claim; a checkout's lock and redeem): its history
  // entry, its share of a transaction's activity counters, a delivery record per endpoint.
  const changes = claims + 2 * checkouts;
  const perChange = streamWcuPerChange({ changesPerStreamTransaction, webhookEndpoints });
  const streamWrites = { history: changes * perChange.history, activity: changes * perChange.activity, webhooks: changes * perChange.webhooks };
  const writes: Record<string, number> = { ...requestWrites, table: requestWrites.table! + streamWrites.history + streamWrites.activity + streamWrites.webhooks };
  // Each history transaction adds to one random slot of each interval's bucket: an interval's
  // transactions spread over the slots' partition keys. An endpoint's records spread over its shards.
  const counterWcu = planWcu(STREAM_WRITES.activityTransaction) / STREAM_WRITES.activityTransaction.length;
  const activitySlotWcu = ((changes / changesPerStreamTransaction) * counterWcu) / ACTIVITY_COUNTER_SLOTS;
  const deliveryShardWcu = webhookEndpoints ? (changes * planWcu(STREAM_WRITES.webhookDelivery)) / webhookDeliveryShards : 0;
  const hottestWcu = Math.max(statsShardWcu, poolPartitionWcu, activitySlotWcu, deliveryShardWcu);
  // byBook (a book's codes, for listing and export) is written by uploads only and read by admins.
  // Each claimer's erased mark is read once per instance per window (erased-users.ts): a flash
  // sale's users each claim once, so every claim pays it; each on its own user's key.
  const erasedMarkRcu = claims * ERASURE_COSTS.doorRcu;
  const reads: Record<string, number> = {
    table: checkouts * (lock.rcu + redeem.rcu) + bookItemRcu + apiKeys * apiKeyItemRcu + erasedMarkRcu,
    pool: claims * claim.rcu,
    byOwner: 0,
    byBook: 0,
  };
  const hottestRcu = Math.max(poolPartitionRcu, bookItemRcu, apiKeyItemRcu);

  const claimRequestWcu = planWcu(claim.plan);
  const checkoutRequestWcu = planWcu(lock.plan) + planWcu(redeem.plan);
  const claimWcu = claimRequestWcu + perChange.total;
  const checkoutWcu = checkoutRequestWcu + 2 * perChange.total;
  const uploadWcu = codes * 4 + Math.ceil(codes / 98) * 2; // per code: a transactional put (2), its pool and byBook entries (1 each); per 98, its shard's counter
  const warm = (units: number) => Math.ceil(units * headroom);

  return {
    input: { claimsPerSecond: claims, codes, checkoutsPerSecond: checkouts, latencyMs, headroom, apiKeys, webhookEndpoints, changesPerStreamTransaction, webhookDeliveryShards },
    book: { shards, maxShards: MAX_BOOK_SHARDS, createWith: input.shards === undefined ? { expectedClaimsPerSecond: claims } : { shards } },
    hottestPartition: {
      wcuPerSecond: round(hottestWcu),
      rcuPerSecond: round(hottestRcu),
      limits: { wcu: KEY_WCU_LIMIT, rcu: KEY_RCU_LIMIT },
      keys: {
        statsShard: { wcuPerSecond: round(statsShardWcu) },
        poolPartition: { wcuPerSecond: round(poolPartitionWcu), rcuPerSecond: round(poolPartitionRcu) },
        bookItem: { rcuPerSecond: round(bookItemRcu) },
        apiKeyItem: { rcuPerSecond: round(apiKeyItemRcu) },
        activitySlot: { wcuPerSecond: round(activitySlotWcu) },
        webhookDeliveryShard: { wcuPerSecond: round(deliveryShardWcu) },
      },
      withinLimits: hottestWcu <= KEY_WCU_LIMIT && hottestRcu <= KEY_RCU_LIMIT,
    },
    apiKeys: {
      keys: apiKeys,
      // Verifying writes nothing; lastUsedAt is written once an hour per key (the item and its list entry).
      readUnitsPerSecond: round(apiKeys * apiKeyItemRcu),
      writeUnitsPerHour: apiKeys * planWcu(API_KEY_COSTS.lastUsed.plan),
    },
    // writes: everything the table and its indexes absorb; requestWrites: the requests' share alone
    // (what bench/cost.ts measures); streamWrites: the table WCU/s the stream's consumers add.
    peakUnitsPerSecond: { writes, reads, requestWrites, streamWrites: { history: round(streamWrites.history), activity: round(streamWrites.activity), webhooks: round(streamWrites.webhooks) } },
    warmThroughput: Object.fromEntries(
      (['table', ...INDEXES] as const).map((t) => [t, { writeUnitsPerSecond: warm(writes[t]!), readUnitsPerSecond: warm(reads[t]!) }]),
    ) as Record<'table' | (typeof INDEXES)[number], { writeUnitsPerSecond: number; readUnitsPerSecond: number }>,
    lambda: { requestsPerSecond, concurrency },
    apiGateway: { throttlingRateLimit: warm(requestsPerSecond), throttlingBurstLimit: warm(requestsPerSecond) },
    cost: {
      prices: ON_DEMAND_PRICES,
      // The request's writes and, off the request path, the stream consumers' for the same change(s).
      perClaim: { wcu: round(claimWcu, 3), requestWcu: claimRequestWcu, streamWcu: round(perChange.total, 3), rcu: claim.rcu },
      perCheckout: { wcu: round(checkoutWcu, 3), requestWcu: checkoutRequestWcu, streamWcu: round(2 * perChange.total, 3), rcu: lock.rcu + redeem.rcu },
      streamPerChange: { history: perChange.history, activity: round(perChange.activity, 3), webhooks: perChange.webhooks },
      usdPerMillionClaims: round(usd(1e6 * claimWcu, ON_DEMAND_PRICES.usdPerMillionWriteUnits) + usd(1e6 * claim.rcu, ON_DEMAND_PRICES.usdPerMillionReadUnits), 4),
      usdPerMillionCheckouts: round(
        usd(1e6 * checkoutWcu, ON_DEMAND_PRICES.usdPerMillionWriteUnits) + usd(1e6 * (lock.rcu + redeem.rcu), ON_DEMAND_PRICES.usdPerMillionReadUnits),
        4,
      ),
      upload: { wcu: uploadWcu, usd: usd(uploadWcu, ON_DEMAND_PRICES.usdPerMillionWriteUnits) },
      // A chart's reads depend on its buckets, never on the book's size (every slot of every bucket filled: the most).
      activityChart: { dayOfMinutes: activityChartReads(1440), monthOfHours: activityChartReads(720), empty: activityChartReads(1440, 0) },
    },
  };
}

export type CapacityPlan = ReturnType<typeof planCapacity>;
