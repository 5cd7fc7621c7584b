import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from 'vitest';
import { createCouponClient, unwrap, type InferRequestType } from '@coupons/client';
import { admin, answer, bookStats, bookWithCodes, expectError, service, startTestApi, user, type TestApi, type TestClient } from './support/harness.ts';
import { expectInvariants } from './support/invariants.ts';

// POST /redemptions/{redemptionId}/rollback over real HTTP against DynamoDB
// Local: the success, every error, and races (rollbacks of one redemption;
// rollbacks against redeems), each checked against a scan of the table.
let api: TestApi;
beforeAll(async () => {
  api = await startTestApi('rollback');
});
afterAll(() => api.close());

type RollbackBody = InferRequestType<TestClient['redemptions'][':redemptionId']['rollback']['$post']>['json'];
type RedeemBody = InferRequestType<TestClient['coupons']['redeem'][':code']['$post']>['json'];
const rollback = (redemptionId: string, token: string, json: RollbackBody = {}, headers?: Record<string, string>) =>
  answer(api.client(token).redemptions[':redemptionId'].rollback.$post({ param: { redemptionId }, json }, headers && { headers }));
const redeem = (code: string, token: string, json: RedeemBody) => answer(api.client(token).coupons.redeem[':code'].$post({ param: { code }, json }));
/** What the typed client cannot send: no body at all, or a malformed one. */
const rollbackRaw = (redemptionId: string, token: string, body?: unknown) => api.call('POST', `/redemptions/${redemptionId}/rollback`, { token, body });

const itemsOf = async (code: string) => (await api.scan()).filter((i) => i.code === code);
const stats = (bookId: string) => bookStats(api, bookId);

/** A user holding a code of a new book, redeemed `times` times; answers the redemption ids. */
async function redeemed(userId: string, times = 1, book: Record<string, unknown> = {}) {
  const { book: b } = await bookWithCodes(api, 1, { maxRedemptionsPerUser: Math.max(times, 1), ...book });
  const token = await user(userId);
  const claim = await answer(api.client(token).coupons.assign.$post({ json: { bookId: b.id } }));
  expect(claim.status).toBe(201);
  const ids: string[] = [];
  for (let i = 0; i < times; i++) {
    const r = await redeem(claim.json.code, token, { orderId: `order-${i}` });
    expect(r.status).toBe(200);
    ids.push(r.json.redemptionId);
  }
  return { book: b, token, code: claim.json.code as string, ids };
}

describe('POST /redemptions/{redemptionId}/rollback', () => {
  it('gives the redemption back: 200 code view + redemptionId + rolledBackAt; the code is active and redeemable again; the record stays, marked', async () => {
    const { book, token, code, ids } = await redeemed('rb-1');
    expect(await stats(book.id)).toMatchObject({ redeemed: 1 });
    const before = Date.now();
    const r = await rollback(ids[0]!, await service(), { reason: 'order-0 cancelled' });
    expect(r.status).toBe(200);
    expect(r.json).toEqual({
      code,
      bookId: book.id,
      userId: 'rb-1',
      status: 'active',
      assignedAt: expect.any(String),
      redemptionCount: 0,
      maxRedemptions: 1,
      redemptionId: ids[0],
      rolledBackAt: expect.any(String),
    });
    expect(Date.parse(r.json.rolledBackAt)).toBeGreaterThanOrEqual(before - 1000);
    expect(await stats(book.id)).toMatchObject({ redeemed: 0, assigned: 1 });

    const items = await itemsOf(code);
    const record = items.find((i) => i.__edb_e__ === 'redemption');
    expect(record).toMatchObject({ redemptionId: ids[0], orderId: 'order-0', rolledBackAt: r.json.rolledBackAt, rolledBackBy: 'svc-1', rollbackReason: 'order-0 cancelled' });
    expect(items.find((i) => i.__edb_e__ === 'code')).toMatchObject({ redemptionCount: 0, lastChange: { type: 'rolledBack', by: 'svc-1', redemptionId: ids[0], orderId: 'order-0' } });

    // Redeemable again: the per-customer limit no longer counts the cancelled order.
    const again = await redeem(code, token, { orderId: 'order-1' });
    expect(again.status).toBe(200);
    expect(again.json).toMatchObject({ status: 'redeemed', redemptionCount: 1 });
    await expectInvariants(api);
  });

  it('an admin may roll back without a body; a second rollback is 409 REDEMPTION_ALREADY_ROLLED_BACK and changes nothing', async () => {
    const { book, code, ids } = await redeemed('rb-2');
    expect((await rollbackRaw(ids[0]!, await admin())).status).toBe(200);
    const before = await itemsOf(code);
    expectError(await rollback(ids[0]!, await admin(), {}), 409, 'REDEMPTION_ALREADY_ROLLED_BACK');
    expect(await itemsOf(code)).toEqual(before);
    expect(await stats(book.id)).toMatchObject({ redeemed: 0 });
  });

  it('an unknown redemption, an id this service did not make, or another tenant’s: 404 REDEMPTION_NOT_FOUND', async () => {
    const { code, ids } = await redeemed('rb-3');
    expectError(await rollback(`${code}.00000000-0000-4000-8000-000000000000`, await admin()), 404, 'REDEMPTION_NOT_FOUND');
    expectError(await rollback('00000000-0000-4000-8000-000000000000', await admin()), 404, 'REDEMPTION_NOT_FOUND');
    expectError(await rollback('NO-SUCH-CODE.00000000-0000-4000-8000-000000000000', await admin()), 404, 'REDEMPTION_NOT_FOUND');
    const before = await itemsOf(code);
    expectError(await rollback(ids[0]!, await admin('t2')), 404, 'REDEMPTION_NOT_FOUND');
    expectError(await rollback(ids[0]!, await service('t2')), 404, 'REDEMPTION_NOT_FOUND');
    expect(await itemsOf(code)).toEqual(before);
  });

  it('a user token is 403, even the holder’s; no token is 401', async () => {
    const { token, code, ids } = await redeemed('rb-4');
    const before = await itemsOf(code);
    expectError(await rollback(ids[0]!, token), 403, 'FORBIDDEN');
    expectError(await rollback(ids[0]!, await user('someone-else')), 403, 'FORBIDDEN');
    expectError(await answer(api.client().redemptions[':redemptionId'].rollback.$post({ param: { redemptionId: ids[0]! }, json: {} })), 401, 'UNAUTHENTICATED');
    expect(await itemsOf(code)).toEqual(before);
  });

  it('a reason longer than 500 characters or an unknown field is 400 VALIDATION_FAILED; bad JSON is 400 MALFORMED_JSON', async () => {
    const { code, ids } = await redeemed('rb-5');
    const before = await itemsOf(code);
    expectError(await rollback(ids[0]!, await admin(), { reason: 'x'.repeat(501) }), 400, 'VALIDATION_FAILED');
    expectError(await rollbackRaw(ids[0]!, await admin(), { reason: 'ok', extra: 1 }), 400, 'VALIDATION_FAILED');
    expectError(await rollbackRaw(ids[0]!, await admin(), { reason: 42 }), 400, 'VALIDATION_FAILED');
    expectError(await api.call('POST', `/redemptions/${ids[0]}/rollback`, { token: await admin(), raw: '{"reason":' }), 400, 'MALFORMED_JSON');
    expect(await itemsOf(code)).toEqual(before);
    expect((await rollback(ids[0]!, await admin(), { reason: 'y'.repeat(500) })).status).toBe(200);
  });

  it('Idempotency-Key: a retry answers the first response and rolls back nothing more; the key with another body is 422', async () => {
    const { book, code, ids } = await redeemed('rb-6', 2);
    const token = await service();
    const headers = { 'Idempotency-Key': `rb-6-${ids[0]}` };
    const first = await rollback(ids[0]!, token, { reason: 'cancelled' }, headers);
    expect(first.status).toBe(200);
    const retry = await rollback(ids[0]!, token, { reason: 'cancelled' }, headers);
    expect(retry.status).toBe(200);
    expect(retry.json).toEqual(first.json);
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    expectError(await rollback(ids[0]!, token, { reason: 'other' }, headers), 422, 'IDEMPOTENCY_KEY_REUSED');
    expect(await stats(book.id)).toMatchObject({ redeemed: 1 });
    expect((await itemsOf(code)).find((i) => i.__edb_e__ === 'code')?.redemptionCount).toBe(1);
    await expectInvariants(api);
  });
});

describe('rollback under real concurrency, checked against the table', () => {
  it('12 concurrent rollbacks of one redemption: exactly one wins, eleven 409, the count went down once', async () => {
    const { book, code, ids } = await redeemed('rb-race', 2);
    const tokens = await Promise.all(Array.from({ length: 12 }, (_, i) => (i % 2 ? admin() : service(undefined, `svc-${i}`))));
    const results = await Promise.all(tokens.map((t) => rollback(ids[0]!, t, { reason: 'race' })));
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    for (const r of results.filter((r) => r.status !== 200)) expectError(r, 409, 'REDEMPTION_ALREADY_ROLLED_BACK');
    const items = await itemsOf(code);
    expect(items.find((i) => i.__edb_e__ === 'code')?.redemptionCount).toBe(1);
    expect(items.filter((i) => i.__edb_e__ === 'redemption' && i.rolledBackAt)).toHaveLength(1);
    expect(await stats(book.id)).toMatchObject({ redeemed: 1 });
    await expectInvariants(api);
  });

  it('rollbacks racing redeems on a code with a cap of 3: the count never leaves 0..3, and count = records not rolled back', async () => {
    const { book, token, code, ids } = await redeemed('rb-mix', 3, { maxRedemptionsPerUser: 3 });
    // At the cap: 3 rollbacks race 9 redeems. Whatever interleaving DynamoDB picks, conditions keep the count in range.
    const svc = await service();
    const ops = [
      ...ids.map((id) => () => rollback(id, svc, { reason: 'mix' })),
      ...Array.from({ length: 9 }, (_, i) => () => redeem(code, token, { orderId: `mix-${i}` })),
    ];
    const results = await Promise.all(ops.map((op) => op()));
    const rolled = results.slice(0, 3);
    const redeems = results.slice(3);
    for (const r of rolled) expect(r.status).toBe(200);
    for (const r of redeems) if (r.status !== 200) expectError(r, 409, 'REDEMPTION_LIMIT_REACHED');
    const won = redeems.filter((r) => r.status === 200).length;
    expect(won).toBeLessThanOrEqual(3);
    const codeNow = (await itemsOf(code)).find((i) => i.__edb_e__ === 'code')!;
    expect(codeNow.redemptionCount).toBe(won);
    expect(await stats(book.id)).toMatchObject({ redeemed: won });
    await expectInvariants(api);
    // However many won the race, exactly the rest of the cap is left: 3 - won more redeems, then the limit.
    const after = [];
    for (let i = 0; i < 4; i++) after.push((await redeem(code, token, { orderId: `after-${i}` })).status);
    expect(after).toEqual([...Array(3 - won).fill(200), ...Array(1 + won).fill(409)]);
  });

  it('a redeem racing the rollback of the last redemption at the cap never exceeds it', async () => {
    for (let round = 0; round < 3; round++) {
      const { token, code, ids } = await redeemed(`rb-edge-${round}`, 1);
      const [rb, ...rs] = await Promise.all([
        rollback(ids[0]!, await service(), {}),
        ...Array.from({ length: 4 }, () => redeem(code, token, {})),
      ]);
      expect(rb!.status).toBe(200);
      const won = rs.filter((r) => r.status === 200).length;
      expect(won).toBeLessThanOrEqual(1);
      expect((await itemsOf(code)).find((i) => i.__edb_e__ === 'code')?.redemptionCount).toBe(won);
    }
    await expectInvariants(api);
  });
});

describe('through the typed client (hc<AppType> infers both routes)', () => {
  it('rolls back a redemption and reads the code with its history', async () => {
    const { code, ids } = await redeemed('rb-client');
    // The client as integrators make it (retries, a key on every POST), on a base URL with a trailing slash.
    const client = createCouponClient(`${api.base}/`, { token: await service() });
    const rolled = await unwrap(client.redemptions[':redemptionId'].rollback.$post({ param: { redemptionId: ids[0]! }, json: { reason: 'client' } }));
    expectTypeOf(rolled.rolledBackAt).toEqualTypeOf<string>();
    expect(rolled).toMatchObject({ code, redemptionId: ids[0], redemptionCount: 0 });
    const details = await unwrap(client.coupons.codes[':code'].$get({ param: { code }, query: {} }));
    expectTypeOf(details.history).toBeArray();
    expect(details).toMatchObject({ code, status: 'active' });
  });
});
