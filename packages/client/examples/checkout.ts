/**
 * A mobile checkout with the typed client: claim a code and lock it in one step, take the
 * payment, then redeem under the lock (or unlock if the payment fails).
 *
 *   COUPONS_TOKEN=$USER_TOKEN BOOK_ID=<id> npm run example:checkout -w @coupons/client
 *
 * with COUPONS_API and USER_TOKEN as `npm start` prints them.
 */
import { CouponApiError, createCouponClient, unwrap } from '../src/index.ts';

// COUPONS_API, as `npm start` prints it and the codes CLI reads it; COUPONS_URL is its older name.
const baseUrl = process.env.COUPONS_URL || process.env.COUPONS_API || 'http://localhost:3000';
const token = process.env.COUPONS_TOKEN;
const bookId = process.env.BOOK_ID;
if (!token || !bookId) {
  console.error('Set COUPONS_TOKEN (a user token) and BOOK_ID; COUPONS_API defaults to http://localhost:3000.');
  process.exit(2);
}

/** Stands in for the payment provider. */
async function takePayment(orderId: string, discount: unknown): Promise<boolean> {
  console.log(`charging order ${orderId} with discount ${JSON.stringify(discount ?? null)}`);
  return true;
}

const coupons = createCouponClient(baseUrl, { token });
const orderId = `order-${Date.now()}`;

try {
  // 1. Claim a random code of the book for this user and lock it for two minutes, atomically.
  //    The client retries a lost answer under one Idempotency-Key; naming the key after the order
  //    makes a retry of the whole checkout (the app restarted) return the same code too.
  const held = await unwrap(
    coupons.coupons.assign.$post({ json: { bookId, lock: true, ttlSeconds: 120 } }, { headers: { 'idempotency-key': `claim-${orderId}` } }),
  );
  if (!held.lockId) throw new Error('a claim with lock: true always carries its lockId');
  console.log(`holding ${held.code} until ${held.lockExpiresAt}`);
  const code = { param: { code: held.code } };

  // 2. Pay. On failure give the code back to the user (it stays theirs, unlocked).
  if (!(await takePayment(orderId, held.discount))) {
    await unwrap(coupons.coupons.unlock[':code'].$post({ ...code, json: { lockId: held.lockId } }));
    console.log('payment failed: code unlocked');
    process.exit(1);
  }

  // 3. Redeem under the lock: only the holder of this lockId can.
  const redeemed = await unwrap(
    coupons.coupons.redeem[':code'].$post({ ...code, json: { lockId: held.lockId, orderId } }, { headers: { 'idempotency-key': `redeem-${orderId}` } }),
  );
  console.log(`redeemed ${redeemed.code} (${redeemed.status}), redemption ${redeemed.redemptionId}`);
} catch (e) {
  if (e instanceof CouponApiError) {
    // e.code is the documented error code: BOOK_EXHAUSTED, USER_CODE_LIMIT_REACHED, CODE_EXPIRED, ...
    console.error(`coupon service said ${e.status} ${e.code}: ${e.message} (request ${e.requestId})`);
    process.exit(1);
  }
  throw e;
}
