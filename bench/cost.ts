/**
 * Cost benchmark (not a test; CI runs a small one in test/capacity.test.ts):
 * what each operation costs in DynamoDB request units, and where a flash
 * sale's writes land, counted by the cost meter (packages/core/src/cost), an
 * AWS SDK middleware that sees every request the service sends.
 *
 *   npx tsx bench/cost.ts                       # 20,000 codes, 2,000 users, 64 clients, 16 shards
 *   npx tsx bench/cost.ts --codes 400 --users 200 --clients 8 --shards 4
 *   npx tsx bench/cost.ts --all-keys            # every partition key's share, not only the hottest
 *
 * DynamoDB: DYNAMODB_ENDPOINT when set, else its own DynamoDB Local. Prints
 * one JSON object on stdout: `operations` (per operation: requests, wcu,
 * rcu, averaged over `--repeat` runs) and `flashSale` (one book; every user
 * claims one code, then locks and redeems it; per partition key of the
 * table and of each index: WCU and share of that store's writes).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { CostMeter, tableDefinition, totals, writesByKey, type RequestCharge } from '@coupons/core';
import { apiClient, replyOf, type Reply } from './lib/http.ts';
import { logger, round as roundTo } from './lib/measure.ts';
import { serveApi, startDynamo, tokenFor } from './lib/service.ts';

const { values: opts } = parseArgs({
  strict: true,
  options: {
    codes: { type: 'string', default: '20000' },
    users: { type: 'string', default: '2000' },
    clients: { type: 'string', default: '64' },
    shards: { type: 'string', default: '16' },
    repeat: { type: 'string', default: '5' },
    'all-keys': { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (opts.help) {
  process.stdout.write('Usage: npx tsx bench/cost.ts [--codes 20000] [--users 2000] [--clients 64] [--shards 16] [--repeat 5] [--all-keys]\n');
  process.exit(0);
}
const int = (name: keyof typeof opts, min: number) => {
  const n = Number(opts[name]);
  if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer ≥ ${min}`);
  return n;
};
const CODES = int('codes', 1);
const USERS = int('users', 1);
const CLIENTS = int('clients', 1);
const SHARDS = int('shards', 1);
const REPEAT = int('repeat', 1);
if (USERS > CODES) throw new Error('--users must not exceed --codes: every user claims one code');

const log = logger('cost');
const TENANT = 'cost';
const round = (n: number, d = 3) => roundTo(n, d);

async function main() {
  // DYNAMODB_ENDPOINT when set, else a DynamoDB Local of its own.
  const dynamo = await startDynamo({ external: true });
  const table = `bench-cost-${randomUUID().slice(0, 8)}`;
  // The meter's own before/after reads go through the run's client, not the service's.
  const meter = new CostMeter(tableDefinition(table), dynamo.rawClient);
  const api = await serveApi(dynamo, table, { env: { RATE_LIMIT_CALLER_PER_MINUTE: '0' }, instrument: (c) => meter.attach(c) });
  const token = (sub: string, role: 'admin' | 'user') => tokenFor(sub, role, TENANT);
  const as = (tok: string) => apiClient(api.base, tok).coupons;
  const admin = await token('cost-admin', 'admin');
  // A network failure (a loaded machine resets a socket now and then) answers status 0: the sale counts it as a failure.
  const must = async (p: Promise<Reply>, status: number) => {
    const r = await p;
    if (r.status !== status) throw new Error(`expected ${status}, got ${r.status} ${JSON.stringify(r.json).slice(0, 300)}`);
    return r.json;
  };
  const newBook = async (body: object, codes: number) => {
    const book = await must(replyOf(as(admin).$post({ json: { name: 'bench', shards: SHARDS, ...body } })), 201);
    for (let i = 0; i < codes; i += 5000) {
      const chunk = Array.from({ length: Math.min(5000, codes - i) }, (_, j) => `K-${randomBytes(5).toString('hex').toUpperCase()}-${i + j}`);
      await must(replyOf(as(admin).codes.$post({ json: { bookId: book.id, codes: chunk } })), 200);
    }
    return book.id as string;
  };
  const claim = (u: string, bookId: string, lock?: boolean) => replyOf(as(u).assign.$post({ json: { bookId, ...(lock ? { lock } : {}) } }));
  const onCode = (action: 'lock' | 'unlock' | 'redeem', u: string, code: string, json: { lockId?: string } = {}) =>
    replyOf(as(u)[action][':code'].$post({ param: { code }, json }));

  try {
    // ------------------------------------------------ per operation
    const perOp: Record<string, RequestCharge[][]> = {};
    const record = async (name: string, run: () => Promise<unknown>) => {
      meter.take();
      await run();
      perOp[name] ??= [];
      perOp[name].push(meter.take());
    };
    meter.enabled = false;
    const capped = await newBook({ maxCodesPerUser: 3 }, 3 * REPEAT);
    const uncapped = await newBook({}, REPEAT);
    const soldOut = await newBook({}, 1);
    meter.enabled = true;
    await record('createBook', () => must(replyOf(as(admin).$post({ json: { name: 'priced', shards: SHARDS } })), 201));
    const uploadBook = (await must(replyOf(as(admin).$post({ json: { name: 'upload', shards: SHARDS } })), 201)).id;
    await record('upload100Codes', () =>
      must(replyOf(as(admin).codes.$post({ json: { bookId: uploadBook, codes: Array.from({ length: 100 }, (_, i) => `UP-${randomBytes(4).toString('hex')}-${i}`) } })), 200),
    );
    await must(claim(await token('first', 'user'), soldOut), 201);
    for (let i = 0; i < REPEAT; i++) {
      const u = await token(`op-${i}`, 'user');
      const claimed = await (async () => {
        let c: any;
        await record('claimCapped', async () => (c = await must(claim(u, capped), 201)));
        return c;
      })();
      await record('claimAndLockCapped', () => must(claim(u, capped, true), 201));
      await record('claimUncapped', () => must(claim(u, uncapped), 201));
      await record('lock', () => must(onCode('lock', u, claimed.code), 200));
      await record('unlock', () => must(onCode('unlock', u, claimed.code), 200));
      await record('redeem', () => must(onCode('redeem', u, claimed.code), 200));
      await record('soldOutClaim', () => must(claim(u, soldOut), 409));
      await record('codeNotFound', () => must(onCode('redeem', u, `NOPE-${i}`), 404));
    }
    const operations = Object.fromEntries(
      Object.entries(perOp).map(([name, runs]) => {
        const t = runs.map(totals);
        const avg = (k: 'requests' | 'wcu' | 'rcu') => round(t.reduce((s, x) => s + x[k], 0) / t.length);
        return [name, { requests: avg('requests'), wcu: avg('wcu'), rcu: avg('rcu'), runs: runs.length }];
      }),
    );
    log(`operations: ${JSON.stringify(operations)}`);

    // ------------------------------------------------ flash sale
    meter.enabled = false;
    const t0 = performance.now();
    const sale = await newBook({ maxCodesPerUser: 1 }, CODES);
    const users = await Promise.all(Array.from({ length: USERS }, (_, i) => token(`fan-${i}`, 'user')));
    log(`flash sale: ${CODES} codes loaded in ${Math.round(performance.now() - t0)} ms; ${USERS} users, ${CLIENTS} clients`);
    meter.enabled = true;
    meter.take();
    let next = 0;
    let failures = 0;
    const t1 = performance.now();
    await Promise.all(
      Array.from({ length: CLIENTS }, async () => {
        while (next < USERS) {
          const u = users[next++]!;
          const c = await claim(u, sale);
          if (c.status !== 201) {
            failures++;
            continue;
          }
          const l = await onCode('lock', u, c.json.code);
          const r = l.status === 200 ? await onCode('redeem', u, c.json.code, { lockId: l.json.lockId }) : l;
          if (r.status !== 200) failures++;
        }
      }),
    );
    const records = meter.take();
    log(`flash sale: ${USERS} checkouts in ${Math.round(performance.now() - t1)} ms, ${failures} failed`);

    const byKey = writesByKey(records);
    const bookPrefix = `T#${TENANT}#BOOK#${sale}#`;
    const stores = Object.fromEntries(
      Object.entries(byKey).map(([store, keys]) => {
        const total = [...keys.values()].reduce((s, x) => s + x, 0);
        const ranked = [...keys.entries()].sort((a, b) => b[1] - a[1]).map(([pk, wcu]) => ({ pk, wcu, share: round(wcu / total, 4) }));
        // The keys every user of the book writes: its stats shards (table) and pool partitions (pool index).
        const shared = ranked.filter((k) => k.pk.startsWith(bookPrefix));
        const sharedTotal = shared.reduce((s, k) => s + k.wcu, 0);
        return [
          store,
          {
            keys: ranked.length,
            wcu: total,
            hottest: ranked.slice(0, 5),
            bookShardKeys: shared.length
              ? {
                  keys: shared.length,
                  wcu: sharedTotal,
                  hottestShare: round(shared[0]!.wcu / sharedTotal, 4),
                  idealShare: round(1 / SHARDS, 4),
                  shares: shared.map((k) => ({ pk: k.pk.slice(bookPrefix.length), wcu: k.wcu, share: round(k.wcu / sharedTotal, 4) })),
                }
              : undefined,
            ...(opts['all-keys'] ? { all: ranked } : {}),
          },
        ];
      }),
    );
    const t = totals(records);
    const result = {
      operations,
      flashSale: {
        codes: CODES,
        users: USERS,
        clients: CLIENTS,
        shards: SHARDS,
        checkouts: USERS - failures,
        failures,
        requests: t.requests,
        refusedRequests: t.refused,
        wcu: t.wcu,
        rcu: t.rcu,
        stores,
      },
    };
    process.stdout.write(`${JSON.stringify(result)}\n`);
    return true;
  } finally {
    await api.close();
    await dynamo.stop();
  }
}

main().then(
  (ok) => process.exit(ok ? 0 : 1),
  (e) => {
    process.stderr.write(`${(e as Error).stack ?? e}\n`);
    process.exit(1);
  },
);
