/**
 * How many stats shards (and pool shards: one each) a book gets. A shard is
 * one partition key in the table (its counter and gate copy) and one in the
 * pool index (its available codes), so the book's writes spread over N keys
 * of each. Sizing, and why these numbers, in docs/flash-sale.md.
 */

/** DynamoDB's ceiling per partition key. */
export const KEY_WCU_LIMIT = 1000;
export const KEY_RCU_LIMIT = 3000;

/**
 * Claims per second one shard is planned for. Every claim writes its shard
 * in a transaction (2 WCU) and so may every later redeem (2 WCU): 200
 * claims/s plus as many redeems/s is 800 WCU/s, leaving a fifth of the key
 * for bursts and the shard's uneven share of a random spread.
 */
export const CLAIMS_PER_SHARD_PER_SECOND = 200;

/** Shards of a book created without `shards` or `expectedClaimsPerSecond`: 3,200 claims/s. */
export const DEFAULT_BOOK_SHARDS = 16;

/**
 * 99: pausing or re-windowing a book rewrites the book and every shard's gate
 * in one transaction (100 items at most), and reading the stats is one
 * BatchGetItem (100 keys). 20,000 claims/s over 99 shards is 202 claims/s a
 * shard: 404 WCU/s, 808 with as many redeems at once, under the key's 1,000.
 */
export const MAX_BOOK_SHARDS = 99;

/** Shards for a planned claim rate: enough that each key stays under its planned share. */
export function shardsForClaimRate(claimsPerSecond: number): number {
  return Math.min(MAX_BOOK_SHARDS, Math.max(1, Math.ceil(claimsPerSecond / CLAIMS_PER_SHARD_PER_SECOND)));
}

/** The highest claim rate a book can be created for; it gets MAX_BOOK_SHARDS shards. */
export const MAX_PLANNED_CLAIMS_PER_SECOND = 20_000;
