import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installFaultInjection, METRIC_NAMESPACE, METRICS } from '@coupons/core';
import { flushMetrics, summaryLine, telemetryOf } from '@coupons/api';
import { admin, bookWithCodes, startTestApi, user, type TestApi } from './support/harness.ts';

// The business metrics, read the way CloudWatch reads them: the EMF lines the process writes,
// parsed, with their names, dimensions and values. A flash sale in miniature drives every count
// over real HTTP; the throttles are injected (DynamoDB Local never throttles: the one mocked part),
// and the lost race is made real: just before a claim's transaction, its picked code is claimed by
// name through the API, so the claim's own transaction is cancelled on the code.

let api: TestApi;
let lines: Record<string, any>[];
const T = 't1';
const users = { thief: 'm-thief', racer: 'm-racer', holder: 'm-holder', late: 'm-late', replayer: 'm-replayer', flooder: 'm-flooder', throttled: 'm-throttled' };
let codes: string[] = [];

/** The value a metric has in the lines for exactly these dimensions (besides the stage); 0 when absent. */
function metricValue(name: string, dimensions: Record<string, string> = {}): number | number[] {
  const want = { stage: 'local', ...dimensions };
  const found = lines.filter((l) => {
    const declared = l._aws.CloudWatchMetrics[0].Dimensions as string[][];
    const keys = Object.keys(want).sort();
    return name in l && declared.some((set) => [...set].sort().join() === keys.join()) && keys.every((k) => l[k] === want[k as keyof typeof want]);
  });
  const values = found.flatMap((l) => (Array.isArray(l[name]) ? l[name] : [l[name]]));
  return METRICS[name as keyof typeof METRICS].unit === 'Count' ? values.reduce((a: number, b: number) => a + b, 0) : values;
}

beforeAll(async () => {
  api = await startTestApi('metrics', { RATE_LIMIT_CALLER_PER_MINUTE: '5' });
  const post = (path: string, token: string, body?: unknown, headers?: Record<string, string>) => api.call('POST', path, { token, body, headers });
  flushMetrics(api.core); // nothing before the sale
  const summaryWindow = telemetryOf(api.core).metrics.window();

  // A lost race: the racer's picked code is taken by name between its pick and its transaction.
  const three = await bookWithCodes(api, 3);
  codes = three.codes;
  let armed = true;
  api.core.store.client.middlewareStack.add(
    (next, context) => async (args) => {
      const items = (args.input as { TransactItems?: { Update?: { Key?: Record<string, any> } }[] }).TransactItems ?? [];
      const pk = items.map((i) => i.Update?.Key?.pk).find((k) => typeof k === 'string' && k.includes('#CODE#'));
      if (armed && (context as { commandName?: string }).commandName === 'TransactWriteItemsCommand' && pk) {
        armed = false;
        const code = pk.split('#CODE#')[1];
        const stolen = await post(`/coupons/assign/${code}`, await admin(), { userId: users.thief });
        expect(stolen.status).toBe(201);
      }
      return next(args);
    },
    { step: 'initialize', name: 'stealPickedCode' },
  );
  expect((await post('/coupons/assign', await user(users.racer), { bookId: three.book.id })).status).toBe(201);
  expect(armed).toBe(false);

  // An idempotent replay: the same claim sent twice under one key.
  const replayer = await user(users.replayer);
  const key = { 'Idempotency-Key': 'metrics-replay-1' };
  expect((await post('/coupons/assign', replayer, { bookId: three.book.id }, key)).status).toBe(201);
  const again = await post('/coupons/assign', replayer, { bookId: three.book.id }, key);
  expect(again.headers.get('idempotent-replayed')).toBe('true');

  // Sold out, a lock conflict, a redemption and its rollback.
  const one = await bookWithCodes(api, 1);
  const holder = await user(users.holder);
  const claim = await post('/coupons/assign', holder, { bookId: one.book.id });
  expect(claim.status).toBe(201);
  expect((await post('/coupons/assign', await user(users.late), { bookId: one.book.id })).json.error.code).toBe('BOOK_EXHAUSTED');
  const lock = await post(`/coupons/lock/${claim.json.code}`, holder, { ttlSeconds: 60 });
  expect((await post(`/coupons/redeem/${claim.json.code}`, holder, { lockId: randomUUID(), orderId: 'o-1' })).json.error.code).toBe('CODE_LOCKED');
  const redeemed = await post(`/coupons/redeem/${claim.json.code}`, holder, { lockId: lock.json.lockId, orderId: 'o-1' });
  expect(redeemed.status).toBe(200);
  expect((await post(`/redemptions/${encodeURIComponent(redeemed.json.redemptionId)}/rollback`, await admin(), { reason: 'refund' })).status).toBe(200);

  // Five sold-out answers, then the caller's limit (5 a minute): 429.
  const flooder = await user(users.flooder);
  for (let i = 0; i < 5; i++) expect((await post('/coupons/assign', flooder, { bookId: one.book.id })).status).toBe(409);
  expect((await post('/coupons/assign', flooder, { bookId: one.book.id })).json.error.code).toBe('RATE_LIMITED');

  // DynamoDB throttles every attempt of a claim's transaction: 503.
  const spare = await bookWithCodes(api, 1);
  const faults = installFaultInjection(api.core.store.client);
  faults.inject('Throttling', 8, 'TransactWriteItemsCommand');
  const throttled = await post('/coupons/assign', await user(users.throttled), { bookId: spare.book.id });
  faults.clear();
  expect(throttled.json.error.code).toBe('UNAVAILABLE');

  const summary = summaryLine(summaryWindow.drain(), 5);
  lines = flushMetrics(api.core).map((l) => JSON.parse(l));
  (globalThis as any).__summary = summary;
}, 60_000);
afterAll(() => api.close());

describe('business metrics as EMF lines', () => {
  it('are well-formed EMF: namespace, dimension sets naming keys the line carries, a unit per metric', () => {
    expect(lines.length).toBeGreaterThan(0);
    for (const l of lines) {
      const [directive] = l._aws.CloudWatchMetrics;
      expect(l._aws.Timestamp).toBeTypeOf('number');
      expect(directive.Namespace).toBe(METRIC_NAMESPACE);
      expect(directive.Dimensions).toContainEqual(['stage']);
      for (const set of directive.Dimensions) for (const d of set) expect(l[d], d).toBeTypeOf('string');
      for (const m of directive.Metrics) {
        expect(METRICS[m.Name as keyof typeof METRICS]?.unit, m.Name).toBe(m.Unit);
        expect(l[m.Name]).toBeDefined();
      }
    }
  });

  it('count what happened, by tenant and in total', () => {
    const expected = { Claims: 4, LostRaces: 1, SoldOut: 6, LockConflicts: 1, Redemptions: 1, Rollbacks: 1, IdempotentReplays: 1, RateLimited: 1, Throttled: 1 };
    for (const [name, n] of Object.entries(expected)) {
      expect(metricValue(name, { tenant: T }), `${name} for the tenant`).toBe(n);
      expect(metricValue(name), `${name} in total`).toBe(n);
    }
    expect(metricValue('ServerErrors')).toBe(1);
  });

  it('time every request by route template, never by path', () => {
    const claims = metricValue('Latency', { route: 'POST /coupons/assign' }) as number[];
    // racer, replayer twice, holder, late, flooder six times, throttled
    expect(claims).toHaveLength(12);
    // Milliseconds a request took: a finite, non-negative number, and some request took a measurable time.
    for (const ms of claims) expect(Number.isFinite(ms) && ms >= 0, String(ms)).toBe(true);
    expect(Math.max(...claims)).toBeGreaterThan(0);
    expect((metricValue('Latency', { route: 'POST /coupons/redeem/{code}' }) as number[]).length).toBe(2);
    expect(lines.some((l) => typeof l.route === 'string' && /\/coupons\/(redeem|lock)\/[A-Z]/.test(l.route))).toBe(false);
  });

  it('never carry a user, a code or a book: dimensions are only the declared, bounded ones', () => {
    const text = JSON.stringify(lines);
    for (const u of Object.values(users)) expect(text).not.toContain(u);
    for (const c of codes) expect(text).not.toContain(c);
    for (const l of lines) {
      const keys = new Set((l._aws.CloudWatchMetrics[0].Dimensions as string[][]).flat());
      for (const k of keys) expect(['stage', 'tenant', 'route', 'outcome']).toContain(k);
    }
  });

  it('are drained by a flush: the next one writes nothing new', () => {
    expect(flushMetrics(api.core)).toEqual([]);
  });

  it('read the same in the local summary line', () => {
    const summary: string = (globalThis as any).__summary;
    expect(summary).toMatch(/^metrics, last 5 s: claims 4 \(0\.8\/s\) · sold out 6 · lost races 1 · lock conflicts 1 · redemptions 1 · rollbacks 1 · replays 1 · 429 1 · 503 db 1 · 5xx 1 · p99 POST \/coupons\/assign \d+(\.\d)? ms/);
  });
});
