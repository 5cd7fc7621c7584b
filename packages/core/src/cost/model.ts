import { DEFAULT_API_KEY_CACHE_MS } from '../config.ts';

/**
 * The cost model: what each operation writes and reads, item by item, as
 * the cost meter counts it (summary.ts `writePlan` lines). test/cost.test.ts
 * measures every state-changing route against these plans, and the capacity
 * planner (capacity.ts) computes partitions, warm throughput and prices from
 * them, so the planner cannot drift from what the service does.
 */

export interface OperationCost {
  /** Sorted write-plan lines: `[tx ]<action> <entity> <wcu>` for items, `<index> <change> <entity> <wcu>` for index entries. */
  plan: readonly string[];
  /** Read units on the path when the book has codes (a claim's pick; a held code's consistent read). */
  rcu: number;
}

/** Today's measured plans of the hot operations, without an Idempotency-Key. */
export const OPERATIONS = {
  /** A random claim from a book with `maxCodesPerUser`: code, its shard, the holding; the code leaves the pool for its owner. */
  claimCapped: {
    plan: ['byOwner add code 1', 'pool remove code 1', 'tx update bookStatsShard 2', 'tx update code 2', 'tx update userBookHolding 2'],
    // At most one pool Query (keys only, eventually consistent): one per claim when claims of the
    // shard are far apart, shared by the claims of a busy instance (code/pick.ts); the book comes
    // from the instance's one-second cache.
    rcu: 0.5,
  },
  claimUncapped: {
    plan: ['byOwner add code 1', 'pool remove code 1', 'tx update bookStatsShard 2', 'tx update code 2'],
    rcu: 0.5,
  },
  /** Claim and lock in one step: the lock rides on the claim's write of the code. */
  claimAndLockCapped: {
    plan: ['byOwner add code 1', 'pool remove code 1', 'tx update bookStatsShard 2', 'tx update code 2', 'tx update userBookHolding 2'],
    rcu: 0.5,
  },
  /** One conditional UpdateItem on the code; the book's window is checked against the instance's copy (at most a second old). */
  lock: {
    plan: ['byOwner update code 1', 'update code 1'],
    // The held code, read consistently, and the caller's code-guessing standing (cached 5 s per instance).
    rcu: 1.5,
  },
  /** One conditional UpdateItem on the code. */
  unlock: {
    plan: ['byOwner update code 1', 'update code 1'],
    rcu: 1.5,
  },
  redeem: {
    plan: ['byOwner update code 1', 'tx put redemption 2', 'tx update bookStatsShard 2', 'tx update code 2'],
    rcu: 1.5,
  },
} as const satisfies Record<string, OperationCost>;

export type Operation = keyof typeof OPERATIONS;

/** The write budget of each operation: test/cost.test.ts fails when a plan exceeds it. */
export const WRITE_BUDGETS: Record<Operation, number> = {
  claimCapped: 8,
  claimUncapped: 6,
  claimAndLockCapped: 8,
  lock: 3,
  unlock: 2,
  redeem: 7,
};

/**
 * Writes racing on one held code (code/transitions.ts `fromRead`): a lock, unlock, redeem or
 * rollback carries the code's `changeSeq` as it read it, so its answer is exactly the state it
 * made. When another transition of the same code landed in between, the write is refused and
 * built again from the item the refusal hands back (ReturnValuesOnConditionCheckFailure): no
 * read, only the refused write, which for a plain UpdateItem (lock, unlock) is charged 1 WCU (its
 * index entries untouched) and for a transaction (redeem, rollback, any keyed write) is recorded
 * as cancelled, as a claim's lost race is. Only a code's own concurrent requests pay it, and a
 * request built again 8 times answers 503 (code/held-code.ts).
 */
export const RACE_ON_ONE_CODE = { refusedPlainWriteWcu: 1, refusedTransactionWcu: 0 } as const;

/**
 * What the change stream's consumers write, off the request path, for each
 * code change (a claim is one, a checkout two: its lock and its redeem). The
 * request's plan above is only part of what a change costs.
 */
export const STREAM_WRITES = {
  /** Its history entry: a conditional put in the history consumer's transaction. */
  historyEntry: ['tx put codeHistory 2'],
  /**
   * Per history transaction, not per change: the activity counter of each interval (minute,
   * hour, day) of each book and bucket its entries fall in, one of each when they share a minute.
   * Amortised over the changes a transaction carries (`changesPerStreamTransaction`).
   */
  activityTransaction: ['tx update activityCounter 2', 'tx update activityCounter 2', 'tx update activityCounter 2'],
  /** Per change and endpoint subscribed to its event, delivered at the first attempt (on AWS by the queue's worker). */
  webhookDelivery: ['put webhookDelivery 1'],
} as const;

/** Counter slots per activity bucket (activity/activity-counter.ts ACTIVITY_SLOTS; the cost test checks they agree). */
export const ACTIVITY_COUNTER_SLOTS = 16;
/** The largest activity counter item for tenant ids up to 64 characters, as stored (the cost test measures it). */
export const ACTIVITY_COUNTER_MAX_BYTES = 448;

/** Stream writes per code change, in WCU, for a batch size and a number of subscribed endpoints. */
export function streamWcuPerChange(input: { changesPerStreamTransaction: number; webhookEndpoints: number }) {
  const history = planWcu(STREAM_WRITES.historyEntry);
  const activity = planWcu(STREAM_WRITES.activityTransaction) / input.changesPerStreamTransaction;
  const webhooks = input.webhookEndpoints * planWcu(STREAM_WRITES.webhookDelivery);
  return { history, activity, webhooks, total: history + activity + webhooks };
}

/**
 * What one chart (`GET /coupons/{id}/activity`) reads, whatever the book's
 * size: the book (one eventually consistent GetItem) and one eventually
 * consistent Query per counter slot over the range's buckets. Only buckets
 * with activity have items; `filledSlots` of a bucket's slots hold one (all
 * of them in a busy sale). An upper bound in read units.
 */
export function activityChartReads(buckets: number, filledSlots = ACTIVITY_COUNTER_SLOTS) {
  const perSlotBytes = (buckets * filledSlots * ACTIVITY_COUNTER_MAX_BYTES) / ACTIVITY_COUNTER_SLOTS;
  return { requests: 1 + ACTIVITY_COUNTER_SLOTS, rcu: 0.5 + ACTIVITY_COUNTER_SLOTS * 0.5 * Math.max(1, Math.ceil(perSlotBytes / 4096)) };
}

/** A refused claim on a sold-out book: read units on average, and no write. */
export const SOLD_OUT_CLAIM_RCU_BUDGET = 2;

/** The Idempotency-Key's record: one more transactional item. */
export const IDEMPOTENCY_RECORD_LINE = 'tx put idempotencyRecord 2';

/**
 * API keys (access/): what a key costs beside the requests it signs. Verifying one reads its item
 * (a strongly consistent GetItem of an item under 1 KB: 1 RCU) at most once per instance per
 * API_KEY_CACHE_MS, shared by the requests waiting on it, and writes nothing; `lastUsedAt` is one
 * conditional UpdateItem and its byOwner entry, at most once per key per hour, off the request
 * path. Each key is its own partition key. Create and revoke move the tenant's counts of keys in
 * the same transaction (the caps of docs/security.md#bounds), and read the count first (1 RCU).
 * test/cost.test.ts measures these.
 */
export const API_KEY_COSTS = {
  verifyRcu: 1,
  cacheMs: DEFAULT_API_KEY_CACHE_MS,
  lastUsed: { plan: ['byOwner update apiKey 1', 'update apiKey 1'], everyMs: 3_600_000 },
  // One transaction: the key, and the tenant's counts of active keys and of keys created today (db/quota.ts).
  create: { plan: ['byOwner add apiKey 1', 'tx put apiKey 2', 'tx update tenantQuota 2', 'tx update tenantQuota 2'] },
  // One transaction: the key marked revoked (with its TTL), one fewer active key.
  revoke: { plan: ['byOwner update apiKey 1', 'tx update apiKey 2', 'tx update tenantQuota 2'] },
} as const;

/**
 * Read units per second one key's item takes, at most: each warm instance that serves the key
 * reads it once per cache window, and never more often than the key signs requests.
 */
export function apiKeyItemRcuPerSecond(input: { instances: number; requestsPerSecond?: number; cacheMs?: number }): number {
  const cacheMs = input.cacheMs ?? API_KEY_COSTS.cacheMs;
  const reads = cacheMs > 0 ? (input.instances * 1000) / cacheMs : Infinity;
  return Math.min(reads, input.requestsPerSecond ?? Infinity) * API_KEY_COSTS.verifyRcu;
}

/**
 * Erasing a user (erasure/, docs/erasure.md#cost). The request counts the erasure under the
 * tenant's daily cap (a conditional update), writes the erased mark (a plain put, made once) and
 * the job with one lane per Scan segment in one transaction, with the job's
 * unfinished-jobs entry; the job then costs a Scan of the table and a write per item naming the
 * user. The door that refuses an erased id reads the mark (eventually consistent, under 1 KB:
 * 0.5 RCU) at most once per caller per instance per window (erased-users.ts). test/cost.test.ts
 * measures these.
 */
export const ERASURE_COSTS = {
  request: (lanes: number): string[] =>
    ['byOwner add job 1', 'put erasedUser 1', 'tx put job 2', 'update tenantQuota 1', ...Array.from({ length: lanes }, () => 'tx put jobLane 2')].sort(),
  doorRcu: 0.5,
} as const;

const wcuOf = (line: string) => Number(line.slice(line.lastIndexOf(' ') + 1));

/** WCU of a plan, optionally only the lines `where` selects. */
export function planWcu(plan: readonly string[], where: (line: string) => boolean = () => true): number {
  return plan.filter(where).reduce((s, l) => s + wcuOf(l), 0);
}

/** Which store a line writes: the table, or an index by name. */
export const targetOf = (line: string): string => {
  const first = line.split(' ')[0]!;
  return first === 'tx' || ['put', 'update', 'delete', 'check'].includes(first) ? 'table' : first;
};

export const onStatsShard = (line: string) => targetOf(line) === 'table' && line.includes(' bookStatsShard ');
export const onPool = (line: string) => targetOf(line) === 'pool';

/**
 * DynamoDB on-demand prices, us-east-1, Standard table class: per million
 * write request units and read request units, as published since
 * 2024-11-01 (the price cut of that date) and still listed when this was
 * written (2026-12). A transactional write unit is two request units,
 * already counted as 2 in the plans.
 */
export const ON_DEMAND_PRICES = {
  region: 'us-east-1',
  asOf: '2024-11-01',
  usdPerMillionWriteUnits: 0.625,
  usdPerMillionReadUnits: 0.125,
} as const;
