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

/** BatchGetItem takes 100 keys: a book's stats stay one round trip. 100 shards plan for 20,000 claims/s. */
export const MAX_BOOK_SHARDS = 100;

/** Shards for a planned claim rate: enough that each key stays under its planned share. */
export function shardsForClaimRate(claimsPerSecond: number): number {
  return Math.min(MAX_BOOK_SHARDS, Math.max(1, Math.ceil(claimsPerSecond / CLAIMS_PER_SHARD_PER_SECOND)));
}

/** The highest claim rate a book can be created for (MAX_BOOK_SHARDS shards). */
export const MAX_PLANNED_CLAIMS_PER_SECOND = MAX_BOOK_SHARDS * CLAIMS_PER_SHARD_PER_SECOND;
