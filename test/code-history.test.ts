import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codeHistoryConsumer, lockCode, redeemCode, unlockCode, type ChangeFollower, type CoreContext, type TableChange } from '@coupons/core';
import { followChanges } from '@coupons/api';
import { admin, answer, bookWithCodes, expectError, service, startTestApi, uniqueCode, user, type TestApi } from './support/harness.ts';
import { expectInvariants } from './support/invariants.ts';

// GET /coupons/codes/{code}: the code view plus its history, which the
// change-stream consumer builds from each transition's own write. Over real
// HTTP against DynamoDB Local, with the local stream follower running the
// app's consumers, as `npm start` does.
let api: TestApi;
let follower: ChangeFollower;
beforeAll(async () => {
  api = await startTestApi('history', {}, { stream: true });
  follower = followChanges(api.core, { name: 'history-test', idleMs: 20 });
});
afterAll(async () => {
  await follower.stop();
  await api.close();
});

const details = async (code: string, token?: string) => answer(api.client(token ?? (await admin())).coupons.codes[':code'].$get({ param: { code }, query: {} }));
const historyTypes = async (code: string) => ((await details(code)).json.history ?? []).map((h: { type: string }) => h.type);

describe('GET /coupons/codes/{code}', () => {
  it('every transition of a code, oldest first, with who did it; it converges within 2 s of the last write', async () => {
    const { book } = await bookWithCodes(api, 1, { maxRedemptionsPerUser: 2, validUntil: '2099-01-01T00:00:00.000Z' });
    const alice = await user('alice');
    const svc = await service();
    const claim = await answer(api.client(alice).coupons.assign.$post({ json: { bookId: book.id, lock: true } }));
    expect(claim.status).toBe(201);
    const code = claim.json.code as string;
    expect((await answer(api.client(alice).coupons.unlock[':code'].$post({ param: { code }, json: { lockId: claim.json.lockId } }))).status).toBe(200);
    const lock = await answer(api.client(svc).coupons.lock[':code'].$post({ param: { code }, json: { userId: 'alice' } }));
    expect(lock.status).toBe(200);
    const redeem = await answer(api.client(svc).coupons.redeem[':code'].$post({ param: { code }, json: { userId: 'alice', lockId: lock.json.lockId, orderId: 'order-7' } }));
    expect(redeem.status).toBe(200);
    const rb = await answer(api.client(await admin()).redemptions[':redemptionId'].rollback.$post({ param: { redemptionId: redeem.json.redemptionId }, json: { reason: 'order-7 cancelled' } }));
    expect(rb.status).toBe(200);
    const lastWrite = Date.now();

    // A claim with `lock: true` is two steps: assigned, then locked, so the unlock that follows releases a lock on record.
    await expect.poll(() => historyTypes(code), { timeout: 2000, interval: 50 }).toEqual(['assigned', 'locked', 'unlocked', 'locked', 'redeemed', 'rolledBack']);
    expect(Date.now() - lastWrite).toBeLessThan(2000);
    const r = await details(code);
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ code, bookId: book.id, userId: 'alice', status: 'active', redemptionCount: 0, maxRedemptions: 2, validUntil: '2099-01-01T00:00:00.000Z' });
    expect(r.json.history).toEqual([
      { type: 'assigned', at: expect.any(String), by: 'alice', userId: 'alice' },
      { type: 'locked', at: expect.any(String), by: 'alice', userId: 'alice', lockId: claim.json.lockId },
      { type: 'unlocked', at: expect.any(String), by: 'alice', userId: 'alice', lockId: claim.json.lockId },
      { type: 'locked', at: expect.any(String), by: 'svc-1', userId: 'alice', lockId: lock.json.lockId },
      { type: 'redeemed', at: expect.any(String), by: 'svc-1', userId: 'alice', lockId: lock.json.lockId, redemptionId: redeem.json.redemptionId, orderId: 'order-7' },
      { type: 'rolledBack', at: rb.json.rolledBackAt, by: 'admin-1', userId: 'alice', redemptionId: redeem.json.redemptionId, orderId: 'order-7', reason: 'order-7 cancelled' },
    ]);
    const times = r.json.history.map((h: { at: string }) => Date.parse(h.at));
    expect([...times].sort((a, b) => a - b)).toEqual(times);
    // A service may read it too.
    expect((await details(code, svc)).status).toBe(200);
  });

  it('is in time order even when the instance making a change has a clock behind the one that made the change before', async () => {
    const { book } = await bookWithCodes(api, 1, { maxRedemptionsPerUser: 2 });
    const dave = await user('dave');
    const code = (await answer(api.client(dave).coupons.assign.$post({ json: { bookId: book.id } }))).json.code as string;
    const actor = { sub: 'dave', tenant: 't1', role: 'user' as const };
    // Two instances of the service over one table, the second's clock 300 ms behind the first's.
    const behind: CoreContext = { ...api.core, now: () => Date.now() - 300 };
    const locked = await lockCode(api.core, actor, code, {});
    await unlockCode(behind, actor, code, { lockId: locked.lockId });
    await lockCode(behind, actor, code, {}).then((l) => unlockCode(api.core, actor, code, { lockId: l.lockId }));
    await redeemCode(behind, actor, code, {});
    await expect.poll(async () => (await historyTypes(code)).length, { timeout: 2000, interval: 50 }).toBe(6);
    const times = (await details(code)).json.history.map((h: { at: string }) => Date.parse(h.at));
    expect([...times].sort((a, b) => a - b)).toEqual(times);
  });

  it('reads a long history a page at a time (?limit, ?cursor), oldest first, every entry once', async () => {
    const { book } = await bookWithCodes(api, 1);
    const erin = await user('erin');
    const code = (await answer(api.client(erin).coupons.assign.$post({ json: { bookId: book.id } }))).json.code as string;
    for (let i = 0; i < 5; i++) {
      const { lockId } = (await answer(api.client(erin).coupons.lock[':code'].$post({ param: { code }, json: {} }))).json;
      expect((await answer(api.client(erin).coupons.unlock[':code'].$post({ param: { code }, json: { lockId } }))).status).toBe(200);
    }
    await expect.poll(async () => (await historyTypes(code)).length, { timeout: 2000, interval: 50 }).toBe(11);
    const token = await admin();
    const pages: any[] = [];
    let cursor: string | null = null;
    do {
      const r = await api.call('GET', `/coupons/codes/${code}?limit=4${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, { token });
      expect(r.status).toBe(200);
      expect(r.json).toMatchObject({ code, userId: 'erin', status: 'active' });
      pages.push(r.json);
      cursor = r.json.nextCursor;
    } while (cursor && pages.length < 10);
    expect(pages.map((p) => p.history.length)).toEqual([4, 4, 3]);
    expect(pages.at(-1).nextCursor).toBeNull();
    const walked = pages.flatMap((p) => p.history);
    expect(walked).toEqual((await details(code)).json.history);
    expect(walked.map((h: { type: string }) => h.type)).toEqual(['assigned', ...Array(5).fill(['locked', 'unlocked']).flat()]);
    // Without `limit` a page is at most 100 entries; more than 1,000 is refused, as is a cursor this list did not make.
    expect((await details(code)).json.nextCursor).toBeNull();
    expectError(await api.call('GET', `/coupons/codes/${code}?limit=1001`, { token }), 400, 'VALIDATION_FAILED');
    expectError(await api.call('GET', `/coupons/codes/${code}?cursor=bm9wZQ`, { token }), 400, 'VALIDATION_FAILED');
  });

  it('an unassigned code reads status "available" with an empty history', async () => {
    const { book, codes } = await bookWithCodes(api, 1, { maxRedemptionsPerUser: 3 });
    const r = await details(codes[0]!);
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ code: codes[0], bookId: book.id, status: 'available', redemptionCount: 0, maxRedemptions: 3, history: [], nextCursor: null });
  });

  it('an unknown code, or another tenant’s, is 404 CODE_NOT_FOUND; a user token is 403, even the holder’s; none is 401', async () => {
    const { book } = await bookWithCodes(api, 1);
    const bob = await user('bob');
    const claim = await answer(api.client(bob).coupons.assign.$post({ json: { bookId: book.id } }));
    expectError(await details(uniqueCode('NOPE')), 404, 'CODE_NOT_FOUND');
    expectError(await details(claim.json.code, await admin('t2')), 404, 'CODE_NOT_FOUND');
    expectError(await details(claim.json.code, bob), 403, 'FORBIDDEN');
    expectError(await answer(api.client().coupons.codes[':code'].$get({ param: { code: claim.json.code }, query: {} })), 401, 'UNAUTHENTICATED');
    expectError(await details('a'), 400, 'VALIDATION_FAILED');
  });

  it('under real concurrency (locks, redeems, racing rollbacks) the history has exactly the transitions that committed, numbered without gaps', async () => {
    const { book } = await bookWithCodes(api, 1, { maxRedemptionsPerUser: 3 });
    const carol = await user('carol');
    const claim = await answer(api.client(carol).coupons.assign.$post({ json: { bookId: book.id } }));
    const code = claim.json.code as string;
    // Locks and redeems race: each that commits is one history entry, each refused one is none.
    const results = await Promise.all([
      ...Array.from({ length: 6 }, () => answer(api.client(carol).coupons.lock[':code'].$post({ param: { code }, json: {} }))),
      ...Array.from({ length: 6 }, (_, i) => answer(api.client(carol).coupons.redeem[':code'].$post({ param: { code }, json: { orderId: `o-${i}` } }))),
    ]);
    const locks = results.slice(0, 6).filter((r) => r.status === 200);
    const redeems = results.slice(6).filter((r) => r.status === 200);
    // Every redemption rolled back by two racing callers: one wins each, and only the winner is history.
    const rollbacks = await Promise.all(
      redeems.flatMap((r) => [admin(), service()].map(async (t) => answer(api.client(await t).redemptions[':redemptionId'].rollback.$post({ param: { redemptionId: r.json.redemptionId }, json: { reason: 'race' } })))),
    );
    const rolledBack = rollbacks.filter((r) => r.status === 200);
    expect(rolledBack).toHaveLength(redeems.length);
    const item = (await api.scan()).find((i) => i.__edb_e__ === 'code' && i.code === code)!;
    expect(item.changeSeq).toBe(1 + locks.length + redeems.length + rolledBack.length);
    await expect.poll(async () => (await historyTypes(code)).length, { timeout: 2000, interval: 50 }).toBe(item.changeSeq);
    const types = await historyTypes(code);
    expect(types[0]).toBe('assigned');
    expect(types.filter((t: string) => t === 'locked')).toHaveLength(locks.length);
    expect(types.filter((t: string) => t === 'redeemed')).toHaveLength(redeems.length);
    expect(types.filter((t: string) => t === 'rolledBack')).toHaveLength(rolledBack.length);
    const hist = (await api.scan()).filter((i) => i.__edb_e__ === 'codeHistory' && i.code === code).map((i) => i.seq);
    expect(hist).toEqual(Array.from({ length: item.changeSeq }, (_, i) => i + 1));
    // In time order: a write whose clock was read before a competing one committed is built again after it.
    const times = (await details(code)).json.history.map((h: { at: string }) => Date.parse(h.at));
    expect([...times].sort((a, b) => a - b)).toEqual(times);
    await expectInvariants(api);
  });
});

describe('the history consumer, fed changes directly', () => {
  const at = '2026-12-01T10:00:00.000Z';
  const image = (seq: number | undefined, last?: Record<string, unknown>) => ({
    __edb_e__: 'code',
    tenant: 't9',
    code: 'FED-1',
    bookId: 'b9',
    status: 'assigned',
    userId: 'u9',
    ...(seq !== undefined ? { changeSeq: seq } : {}),
    ...(last ? { lastChange: last } : {}),
  });
  const change = (before: Record<string, unknown> | undefined, after: Record<string, unknown>, n: number): TableChange => ({
    eventName: before ? 'MODIFY' : 'INSERT',
    keys: { pk: 'T#t9#CODE#FED-1', sk: 'CODE' },
    oldImage: before,
    newImage: after,
    sequenceNumber: String(n),
    at: 0,
  });

  it('writes one entry per transition under the code, skips other writes, and a replayed batch changes nothing', async () => {
    const consumer = codeHistoryConsumer(api.core.store);
    const batch = [
      change(undefined, image(undefined), 1), // the code's upload: no transition
      change(image(undefined), image(1, { type: 'assigned', at, by: 'u9', userId: 'u9' }), 2),
      change(image(1), image(2, { type: 'locked', at, by: 'svc', lockId: 'L' }), 3),
      change(image(2), { ...image(2), redemptionCount: 0 }, 4), // a write that is no transition
      change(image(2), image(3, { type: 'redeemed', at, by: 'svc', redemptionId: 'FED-1.r', orderId: 'o' }), 5),
    ];
    await consumer.handle(batch);
    const read = async () => (await api.scan()).filter((i) => i.__edb_e__ === 'codeHistory' && i.code === 'FED-1');
    const first = await read();
    expect(first.map((i) => [i.sk, i.type])).toEqual([
      ['HIST#0000000001', 'assigned'],
      ['HIST#0000000002', 'locked'],
      ['HIST#0000000003', 'redeemed'],
    ]);
    expect(first.every((i) => i.pk === 'T#t9#CODE#FED-1' && i.userId === 'u9')).toBe(true);
    await consumer.handle(batch);
    await consumer.handle(batch.slice(2));
    expect(await read()).toEqual(first);
  });

  it('gives a rollback\'s reason to the rollback only, even when its redemption is in the same batch', async () => {
    const consumer = codeHistoryConsumer(api.core.store);
    const redemptionId = 'FED-2.r';
    await api.core.store.redemption
      .create({ tenant: 't9', code: 'FED-2', redemptionId, bookId: 'b9', userId: 'u9', redeemedBy: 'svc', redeemedAt: at, rolledBackAt: at, rolledBackBy: 'adm', rollbackReason: 'order cancelled' })
      .go();
    const of = (item: Record<string, unknown>) => ({ ...item, code: 'FED-2' });
    const keyed = (c: TableChange): TableChange => ({ ...c, keys: { pk: 'T#t9#CODE#FED-2', sk: 'CODE' } });
    await consumer.handle([
      keyed(change(of(image(1)), of(image(2, { type: 'redeemed', at, by: 'svc', redemptionId })), 6)),
      keyed(change(of(image(2)), of(image(3, { type: 'rolledBack', at, by: 'adm', redemptionId })), 7)),
    ]);
    const entries = (await api.scan()).filter((i) => i.__edb_e__ === 'codeHistory' && i.code === 'FED-2');
    expect(entries.map((i) => [i.type, i.reason])).toEqual([
      ['redeemed', undefined],
      ['rolledBack', 'order cancelled'],
    ]);
  });
});
