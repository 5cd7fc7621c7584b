import { API_KEY_COSTS, apiKeyItemRcuPerSecond, OPERATIONS, ON_DEMAND_PRICES, onPool, onStatsShard, planWcu, targetOf, type OperationCost } from './model.ts';
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
}

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
  const writes = unitsByTarget(mix);
  // byBook (a book's codes, for listing and export) is written by uploads only and read by admins.
  const reads: Record<string, number> = {
    table: checkouts * (lock.rcu + redeem.rcu) + bookItemRcu + apiKeys * apiKeyItemRcu,
    pool: claims * claim.rcu,
    byOwner: 0,
    byBook: 0,
  };
  const hottestRcu = Math.max(poolPartitionRcu, bookItemRcu, apiKeyItemRcu);

  const claimWcu = planWcu(claim.plan);
  const checkoutWcu = planWcu(lock.plan) + planWcu(redeem.plan);
  const uploadWcu = codes * 4 + Math.ceil(codes / 98) * 2; // per code: a transactional put (2), its pool and byBook entries (1 each); per 98, its shard's counter
  const warm = (units: number) => Math.ceil(units * headroom);

  return {
    input: { claimsPerSecond: claims, codes, checkoutsPerSecond: checkouts, latencyMs, headroom, apiKeys },
    book: { shards, maxShards: MAX_BOOK_SHARDS, createWith: input.shards === undefined ? { expectedClaimsPerSecond: claims } : { shards } },
    hottestPartition: {
      wcuPerSecond: round(Math.max(statsShardWcu, poolPartitionWcu)),
      rcuPerSecond: round(hottestRcu),
      limits: { wcu: KEY_WCU_LIMIT, rcu: KEY_RCU_LIMIT },
      keys: {
        statsShard: { wcuPerSecond: round(statsShardWcu) },
        poolPartition: { wcuPerSecond: round(poolPartitionWcu), rcuPerSecond: round(poolPartitionRcu) },
        bookItem: { rcuPerSecond: round(bookItemRcu) },
        apiKeyItem: { rcuPerSecond: round(apiKeyItemRcu) },
      },
      withinLimits: Math.max(statsShardWcu, poolPartitionWcu) <= KEY_WCU_LIMIT && hottestRcu <= KEY_RCU_LIMIT,
    },
    apiKeys: {
      keys: apiKeys,
      // Verifying writes nothing; lastUsedAt is written once an hour per key (the item and its list entry).
      readUnitsPerSecond: round(apiKeys * apiKeyItemRcu),
      writeUnitsPerHour: apiKeys * planWcu(API_KEY_COSTS.lastUsed.plan),
    },
    peakUnitsPerSecond: { writes, reads },
    warmThroughput: Object.fromEntries(
      (['table', ...INDEXES] as const).map((t) => [t, { writeUnitsPerSecond: warm(writes[t]!), readUnitsPerSecond: warm(reads[t]!) }]),
    ) as Record<'table' | (typeof INDEXES)[number], { writeUnitsPerSecond: number; readUnitsPerSecond: number }>,
    lambda: { requestsPerSecond, concurrency },
    apiGateway: { throttlingRateLimit: warm(requestsPerSecond), throttlingBurstLimit: warm(requestsPerSecond) },
    cost: {
      prices: ON_DEMAND_PRICES,
      perClaim: { wcu: claimWcu, rcu: claim.rcu },
      perCheckout: { wcu: checkoutWcu, rcu: lock.rcu + redeem.rcu },
      usdPerMillionClaims: round(usd(1e6 * claimWcu, ON_DEMAND_PRICES.usdPerMillionWriteUnits) + usd(1e6 * claim.rcu, ON_DEMAND_PRICES.usdPerMillionReadUnits), 4),
      usdPerMillionCheckouts: round(
        usd(1e6 * checkoutWcu, ON_DEMAND_PRICES.usdPerMillionWriteUnits) + usd(1e6 * (lock.rcu + redeem.rcu), ON_DEMAND_PRICES.usdPerMillionReadUnits),
        4,
      ),
      upload: { wcu: uploadWcu, usd: usd(uploadWcu, ON_DEMAND_PRICES.usdPerMillionWriteUnits) },
    },
  };
}

export type CapacityPlan = ReturnType<typeof planCapacity>;
