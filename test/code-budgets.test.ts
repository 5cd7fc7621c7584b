import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import {
  assignRandomCode,
  createBook,
  lockCode,
  redeemCode,
  rollbackRedemption,
  unlockCode,
  uploadCodes,
  type Actor,
  type CoreContext,
} from '@coupons/core';
import { createCoreContext } from '@coupons/api';
import { startTestApi, type TestApi } from './support/harness.ts';
import { isWrite, itemBytes, meter, readCost, writeCost, type SentRequest } from './support/write-cost.ts';

// The write budget of every transition of a code, counted from the requests
// the service sends (not from what DynamoDB Local reports), without an
// Idempotency-Key and without the rate limiter (the use cases are called
// directly, as the routes call them). Realistic sizes: UUID users, books,
// subs and orders.
let api: TestApi;
let ctx: CoreContext;
let clock = Date.now();
let m: ReturnType<typeof meter>;

const tenant = 'budget-tenant';
const adminActor: Actor = { sub: randomUUID(), tenant, role: 'admin' };
const serviceActor: Actor = { sub: randomUUID(), tenant, role: 'service' };
const userActor = (): Actor => ({ sub: randomUUID(), tenant, role: 'user' });

/** Raw items in DynamoDB's wire form or the document client's: both become plain objects. */
const plain = (sent: SentRequest[]) =>
  sent.map((s) => {
    const fix = (x: any) => (x && typeof x === 'object' && Object.values(x).some((v: any) => v && typeof v === 'object' && ('S' in v || 'N' in v)) ? unmarshall(x) : x);
    const input = structuredClone(s.input);
    for (const t of input.TransactItems ?? []) for (const op of Object.values(t) as any[]) { if (op.Item) op.Item = fix(op.Item); if (op.Key) op.Key = fix(op.Key); }
    if (input.Item) input.Item = fix(input.Item);
    if (input.Key) input.Key = fix(input.Key);
    const output = s.output && { ...s.output, Items: s.output.Items?.map(fix), Item: s.output.Item && fix(s.output.Item) };
    return { ...s, input, output };
  });

/** Runs `op` alone and prices what it sent. */
async function measure<T>(op: () => Promise<T>) {
  const before = await api.scan();
  m.reset();
  const result = await op();
  const sent = plain(m.sent);
  const after = await api.scan();
  return { result, write: writeCost(sent, before, after), read: readCost(sent), sent };
}

beforeAll(async () => {
  api = await startTestApi('budgets');
  ctx = createCoreContext({ DYNAMODB_ENDPOINT: inject('dynamoDbEndpoint'), TABLE_NAME: api.table, AWS_REGION: 'us-east-1' });
  ctx.now = () => clock;
  m = meter(ctx.store.client);
});
afterAll(() => api.close());

async function bookWith(codes: number, body: Record<string, unknown> = {}) {
  const book = await createBook(ctx, adminActor, { name: 'Budget', validUntil: '2099-12-31T23:59:59.000Z', discount: { type: 'percentage', value: 20 }, ...body });
  const list = Array.from({ length: codes }, () => `SUMMER-${randomUUID().slice(0, 4).toUpperCase()}-${randomUUID().slice(0, 4).toUpperCase()}`);
  await uploadCodes(ctx, adminActor, { bookId: book.id, codes: list });
  return book;
}

describe('write budgets per transition (WCU, from the requests sent)', () => {
  it('claim: capped ≤ 8, uncapped ≤ 6; claim-and-lock costs no more than a claim', async () => {
    const capped = await bookWith(4, { maxCodesPerUser: 2 });
    const uncapped = await bookWith(4);
    const rows: Record<string, number> = {};
    for (const [name, book, lock, limit] of [
      ['claim, capped', capped, false, 8],
      ['claim and lock, capped', capped, true, 8],
      ['claim, uncapped', uncapped, false, 6],
      ['claim and lock, uncapped', uncapped, true, 6],
    ] as const) {
      const u = userActor();
      const { write, sent } = await measure(() => assignRandomCode(ctx, u, { bookId: book.id, lock }));
      expect(sent.filter((s) => isWrite(s.command)).map((s) => s.command)).toEqual(['TransactWriteItemsCommand']);
      expect(write.largestItem, name).toBeLessThanOrEqual(1024);
      expect(write.wcu, `${name}: ${JSON.stringify(write)}`).toBeLessThanOrEqual(limit);
      console.log(name, JSON.stringify(write));
      rows[name] = write.wcu;
    }
    expect(rows['claim and lock, capped']).toBeLessThanOrEqual(rows['claim, capped']!);
    expect(rows['claim and lock, uncapped']).toBeLessThanOrEqual(rows['claim, uncapped']!);
  });

  it('lock ≤ 3 and unlock ≤ 2: each one plain conditional UpdateItem on the code; redeem ≤ 7; rollback 7', async () => {
    const book = await bookWith(2, { maxRedemptionsPerUser: 2 });
    const u = userActor();
    const claimed = await assignRandomCode(ctx, u, { bookId: book.id });
    await lockCode(ctx, u, claimed.code, {}); // warms the instance's book cache, as a busy instance has it

    const unlock = await measure(() => unlockCode(ctx, u, claimed.code, {}));
    expect(unlock.sent.filter((s) => isWrite(s.command)).map((s) => s.command)).toEqual(['UpdateItemCommand']);
    expect(unlock.write.wcu, JSON.stringify(unlock.write)).toBeLessThanOrEqual(2);

    const lock = await measure(() => lockCode(ctx, u, claimed.code, {}));
    expect(lock.sent.filter((s) => isWrite(s.command)).map((s) => s.command)).toEqual(['UpdateItemCommand']);
    expect(lock.write.wcu, JSON.stringify(lock.write)).toBeLessThanOrEqual(3);

    const orderId = randomUUID();
    const redeem = await measure(() => redeemCode(ctx, serviceActor, claimed.code, { userId: u.sub, lockId: lock.result.lockId, orderId }));
    expect(redeem.sent.filter((s) => isWrite(s.command)).map((s) => s.command)).toEqual(['TransactWriteItemsCommand']);
    expect(redeem.write.wcu, JSON.stringify(redeem.write)).toBeLessThanOrEqual(7);
    expect(redeem.write.largestItem).toBeLessThanOrEqual(1024);

    const rollback = await measure(() => rollbackRedemption(ctx, serviceActor, redeem.result.redemptionId, { reason: 'order cancelled by the customer' }));
    expect(rollback.sent.filter((s) => isWrite(s.command)).map((s) => s.command)).toEqual(['TransactWriteItemsCommand']);
    expect(rollback.write.wcu, JSON.stringify(rollback.write)).toBeLessThanOrEqual(7);

    // The longest reason allowed stays on the redemption record (whose second KB it pays for), not on
    // the code: the code item stays under 1 KB and its next transition costs what it always does.
    const again = await measure(() => redeemCode(ctx, serviceActor, claimed.code, { userId: u.sub, orderId: randomUUID() }));
    expect(again.write.wcu, JSON.stringify(again.write)).toBeLessThanOrEqual(7);
    const long = await measure(() => rollbackRedemption(ctx, serviceActor, again.result.redemptionId, { reason: 'r'.repeat(500) }));
    expect(long.write.wcu, JSON.stringify(long.write)).toBeLessThanOrEqual(9);
    const codeItem = (await api.scan()).find((i) => i.__edb_e__ === 'code' && i.code === claimed.code)!;
    expect(itemBytes(codeItem)).toBeLessThanOrEqual(1024);
    const after = await measure(() => lockCode(ctx, u, claimed.code, {}));
    expect(after.write.wcu, JSON.stringify(after.write)).toBeLessThanOrEqual(3);
    for (const [n, x] of Object.entries({ lock, unlock, redeem, rollback, again, long, after })) console.log(n, JSON.stringify(x.write));
  });

  it('a lock checks the window on the instance’s copy of the book: a book ended a moment ago is still refused (the copy is re-read first)', async () => {
    const book = await bookWith(1, { validUntil: new Date(clock + 60_000).toISOString() });
    const u = userActor();
    const claimed = await assignRandomCode(ctx, u, { bookId: book.id });
    clock += 61_000;
    await expect(lockCode(ctx, u, claimed.code, {})).rejects.toMatchObject({ code: 'CODE_EXPIRED' });
    await expect(redeemCode(ctx, u, claimed.code, {})).rejects.toMatchObject({ code: 'CODE_EXPIRED' });
    clock -= 61_000;
  });
});

describe('a refused claim on a sold-out book', () => {
  it('costs ≤ 2 RCU on average and writes nothing; a new upload makes the book claimable again within a second', async () => {
    const book = await bookWith(1);
    await assignRandomCode(ctx, userActor(), { bookId: book.id });
    const refusals = 40;
    let rcu = 0;
    for (let i = 0; i < refusals; i++) {
      const { read, sent } = await measure(() => assignRandomCode(ctx, userActor(), { bookId: book.id }).then(() => 'claimed', (e) => e.code));
      expect(sent.filter((s) => isWrite(s.command))).toEqual([]);
      rcu += read.rcu;
      clock += 20; // 40 refusals spread over 0.8 s of one instance's life
    }
    console.log('sold-out refusals: average RCU', rcu / refusals);
    expect(rcu / refusals).toBeLessThanOrEqual(2);
    expect(await assignRandomCode(ctx, userActor(), { bookId: book.id }).catch((e) => e.code)).toBe('BOOK_EXHAUSTED');

    // Another instance uploads; this one sees the new code within a second.
    const other = createCoreContext({ DYNAMODB_ENDPOINT: inject('dynamoDbEndpoint'), TABLE_NAME: api.table, AWS_REGION: 'us-east-1' });
    const uploaded = `NEW-${randomUUID().slice(0, 8).toUpperCase()}`;
    await uploadCodes(other, adminActor, { bookId: book.id, codes: [uploaded] });
    clock += 1000;
    const claimed = await assignRandomCode(ctx, userActor(), { bookId: book.id });
    expect(claimed.code).toBe(uploaded);
  });
});
