import { randomUUID } from 'node:crypto';
import type { CoreContext } from '../context.ts';
import type { Actor } from '../actor.ts';
import { conditionalWrite } from '../db/conditional-write.ts';
import { gateOf, heldCodeGate } from '../book/gate.ts';
import { changeTime, codeNotLocked, lock, marked, unlock } from './transitions.ts';
import { applied, asUpdate, assertAllowed, refusalsOf } from '../db/transition.ts';
import { isLockHeld, maxRedemptionsOf, type CodeRecord } from './state.ts';
import { toCodeView, type CodeView } from './view.ts';
import { loadBookCached } from '../book/load-book.ts';
import type { BookRecord } from '../book/book.ts';
import { idempotencyGuard, type IdempotencyClaim } from '../idempotency/run.ts';
import { fromLatestRead, loadHeldCodeWithBook } from './held-code.ts';

export interface LockResult extends CodeView {
  status: 'locked';
  lockId: string;
  lockExpiresAt: string;
}

/**
 * The book's window for a held code, from the instance's copy of the book (at
 * most a second old). A copy that says closed is read again before refusing;
 * one that says open may be a second stale, which the redeem's own write
 * condition covers (a lock alone grants nothing).
 */
async function assertWindowOpen(ctx: CoreContext, book: BookRecord): Promise<void> {
  if (heldCodeGate.allows(gateOf(book), { now: ctx.now() })) return;
  const fresh = await loadBookCached(ctx, book.tenant, book.bookId, { fresh: true });
  assertAllowed(heldCodeGate, gateOf(fresh), { now: ctx.now() });
}

/** What a lock can refuse: the code not held by the caller (loadHeldCode), the book's window, the lock's own condition. */
export const lockCodeRefusals = refusalsOf({ runs: [heldCodeGate, lock], handles: ['moved'], own: ['CODE_NOT_FOUND'] });

/**
 * Locks a held code for a redemption attempt: one conditional UpdateItem on
 * the code (`lock`: same holder, redemptions left, no unexpired lock, no
 * other transition since the read). Expiry is a comparison with the clock,
 * so a lapsed lock needs no sweeper.
 */
export async function lockCode(
  ctx: CoreContext,
  actor: Actor,
  code: string,
  input: { userId?: string; ttlSeconds?: number },
  opts: { idempotency?: IdempotencyClaim } = {},
): Promise<LockResult> {
  const { current: read, book } = await loadHeldCodeWithBook(ctx, actor, code, input.userId);
  await assertWindowOpen(ctx, book);
  const lockId = randomUUID();
  return fromLatestRead(lock, read, async (current) => {
    const now = ctx.now();
    const rule = {
      code,
      userId: current.userId!,
      maxRedemptions: maxRedemptionsOf(current),
      now,
      seq: current.changeSeq,
      maxLocks: ctx.config.MAX_LOCKS_PER_REDEMPTION,
    };
    assertAllowed(lock, current, rule);
    const change = marked(
      { set: { lockId, lockExpiresAt: now + (input.ttlSeconds ?? book.lockTtlSeconds) * 1000 }, add: { locksSinceRedemption: 1 } },
      'locked',
      changeTime(current, now),
      actor.sub,
      { lockId },
    );
    const result = (): LockResult => {
      const view = toCodeView(applied(current, change), book, ctx.now());
      return { ...view, status: 'locked', lockId, lockExpiresAt: view.lockExpiresAt! };
    };
    await conditionalWrite(
      ctx.store,
      (e) => asUpdate(e.code.patch({ tenant: actor.tenant, code }), change, lock.condition(rule)),
      (item) => lock.refusal(item as CodeRecord | null, rule),
      idempotencyGuard(opts.idempotency, result),
    );
    return result();
  });
}

/** What an unlock can refuse: the code not held by the caller, no lock on it, or another checkout's. */
export const unlockCodeRefusals = refusalsOf({
  runs: [unlock],
  handles: ['moved'],
  own: ['CODE_NOT_FOUND', 'CODE_NOT_LOCKED'],
  ownAlreadyDone: ['CODE_NOT_LOCKED'],
});

/**
 * Releases an unexpired lock (the payment failed): one conditional
 * UpdateItem (`unlock`). With a `lockId`, only that lock is released;
 * without, the holder (or a service acting for it) releases whatever lock is
 * on its code.
 */
export async function unlockCode(
  ctx: CoreContext,
  actor: Actor,
  code: string,
  input: { userId?: string; lockId?: string },
  opts: { idempotency?: IdempotencyClaim } = {},
): Promise<CodeView> {
  const { current: read, book } = await loadHeldCodeWithBook(ctx, actor, code, input.userId);
  return fromLatestRead(unlock, read, async (current) => {
    const now = ctx.now();
    // Without a lockId the lock on the code is meant: there must be one to name.
    if (!isLockHeld(current, now)) throw codeNotLocked(code);
    const rule = { code, userId: current.userId!, lockId: input.lockId ?? current.lockId!, now, seq: current.changeSeq };
    assertAllowed(unlock, current, rule);
    const change = marked({ set: {}, remove: ['lockId', 'lockExpiresAt'] }, 'unlocked', changeTime(current, now), actor.sub, { lockId: rule.lockId });
    const view = () => toCodeView(applied(current, change), book, ctx.now());
    await conditionalWrite(
      ctx.store,
      (e) => asUpdate(e.code.patch({ tenant: actor.tenant, code }), change, unlock.condition(rule)),
      (item) => unlock.refusal(item as CodeRecord | null, rule),
      idempotencyGuard(opts.idempotency, view),
    );
    return view();
  });
}
