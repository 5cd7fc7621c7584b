import { randomUUID } from 'node:crypto';
import type { CoreContext } from '../context.ts';
import type { Actor } from '../actor.ts';
import { transact, failed } from '../db/transact.ts';
import { gateCondition, gateError } from './books.ts';
import { loadHeldCodeWithBook, toCodeView, type CodeRecord, type CodeView } from './code-view.ts';
import { heldCodeError } from './lock.ts';
import type { IdempotencyClaim } from './idempotency.ts';

export interface RedeemInput {
  userId?: string;
  lockId?: string;
  orderId?: string;
  context?: Record<string, unknown>;
}

/**
 * Redeems a held code: one transaction that counts the redemption on the
 * code (condition: same holder, redemptions left, and no unexpired lock
 * unless it is the one presented), writes the redemption record, and counts
 * it on the book's shard (condition: inside the validity window). A success
 * releases the lock.
 */
export async function redeemCode(
  ctx: CoreContext,
  actor: Actor,
  code: string,
  input: RedeemInput,
  opts: { idempotency?: IdempotencyClaim } = {},
): Promise<CodeView & { redemptionId: string }> {
  const { current, book } = await loadHeldCodeWithBook(ctx, actor, code, input.userId);
  const redemptionId = randomUUID();
  const maxRedemptions = current.maxRedemptions ?? 1;
  let redeemed: CodeRecord | undefined;
  await transact(
    ctx.store,
    ({ code: codes, redemption, bookStatsShard }) => {
      const now = ctx.now();
      const { lockId: _l, lockExpiresAt: _e, ...rest } = current;
      redeemed = { ...rest, redemptionCount: current.redemptionCount + 1 };
      const presented = input.lockId;
      return [
        codes
          .patch({ tenant: actor.tenant, code })
          .add({ redemptionCount: 1 })
          .remove(['lockId', 'lockExpiresAt'])
          .where((a, op) => {
            const lockFree = `${op.notExists(a.lockExpiresAt)} OR ${op.lte(a.lockExpiresAt, now)}`;
            return (
              `${op.eq(a.status, 'assigned')} AND ${op.eq(a.userId, current.userId)} AND ${op.lt(a.redemptionCount, maxRedemptions)} ` +
              `AND (${lockFree}${presented !== undefined ? ` OR ${op.eq(a.lockId, presented)}` : ''})`
            );
          })
          .commit({ response: 'all_old' }),
        redemption
          .create({
            tenant: actor.tenant,
            code,
            redemptionId,
            bookId: current.bookId,
            userId: current.userId!,
            redeemedBy: actor.sub,
            orderId: input.orderId,
            context: input.context,
            redeemedAt: new Date(now).toISOString(),
          })
          .commit(),
        bookStatsShard
          .patch({ tenant: actor.tenant, bookId: current.bookId, shard: current.shard })
          .add({ redeemed: 1 })
          .where(gateCondition(now, { requireActive: false }))
          .commit({ response: 'all_old' }),
      ];
    },
    {
      onConditionFailed: (reasons) =>
        failed(reasons, 2)
          ? gateError(reasons[2]!.item, ctx.now(), { forAssignment: false })
          : heldCodeError(reasons[0]!.item, code, current.userId, ctx.now()),
      idempotency: { claim: opts.idempotency, response: () => ({ ...toCodeView(redeemed!, book, ctx.now()), redemptionId }) },
    },
  );
  return { ...toCodeView(redeemed!, book, ctx.now()), redemptionId };
}
