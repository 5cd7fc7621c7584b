import { randomUUID } from 'node:crypto';
import type { CoreContext } from '../context.ts';
import type { Actor } from '../actor.ts';
import { AppError } from '../errors.ts';
import { transact, failed } from '../db/transact.ts';
import { gateCondition, gateError } from './books.ts';
import type { IdempotencyClaim } from './idempotency.ts';
import { codeNotFound, isLockHeld, loadHeldCodeWithBook, toCodeView, type CodeRecord, type CodeView } from './code-view.ts';

export interface LockResult extends CodeView {
  status: 'locked';
  lockId: string;
  lockExpiresAt: string;
}

/** Why a condition on a held code failed, read from the code as it was. */
export function heldCodeError(item: Record<string, any> | null, code: string, holder: string | undefined, now: number): AppError {
  if (!item || item.status !== 'assigned' || (holder !== undefined && item.userId !== holder)) return codeNotFound(code);
  if (item.redemptionCount >= (item.maxRedemptions ?? 1)) {
    return new AppError('REDEMPTION_LIMIT_REACHED', `Code ${code} has no redemptions left.`);
  }
  if (isLockHeld(item, now)) return new AppError('CODE_LOCKED', `Code ${code} is locked by another checkout.`);
  return new AppError('CODE_NOT_LOCKED', `Code ${code} is not locked.`);
}

/**
 * Locks a held code for a redemption attempt. The lock is the code item
 * itself: one conditional write that requires no unexpired lock, the same
 * holder and redemptions left, in a transaction with a check that the book
 * is inside its validity window. Expiry is a comparison with the clock, so
 * a lapsed lock needs no sweeper.
 */
export async function lockCode(
  ctx: CoreContext,
  actor: Actor,
  code: string,
  input: { userId?: string; ttlSeconds?: number },
  opts: { idempotency?: IdempotencyClaim } = {},
): Promise<LockResult> {
  const { current, book } = await loadHeldCodeWithBook(ctx, actor, code, input.userId);
  const lockId = randomUUID();
  const ttlSeconds = input.ttlSeconds ?? book.lockTtlSeconds;
  let locked: CodeRecord | undefined;
  const lockResult = (): LockResult => {
    const view = toCodeView(locked!, book, ctx.now());
    return { ...view, status: 'locked', lockId, lockExpiresAt: view.lockExpiresAt! };
  };
  await transact(
    ctx.store,
    ({ code: codes, bookStatsShard }) => {
      const now = ctx.now();
      locked = { ...current, lockId, lockExpiresAt: now + ttlSeconds * 1000 };
      return [
        codes
          .patch({ tenant: actor.tenant, code })
          .set({ lockId, lockExpiresAt: locked.lockExpiresAt })
          .where(
            (a, op) =>
              `${op.eq(a.status, 'assigned')} AND ${op.eq(a.userId, current.userId)} AND ${op.lt(a.redemptionCount, current.maxRedemptions ?? 1)} ` +
              `AND (${op.notExists(a.lockExpiresAt)} OR ${op.lte(a.lockExpiresAt, now)})`,
          )
          .commit({ response: 'all_old' }),
        bookStatsShard
          .check({ tenant: actor.tenant, bookId: current.bookId, shard: current.shard })
          .where(gateCondition(now, { requireActive: false }))
          .commit({ response: 'all_old' }),
      ];
    },
    {
      onConditionFailed: (reasons) =>
        failed(reasons, 1)
          ? gateError(reasons[1]!.item, ctx.now(), { forAssignment: false })
          : heldCodeError(reasons[0]!.item, code, current.userId, ctx.now()),
      idempotency: { claim: opts.idempotency, response: () => lockResult() },
    },
  );
  return lockResult();
}

/**
 * Releases an unexpired lock (the payment failed). With a `lockId`, only that
 * lock is released; without, the holder (or a service acting for it) may
 * release whatever lock is on its code.
 */
export async function unlockCode(
  ctx: CoreContext,
  actor: Actor,
  code: string,
  input: { userId?: string; lockId?: string },
  opts: { idempotency?: IdempotencyClaim } = {},
): Promise<CodeView> {
  const { current, book } = await loadHeldCodeWithBook(ctx, actor, code, input.userId);
  if (!isLockHeld(current, ctx.now())) throw new AppError('CODE_NOT_LOCKED', `Code ${code} is not locked.`);
  if (input.lockId !== undefined && current.lockId !== input.lockId) {
    throw new AppError('CODE_LOCKED', `Code ${code} is locked by another checkout.`);
  }
  const { lockId: _l, lockExpiresAt: _e, ...unlocked } = current;
  const view = () => toCodeView(unlocked, book, ctx.now());
  await transact(
    ctx.store,
    ({ code: codes }) => [
      codes
        .patch({ tenant: actor.tenant, code })
        .remove(['lockId', 'lockExpiresAt'])
        .where(
          (a, op) =>
            `${op.eq(a.userId, current.userId)} AND ${op.gt(a.lockExpiresAt, ctx.now())} AND ${op.eq(a.lockId, current.lockId)}`,
        )
        .commit({ response: 'all_old' }),
    ],
    {
      onConditionFailed: (reasons) => {
        const item = reasons[0]!.item;
        if (item && isLockHeld(item, ctx.now())) return new AppError('CODE_LOCKED', `Code ${code} is locked by another checkout.`);
        if (!item || item.userId !== current.userId) return codeNotFound(code);
        return new AppError('CODE_NOT_LOCKED', `Code ${code} is not locked.`);
      },
      idempotency: { claim: opts.idempotency, response: view },
    },
  );
  return view();
}
