import type { CoreContext } from '../context.ts';
import { requireRole, type Actor } from '../actor.ts';
import { transact, failed } from '../db/transact.ts';
import { where } from '../db/condition.ts';
import { changeTime, marked, redemptionNotFound, rollBack, rollBackRecord } from './transitions.ts';
import { applied, asUpdate, assertAllowed, refusalsOf } from '../db/transition.ts';
import { codeOfRedemptionId, isPlainRedemptionId } from './redemption-id.ts';
import type { CodeRecord } from './state.ts';
import { toCodeView, type CodeView } from './view.ts';
import { loadBookCached } from '../book/load-book.ts';
import { idempotencyGuard, type IdempotencyClaim } from '../idempotency/run.ts';
import { fromLatestRead } from './held-code.ts';

export const MAX_ROLLBACK_REASON = 500;

/** Redemptions made before ids named their code: one eventually consistent GetItem of the lookup (never written after migration 002). */
async function codeOfPlainRedemptionId(ctx: CoreContext, tenant: string, redemptionId: string): Promise<string | undefined> {
  if (!isPlainRedemptionId(redemptionId)) return undefined;
  const { data } = await ctx.store.redemptionLookup.get({ tenant, redemptionId }).go();
  return data?.code;
}

export type RollbackResult = CodeView & { redemptionId: string; rolledBackAt: string };

/** What a rollback can refuse: an id that names no redemption, and the record's and the code's conditions. */
export const rollbackRedemptionRefusals = refusalsOf({ runs: [rollBackRecord, rollBack], handles: ['moved'], own: ['REDEMPTION_NOT_FOUND'] });

/**
 * Gives a redemption back (the order was cancelled or refunded): one
 * transaction in which the code's count goes down by one (`rollBack`: never
 * below zero), the redemption record is marked rolled back with who, when
 * and why (`rollBackRecord`: only once), and the book's shard counts one
 * redemption less. Racing rollbacks of one redemption: exactly one wins.
 * The record is found by its id alone (the id names the code; a plain UUID
 * from the previous release, through its lookup item).
 */
export async function rollbackRedemption(
  ctx: CoreContext,
  actor: Actor,
  redemptionId: string,
  input: { reason?: string },
  opts: { idempotency?: IdempotencyClaim } = {},
): Promise<RollbackResult> {
  requireRole(actor, 'admin', 'service');
  const code = codeOfRedemptionId(redemptionId) ?? (await codeOfPlainRedemptionId(ctx, actor.tenant, redemptionId));
  if (!code) throw redemptionNotFound(redemptionId);
  const key = { tenant: actor.tenant, code };
  const [{ data: record }, { data: read }] = await Promise.all([
    ctx.store.redemption.get({ ...key, redemptionId }).go({ consistent: true }),
    ctx.store.code.get(key).go({ consistent: true }),
  ]);
  assertAllowed(rollBackRecord, record ?? null, { redemptionId });
  if (!read) throw redemptionNotFound(redemptionId);
  const book = await loadBookCached(ctx, actor.tenant, read.bookId);
  return fromLatestRead(rollBack, read as CodeRecord, async (current) => {
    const rule = { code, redemptionId, seq: current.changeSeq };
    let rolledBack: CodeRecord | undefined;
    let rolledBackAt = '';
    const result = (): RollbackResult => ({ ...toCodeView(rolledBack!, book, ctx.now()), redemptionId, rolledBackAt });
    await transact(
      ctx.store,
      ({ code: codes, redemption, bookStatsShard }) => {
        const at = changeTime(current, ctx.now());
        rolledBackAt = new Date(at).toISOString();
        // The reason (up to 500 characters) stays on the redemption record only: on the code item it
        // could push the item past 1 KB and double what this write and the code's next one cost.
        // History reads it from the record (code/history.ts).
        const change = marked({ set: {}, add: { redemptionCount: -1 } }, 'rolledBack', at, actor.sub, {
          redemptionId,
          orderId: record!.orderId,
        });
        rolledBack = applied(current, change);
        return {
          code: asUpdate(codes.patch(key), change, rollBack.condition(rule)).commit({ response: 'all_old' }),
          redemption: redemption
            .patch({ ...key, redemptionId })
            .set({ rolledBackAt, rolledBackBy: actor.sub, ...(input.reason !== undefined ? { rollbackReason: input.reason } : {}) })
            .where(where(rollBackRecord.condition(rule)))
            .commit({ response: 'all_old' }),
          stats: bookStatsShard.patch({ tenant: actor.tenant, bookId: current.bookId, shard: current.shard }).add({ redeemed: -1 }).commit(),
        };
      },
      {
        onConditionFailed: (reasons) =>
          failed(reasons, 'redemption')
            ? rollBackRecord.refusal(reasons.redemption.item, rule)
            : failed(reasons, 'code')
              ? rollBack.refusal(reasons.code.item as CodeRecord | null, rule)
              : new Error(`book stats shard ${current.shard} of ${current.bookId} is missing`),
        guard: idempotencyGuard(opts.idempotency, result),
      },
    );
    ctx.metrics.add('Rollbacks', 1, { tenant: actor.tenant });
    return result();
  });
}
