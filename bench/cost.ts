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
import type { AddressInfo } from 'node:net';
import { CostMeter, createDynamoDbClient, ensureTable, tableDefinition, totals, writesByKey, type RequestCharge } from '@coupons/core';
import { createApp, createCoreContext, startServer } from '@coupons/api';
import { startDynamoDbLocal } from '../scripts/lib/dynamodb-local.ts';
import { mintToken } from '../scripts/lib/tokens.ts';

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

const log = (msg: string) => process.stderr.write(`[bench:cost] ${msg}\n`);
const SECRET = `bench-secret-${randomBytes(16).toString('hex')}`;
const TENANT = 'cost';
const round = (n: number, d = 3) => Math.round(n * 10 ** d) / 10 ** d;

async function main() {
  const external = process.env.DYNAMODB_ENDPOINT;
  const ddb = external ? { endpoint: external, stop: async () => undefined } : await startDynamoDbLocal();
  const table = `bench-cost-${randomUUID().slice(0, 8)}`;
  const env = { DYNAMODB_ENDPOINT: ddb.endpoint, TABLE_NAME: table, AWS_REGION: 'us-east-1', RATE_LIMIT_CALLER_PER_MINUTE: '0' };
  const shadow = createDynamoDbClient({ DYNAMODB_ENDPOINT: ddb.endpoint, AWS_REGION: 'us-east-1' });
  await ensureTable(shadow, table);
  const meter = new CostMeter(tableDefinition(table), shadow);
  const app = createApp({ core: createCoreContext(env, undefined, { instrument: (c) => meter.attach(c), logLines: [] }), auth: { hs256Secret: SECRET } });
  const server = await startServer(app, 0, '127.0.0.1');
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const token = (sub: string, role: 'admin' | 'user') => mintToken(SECRET, { sub, tenant: TENANT, role });
  // A network failure (a loaded machine resets a socket now and then) answers status 0: the sale counts it as a failure.
  const call = async (method: string, path: string, tok: string, body?: unknown) => {
    try {
      const res = await fetch(base + path, {
        method,
        headers: { authorization: `Bearer ${tok}`, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: res.status, json: (await res.json()) as any };
    } catch (e) {
      log(`${method} ${path}: ${(e as Error).message} (${String((e as any).cause?.code ?? (e as any).cause ?? '')})`);
      return { status: 0, json: undefined as any };
    }
  };
  const admin = await token('cost-admin', 'admin');
  const must = async (p: Promise<{ status: number; json: any }>, status: number) => {
    const r = await p;
    if (r.status !== status) throw new Error(`expected ${status}, got ${r.status} ${JSON.stringify(r.json).slice(0, 300)}`);
    return r.json;
  };
  const newBook = async (body: object, codes: number) => {
    const book = await must(call('POST', '/coupons', admin, { name: 'bench', shards: SHARDS, ...body }), 201);
    for (let i = 0; i < codes; i += 5000) {
      const chunk = Array.from({ length: Math.min(5000, codes - i) }, (_, j) => `K-${randomBytes(5).toString('hex').toUpperCase()}-${i + j}`);
      await must(call('POST', '/coupons/codes', admin, { bookId: book.id, codes: chunk }), 200);
    }
    return book.id as string;
  };

  try {
    // ------------------------------------------------ per operation
    const perOp: Record<string, RequestCharge[][]> = {};
    const record = async (name: string, run: () => Promise<unknown>) => {
      meter.take();
      await run();
      (perOp[name] ??= []).push(meter.take());
    };
    meter.enabled = false;
    const capped = await newBook({ maxCodesPerUser: 3 }, 3 * REPEAT);
    const uncapped = await newBook({}, REPEAT);
    const soldOut = await newBook({}, 1);
    meter.enabled = true;
    await record('createBook', () => must(call('POST', '/coupons', admin, { name: 'priced', shards: SHARDS }), 201));
    const uploadBook = (await must(call('POST', '/coupons', admin, { name: 'upload', shards: SHARDS }), 201)).id;
    await record('upload100Codes', () =>
      must(call('POST', '/coupons/codes', admin, { bookId: uploadBook, codes: Array.from({ length: 100 }, (_, i) => `UP-${randomBytes(4).toString('hex')}-${i}`) }), 200),
    );
    await must(call('POST', '/coupons/assign', await token('first', 'user'), { bookId: soldOut }), 201);
    for (let i = 0; i < REPEAT; i++) {
      const u = await token(`op-${i}`, 'user');
      const claimed = await (async () => {
        let c: any;
        await record('claimCapped', async () => (c = await must(call('POST', '/coupons/assign', u, { bookId: capped }), 201)));
        return c;
      })();
      await record('claimAndLockCapped', () => must(call('POST', '/coupons/assign', u, { bookId: capped, lock: true }), 201));
      await record('claimUncapped', () => must(call('POST', '/coupons/assign', u, { bookId: uncapped }), 201));
      await record('lock', () => must(call('POST', `/coupons/lock/${claimed.code}`, u, {}), 200));
      await record('unlock', () => must(call('POST', `/coupons/unlock/${claimed.code}`, u, {}), 200));
      await record('redeem', () => must(call('POST', `/coupons/redeem/${claimed.code}`, u, {}), 200));
      await record('soldOutClaim', () => must(call('POST', '/coupons/assign', u, { bookId: soldOut }), 409));
      await record('codeNotFound', () => must(call('POST', `/coupons/redeem/NOPE-${i}`, u, {}), 404));
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
          const c = await call('POST', '/coupons/assign', u, { bookId: sale });
          if (c.status !== 201) {
            failures++;
            continue;
          }
          const l = await call('POST', `/coupons/lock/${c.json.code}`, u, {});
          const r = l.status === 200 ? await call('POST', `/coupons/redeem/${c.json.code}`, u, { lockId: l.json.lockId }) : l;
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
    process.stdout.write(JSON.stringify(result) + '\n');
    return true;
  } finally {
    (server as any).closeAllConnections?.();
    await new Promise<void>((res) => server.close(() => res()));
    shadow.destroy();
    await ddb.stop();
  }
}

main().then(
  (ok) => process.exit(ok ? 0 : 1),
  (e) => {
    process.stderr.write(`${(e as Error).stack ?? e}\n`);
    process.exit(1);
  },
);
