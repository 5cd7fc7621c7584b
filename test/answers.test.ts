import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bookWithCodes, service, startTestApi, user, type TestApi } from './support/harness.ts';
import { checkInvariants } from './support/invariants.ts';

// An answer describes the state its own write made, not the read taken before it: writes racing
// on one code each answer their own step, and the stored code ends as the last step says.
let api: TestApi;
beforeAll(async () => {
  api = await startTestApi('answers');
});
afterAll(() => api.close());

const post = (path: string, token: string, body?: unknown) => api.call('POST', path, { token, body });
const stored = async (code: string) => (await api.scan()).find((i) => i.__edb_e__ === 'code' && i.code === code)!;

/** A code of a new book allowing `uses` redemptions, claimed by `userId`. */
async function heldCode(userId: string, uses: number) {
  const { book } = await bookWithCodes(api, 1, { maxRedemptionsPerUser: uses });
  const token = await user(userId);
  const claim = await post('/coupons/assign', token, { bookId: book.id });
  expect(claim.status).toBe(201);
  return { token, code: claim.json.code as string };
}

/** Runs `work` with every request of `command` held back `ms`, so the writes sent at once all read before any of them lands. */
async function withHeld<T>(command: string, ms: number, work: () => Promise<T>): Promise<T> {
  const stack = api.core.store.client.middlewareStack;
  stack.add(
    (next, context) => async (args) => {
      if ((context as { commandName?: string }).commandName === command) await new Promise((r) => setTimeout(r, ms));
      return next(args);
    },
    { step: 'initialize', name: 'holdCommand' },
  );
  try {
    return await work();
  } finally {
    stack.remove('holdCommand');
  }
}

describe('answers of writes racing on one code', () => {
  it('concurrent redeems answer 1, 2 and 3, the last one redeemed, as the code ends', async () => {
    const { token, code } = await heldCode('ans-1', 3);
    const answers = await withHeld('TransactWriteItemsCommand', 100, () =>
      Promise.all([1, 2, 3].map((i) => post(`/coupons/redeem/${code}`, token, { orderId: `o-${i}` }))),
    );
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200]);
    const steps = answers.map((a) => [a.json.redemptionCount, a.json.status]).sort();
    expect(steps).toEqual([
      [1, 'active'],
      [2, 'active'],
      [3, 'redeemed'],
    ]);
    expect((await stored(code)).redemptionCount).toBe(3);
  });

  it("concurrent rollbacks of one code's three redemptions answer 2, 1 and 0, as the code ends", async () => {
    const { token, code } = await heldCode('ans-2', 3);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await post(`/coupons/redeem/${code}`, token, { orderId: `o-${i}` })).json.redemptionId);
    const svc = await service();
    const answers = await withHeld('TransactWriteItemsCommand', 100, () =>
      Promise.all(ids.map((id) => post(`/redemptions/${encodeURIComponent(id)}/rollback`, svc, {}))),
    );
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200]);
    expect(answers.map((a) => a.json.redemptionCount).sort()).toEqual([0, 1, 2]);
    expect((await stored(code)).redemptionCount).toBe(0);
    expect(checkInvariants(await api.scan()).violations).toEqual([]);
  });

  it('a lock that lands after a redeem it raced answers the redemption count the redeem left', async () => {
    const { token, code } = await heldCode('ans-3', 2);
    // The lock's write is held back; the redeem (a transaction) lands first.
    const [locked, redeemed] = await withHeld('UpdateItemCommand', 300, () =>
      Promise.all([post(`/coupons/lock/${code}`, token, {}), new Promise((r) => setTimeout(r, 50)).then(() => post(`/coupons/redeem/${code}`, token, {}))]),
    );
    expect(redeemed.status).toBe(200);
    expect(locked.status).toBe(200);
    const item = await stored(code);
    expect(item.redemptionCount).toBe(1);
    expect(locked.json).toMatchObject({ status: 'locked', redemptionCount: 1, lockId: item.lockId });
  });
});
