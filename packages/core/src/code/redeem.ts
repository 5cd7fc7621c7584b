import type { CoreContext } from '../context.ts';
import type { Actor } from '../actor.ts';
import { transact, failed } from '../db/transact.ts';
import { where } from '../db/condition.ts';
import { heldCodeGate, type Gate } from '../book/gate.ts';
import { changeTime, marked, redeem } from './transitions.ts';
import { applied, asUpdate, refusalsOf } from '../db/transition.ts';
import { maxRedemptionsOf, type CodeRecord } from './state.ts';
import { newRedemptionId } from './redemption-id.ts';
import { toCodeView, type CodeView } from './view.ts';
import { fromLatestRead, loadHeldCodeWithBook } from './held-code.ts';
import { idempotencyGuard, type IdempotencyClaim } from '../idempotency/run.ts';

export interface RedeemInput {
  userId?: string;
  lockId?: string;
  orderId?: string;
  context?: Record<string, unknown>;
}

/** What a redeem can refuse: the code not held by the caller (loadHeldCode), the redeem's condition, the book's window. */
export const redeemCodeRefusals = refusalsOf({ runs: [redeem, heldCodeGate], handles: ['moved'], own: ['CODE_NOT_FOUND'] });

/**
 * Redeems a held code: one transaction that counts the redemption on the
 * code (`redeem`: same holder, redemptions left, no unexpired lock unless it
 * is the one presented, no other transition since the read; releases the
 * lock), writes the redemption record, and counts it on the book's shard
 * under the book's window (`heldCodeGate`), so a redeem after `validUntil` is
 * refused by its own write. The answer is the code as this redeem left it.
 */
export async function redeemCode(
  ctx: CoreContext,
  actor: Actor,
  code: string,
  input: RedeemInput,
  opts: { idempotency?: IdempotencyClaim } = {},
): Promise<CodeView & { redemptionId: string }> {
  const { current: read, book } = await loadHeldCodeWithBook(ctx, actor, code, input.userId);
  const redemptionId = newRedemptionId(code);
  return fromLatestRead(redeem, read, async (current) => {
    let redeemed: CodeRecord | undefined;
    const ruleAt = (now: number) => ({
      code,
      userId: current.userId!,
      maxRedemptions: maxRedemptionsOf(current),
      now,
      lockId: input.lockId,
      seq: current.changeSeq,
    });
    const result = () => ({ ...toCodeView(redeemed!, book, ctx.now()), redemptionId });
    await transact(
      ctx.store,
      ({ code: codes, redemption, bookStatsShard }) => {
        const now = ctx.now();
        const at = changeTime(current, now);
        // A redemption starts the count of locks again (the lock's bound is per redemption).
        const change = marked({ set: { locksSinceRedemption: 0 }, add: { redemptionCount: 1 }, remove: ['lockId', 'lockExpiresAt'] }, 'redeemed', at, actor.sub, {
          redemptionId,
          orderId: input.orderId,
          lockId: input.lockId,
        });
        redeemed = applied(current, change);
        return {
          code: asUpdate(codes.patch({ tenant: actor.tenant, code }), change, redeem.condition(ruleAt(now))).commit({ response: 'all_old' }),
          redemption: redemption
            .create({
              tenant: actor.tenant,
              code,
              redemptionId,
              bookId: current.bookId,
              userId: current.userId!,
              redeemedBy: actor.sub,
              orderId: input.orderId,
              context: input.context,
              redeemedAt: new Date(at).toISOString(),
            })
            .commit(),
          stats: bookStatsShard
            .patch({ tenant: actor.tenant, bookId: current.bookId, shard: current.shard })
            .add({ redeemed: 1 })
            .where(where(heldCodeGate.condition({ now })))
            .commit({ response: 'all_old' }),
        };
      },
      {
        onConditionFailed: (reasons) =>
          failed(reasons, 'stats')
            ? heldCodeGate.refusal(reasons.stats.item as Gate | null, { now: ctx.now() })
            : redeem.refusal(reasons.code.item as CodeRecord | null, ruleAt(ctx.now())),
        guard: idempotencyGuard(opts.idempotency, result),
      },
    );
    ctx.metrics.add('Redemptions', 1, { tenant: actor.tenant });
    return result();
  });
}
