import { describe, expect, inject, it } from 'vitest';
import { API_KEY_COSTS, MAX_BOOK_SHARDS, OPERATIONS, planCapacity, planWcu } from '@coupons/core';
import { runProcess } from '../scripts/lib/run-process.ts';

// The capacity planner computes from the cost model (packages/core/src/cost/model.ts); here it is
// checked against what bench/cost.ts measures through the cost meter, on the test run's DynamoDB Local.
const tsx = (script: string, args: string[], env: Record<string, string> = {}) =>
  runProcess(process.execPath, ['--import', 'tsx', script, ...args], { env: { ...process.env, ...env } });

describe('npm run capacity', () => {
  it('plans a 20,000 claims/s sale within every key’s limit, and prints JSON with --json', async () => {
    const r = await tsx('scripts/capacity.ts', ['--claims-per-second', '20000', '--codes', '100000', '--checkouts-per-second', '2000', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const plan = JSON.parse(r.stdout);
    expect(plan.book.shards).toBe(MAX_BOOK_SHARDS);
    expect(plan.hottestPartition.withinLimits).toBe(true);
    expect(plan.hottestPartition.wcuPerSecond).toBeLessThan(1000);
    expect(plan.warmThroughput.table.writeUnitsPerSecond).toBeGreaterThan(0);
    expect(Object.keys(plan.warmThroughput).sort()).toEqual(['byBook', 'byOwner', 'pool', 'table']);
    expect(plan.cost.prices.asOf).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(plan.cost.perClaim.requestWcu).toBe(planWcu(OPERATIONS.claimCapped.plan));
    // Off the request path a claim also writes its history entry and its share of the activity counters.
    expect(plan.cost.perClaim.wcu).toBeCloseTo(plan.cost.perClaim.requestWcu + plan.cost.perClaim.streamWcu, 6);
    expect(plan.cost.perClaim.wcu).toBeGreaterThan(planWcu(OPERATIONS.claimCapped.plan));
  });

  it('prices API keys: each key’s item read once per warm instance per cache window, lastUsedAt hourly, nothing per request', async () => {
    const r = await tsx('scripts/capacity.ts', ['--claims-per-second', '20000', '--api-keys', '3', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const plan = JSON.parse(r.stdout);
    const without = planCapacity({ claimsPerSecond: 20_000 });
    const perKey = (plan.lambda.concurrency * API_KEY_COSTS.verifyRcu * 1000) / API_KEY_COSTS.cacheMs;
    expect(plan.hottestPartition.keys.apiKeyItem.rcuPerSecond).toBeCloseTo(perKey, 2);
    expect(plan.apiKeys).toEqual({ keys: 3, readUnitsPerSecond: expect.closeTo(3 * perKey, 2), writeUnitsPerHour: 3 * planWcu(API_KEY_COSTS.lastUsed.plan) });
    expect(plan.peakUnitsPerSecond.reads.table - without.peakUnitsPerSecond.reads.table).toBeCloseTo(3 * perKey, 2);
    // Keys add reads only: the sale's writes are the same.
    expect(plan.peakUnitsPerSecond.writes).toEqual(without.peakUnitsPerSecond.writes);
    expect(plan.hottestPartition.withinLimits).toBe(true);
    const text = await tsx('scripts/capacity.ts', ['--claims-per-second', '20000', '--api-keys', '3']);
    expect(text.stdout).toMatch(/API key item \(table\)\s+\S+ RCU\/s each/);
  });

  it('answers --help, and refuses unknown or bad options with exit code 2', async () => {
    const help = await tsx('scripts/capacity.ts', ['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('--claims-per-second');
    for (const args of [[], ['--claims-per-second', 'lots'], ['--claims-per-second', '10', '--shards', '100'], ['--claims-per-second', '10', '--nope']]) {
      const r = await tsx('scripts/capacity.ts', args);
      expect(r.code, args.join(' ')).toBe(2);
    }
  });

  it('agrees with what bench/cost.ts measures: per operation, per store, and per book shard', { timeout: 300_000 }, async () => {
    const shards = 4;
    const users = 40;
    const r = await tsx('bench/cost.ts', ['--codes', '60', '--users', String(users), '--clients', '4', '--shards', String(shards), '--repeat', '1'], {
      DYNAMODB_ENDPOINT: inject('dynamoDbEndpoint'),
    });
    expect(r.code, r.stderr).toBe(0);
    const measured = JSON.parse(r.stdout);
    // The sale: every user claims once, then checks out once; the plan for that many per second
    // predicts one second of it.
    const plan = planCapacity({ claimsPerSecond: users, checkoutsPerSecond: users, shards });
    // bench/cost.ts runs no stream consumer: it measures the requests' share (test/cost.test.ts pins the consumers').
    expect(measured.operations.claimCapped.wcu).toBe(plan.cost.perClaim.requestWcu);
    expect(measured.operations.lock.wcu + measured.operations.redeem.wcu).toBe(plan.cost.perCheckout.requestWcu);
    const sale = measured.flashSale;
    expect(sale.failures).toBe(0);
    expect(sale.stores.table.wcu).toBe(plan.peakUnitsPerSecond.requestWrites.table);
    expect(sale.stores.pool.wcu).toBe(plan.peakUnitsPerSecond.writes.pool);
    expect(sale.stores.byOwner.wcu).toBe(plan.peakUnitsPerSecond.writes.byOwner);
    // Shards: the average stats shard is exactly the plan's; the hottest, picked at random, near it.
    const stats = sale.stores.table.bookShardKeys;
    expect(stats.keys).toBe(shards);
    expect(stats.wcu / shards).toBeCloseTo(plan.hottestPartition.keys.statsShard.wcuPerSecond, 5);
    expect(stats.hottestShare).toBeLessThan(1.6 / shards);
    expect(sale.stores.pool.bookShardKeys.keys).toBe(shards);
    expect(sale.stores.pool.bookShardKeys.wcu / shards).toBeCloseTo(plan.hottestPartition.keys.poolPartition.wcuPerSecond, 5);
  });
});
