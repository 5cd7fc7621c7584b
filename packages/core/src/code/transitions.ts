import { AppError } from '../errors.ts';
import { and, eq, exists, gt, isAt, lt, notExists, or } from '../db/condition.ts';
import { BrokenInvariant, Refused, transition, type Change, type Item, type TransitionSpec } from '../db/transition.ts';
import { heldBy, isLockHeld, lockFree, maxRedemptionsOf, type CodeRecord } from './state.ts';
import type { CodeChange, CodeEventType } from './code-event.ts';

/**
 * Every transition of a code's life (db/transition.ts says what a transition
 * is). Use cases compose these into writes; none writes a condition of its own.
 */

export const codeNotFound = (code: string) => new AppError('CODE_NOT_FOUND', `No code ${code}.`);
export const codeNotLocked = (code: string) => new AppError('CODE_NOT_LOCKED', `Code ${code} is not locked.`);
const codeLocked = (code: string) => new AppError('CODE_LOCKED', `Code ${code} is locked by another checkout.`);
export const redemptionNotFound = (id: string) => new AppError('REDEMPTION_NOT_FOUND', `No redemption ${id}.`);

const isHeldBy = (item: Item | null, userId: string): item is Item => item?.status === 'assigned' && item.userId === userId;

/** Why a write on a held code was refused: not the holder's, used up, locked by someone else, or not locked. */
function heldCodeRefusal(item: CodeRecord | null, code: string, userId: string, now: number) {
  if (!isHeldBy(item, userId)) return codeNotFound(code);
  if (item.redemptionCount >= maxRedemptionsOf(item)) return new AppError('REDEMPTION_LIMIT_REACHED', `Code ${code} has no redemptions left.`);
  if (isLockHeld(item, now)) return codeLocked(code);
  return codeNotLocked(code);
}
const HELD_CODE_REFUSALS = ['CODE_NOT_FOUND', 'REDEMPTION_LIMIT_REACHED', 'CODE_LOCKED', 'CODE_NOT_LOCKED'] as const;

/** Where a write on a held code was built from: the code's `changeSeq` as read (undefined: never changed). */
export type FromRead = { seq: number | undefined };

/**
 * A transition of a held code written against the read it was built from:
 * its condition also names the code's `changeSeq` as read, so the answer (the
 * read with the change applied) is exactly the state the write made. When
 * another transition of the code landed in between, the write is refused as
 * `moved`, with the item as it now is, and the use case builds it again from
 * that item (held-code.ts `fromLatestRead`); a code the transition would not
 * allow anyway gets the transition's own refusal.
 */
function fromRead<I, const R extends string>(spec: TransitionSpec<I, CodeRecord, R>) {
  const own = transition(spec);
  return transition<I & FromRead, CodeRecord, R | 'moved'>({
    refusals: [...spec.refusals, 'moved'],
    alreadyDone: spec.alreadyDone,
    presence: spec.presence,
    condition: (input) => and(spec.condition(input), isAt('changeSeq', input.seq)),
    refusal: (item, input) =>
      item && own.allows(item, input) ? new Refused('moved', `code ${item.code} changed since it was read`, item) : spec.refusal(item, input),
  });
}

/** An available code of this book leaves the pool for a user. */
export const assign = transition({
  refusals: ['CODE_NOT_FOUND', 'CODE_ALREADY_ASSIGNED'],
  alreadyDone: ['CODE_ALREADY_ASSIGNED'],
  condition: ({ bookId }: { code: string; bookId: string }) => and(eq('status', 'available'), eq('bookId', bookId)),
  refusal: (item: CodeRecord | null, { code, bookId }) =>
    !item || item.bookId !== bookId ? codeNotFound(code) : new AppError('CODE_ALREADY_ASSIGNED', `Code ${code} is already assigned.`),
});

type HeldInput = { code: string; userId: string; maxRedemptions: number; now: number };

/**
 * The holder takes an unexpired lock on a code with redemptions left, no
 * other unexpired lock, and fewer than `maxLocks` locks since its last
 * redemption: a holder cannot grow its code's history without end by locking
 * and unlocking (docs/security.md#bounds).
 */
export const lock = fromRead({
  refusals: [...HELD_CODE_REFUSALS, 'LOCK_LIMIT_REACHED'],
  alreadyDone: ['CODE_LOCKED'],
  condition: ({ userId, maxRedemptions, now, maxLocks }: HeldInput & { maxLocks: number }) =>
    and(heldBy(userId), lt('redemptionCount', maxRedemptions), lockFree(now), or(notExists('locksSinceRedemption'), lt('locksSinceRedemption', maxLocks))),
  refusal: (item: CodeRecord | null, { code, userId, now, maxLocks }) => {
    const held = heldCodeRefusal(item, code, userId, now);
    if (held.code !== 'CODE_NOT_LOCKED' || (item!.locksSinceRedemption ?? 0) < maxLocks) return held;
    return new AppError('LOCK_LIMIT_REACHED', `Code ${code} was locked ${maxLocks} times since its last redemption; redeem it before locking it again.`);
  },
});

/** The holder releases the unexpired lock `lockId`. */
export const unlock = fromRead({
  refusals: ['CODE_NOT_FOUND', 'CODE_LOCKED', 'CODE_NOT_LOCKED'],
  alreadyDone: ['CODE_NOT_LOCKED'],
  condition: ({ userId, lockId, now }: { code: string; userId: string; lockId: string; now: number }) =>
    and(heldBy(userId), gt('lockExpiresAt', now), eq('lockId', lockId)),
  refusal: (item: CodeRecord | null, { code, userId, lockId, now }) => {
    if (!isHeldBy(item, userId)) return codeNotFound(code);
    if (isLockHeld(item, now) && item.lockId !== lockId) return codeLocked(code);
    return codeNotLocked(code);
  },
});

/** The holder redeems a code with redemptions left: unlocked, or under the lock it presents. Releases the lock. */
export const redeem = fromRead({
  refusals: HELD_CODE_REFUSALS,
  alreadyDone: ['REDEMPTION_LIMIT_REACHED'],
  condition: ({ userId, maxRedemptions, now, lockId }: HeldInput & { lockId?: string }) =>
    and(heldBy(userId), lt('redemptionCount', maxRedemptions), lockId === undefined ? lockFree(now) : or(lockFree(now), eq('lockId', lockId))),
  refusal: (item: CodeRecord | null, { code, userId, now }) => heldCodeRefusal(item, code, userId, now),
});

/**
 * A redemption is given back: the code's count goes down by one. The count
 * never goes below zero; with the record's own condition (below) each
 * redemption is given back at most once, so the count always equals the
 * records not rolled back. A code that exists with nothing to give back
 * while its record says otherwise is a broken invariant.
 */
export const rollBack = fromRead({
  refusals: ['REDEMPTION_NOT_FOUND'],
  condition: (_: { code: string; redemptionId: string }) => and(eq('status', 'assigned'), gt('redemptionCount', 0)),
  refusal: (item: CodeRecord | null, { redemptionId }) =>
    item ? new BrokenInvariant(`code ${item.code} has no redemption to give back for ${redemptionId}`) : redemptionNotFound(redemptionId),
});

/** The redemption record's side of a rollback: it exists and was not rolled back yet. */
export const rollBackRecord = transition({
  refusals: ['REDEMPTION_NOT_FOUND', 'REDEMPTION_ALREADY_ROLLED_BACK'],
  alreadyDone: ['REDEMPTION_ALREADY_ROLLED_BACK'],
  condition: (_: { redemptionId: string }) => and(exists('redemptionId'), notExists('rolledBackAt')),
  refusal: (item, { redemptionId }) =>
    item ? new AppError('REDEMPTION_ALREADY_ROLLED_BACK', `Redemption ${redemptionId} was already rolled back.`) : redemptionNotFound(redemptionId),
});

/** A user's holding of a capped book grows only under the cap (an upsert: a missing holding is under any cap). */
export const holdUnderCap = transition({
  refusals: ['USER_CODE_LIMIT_REACHED'],
  alreadyDone: ['USER_CODE_LIMIT_REACHED'],
  presence: 'any',
  condition: ({ cap }: { cap: number }) => or(notExists('held'), lt('held', cap)),
  refusal: (_item, { cap }) => new AppError('USER_CODE_LIMIT_REACHED', `This user already holds ${cap} code(s) of this book.`),
});

/**
 * When a transition of `current` happened, as its history entry and its
 * events say: the clock when the write was built, but never before the
 * code's previous transition, so a code's history is in time order even when
 * the instance making this change has a clock behind the one that made the
 * last. (Each write is built from the read it names, `fromRead`, so
 * `current.lastChange` is the change right before it.) It precedes the
 * commit by the write's own latency, at most.
 */
export function changeTime(current: { lastChange?: CodeChange } | null, now: number): number {
  const previous = current?.lastChange ? Date.parse(current.lastChange.at) : NaN;
  return previous > now ? previous : now;
}

/**
 * Every transition counts itself (`changeSeq`) and says what it did
 * (`lastChange`) in the same write, so the change stream can build the
 * code's history without adding a write to the operation. A claim with a
 * lock is two steps in one write, assigned then locked (`alsoLocked`): it
 * counts two, and the stream reads two events from it (code-event.ts).
 */
export function marked(
  change: Change,
  type: CodeEventType,
  at: number,
  by: string,
  details: Omit<CodeChange, 'type' | 'at' | 'by'> = {},
  options: { alsoLocked?: boolean } = {},
): Change {
  const lastChange: CodeChange = { type, at: new Date(at).toISOString(), by };
  for (const [k, v] of Object.entries(details)) if (v !== undefined) (lastChange as any)[k] = v;
  return { set: { ...change.set, lastChange }, add: { ...change.add, changeSeq: options.alsoLocked ? 2 : 1 }, remove: change.remove };
}
