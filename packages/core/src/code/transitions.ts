import { AppError } from '../errors.ts';
import { and, eq, exists, gt, lt, notExists, or } from '../db/condition.ts';
import type { Change, Transition } from '../db/transition.ts';
import { heldBy, isLockHeld, lockFree, maxRedemptionsOf, type CodeRecord } from './state.ts';
import type { CodeChange, CodeEventType } from './code-event.ts';

/**
 * Every transition of a code's life (db/transition.ts says what a transition
 * is). Services compose these into writes; none writes a condition of its own.
 */
type CodeTransition<I> = Transition<I, CodeRecord>;
type Item = Record<string, any>;

export const codeNotFound = (code: string) => new AppError('CODE_NOT_FOUND', `No code ${code}.`);
export const redemptionNotFound = (id: string) => new AppError('REDEMPTION_NOT_FOUND', `No redemption ${id}.`);

/** Why a write on a held code was refused: not the holder's, used up, locked by someone else, or not locked. */
function heldCodeRefusal(item: Item | null, code: string, userId: string, now: number): AppError {
  if (!item || item.status !== 'assigned' || item.userId !== userId) return codeNotFound(code);
  if (item.redemptionCount >= maxRedemptionsOf(item)) return new AppError('REDEMPTION_LIMIT_REACHED', `Code ${code} has no redemptions left.`);
  if (isLockHeld(item, now)) return new AppError('CODE_LOCKED', `Code ${code} is locked by another checkout.`);
  return new AppError('CODE_NOT_LOCKED', `Code ${code} is not locked.`);
}

const isHeldBy = (item: Item | null, userId: string): item is Item => item?.status === 'assigned' && item.userId === userId;

/** An available code of this book leaves the pool for a user. */
export const assign: CodeTransition<{ code: string; bookId: string }> = {
  condition: ({ bookId }) => and(eq('status', 'available'), eq('bookId', bookId)),
  allows: (item, { bookId }) => item?.status === 'available' && item.bookId === bookId,
  refusal: (item, { code, bookId }) =>
    !item || item.bookId !== bookId ? codeNotFound(code) : new AppError('CODE_ALREADY_ASSIGNED', `Code ${code} is already assigned.`),
};

type HeldInput = { code: string; userId: string; maxRedemptions: number; now: number };

/** The holder takes an unexpired lock on a code with redemptions left and no other unexpired lock. */
export const lock: CodeTransition<HeldInput> = {
  condition: ({ userId, maxRedemptions, now }) => and(heldBy(userId), lt('redemptionCount', maxRedemptions), lockFree(now)),
  allows: (item, { userId, maxRedemptions, now }) => isHeldBy(item, userId) && item.redemptionCount < maxRedemptions && !isLockHeld(item, now),
  refusal: (item, { code, userId, now }) => heldCodeRefusal(item, code, userId, now),
};

/** The holder releases the unexpired lock `lockId`. */
export const unlock: CodeTransition<{ code: string; userId: string; lockId: string; now: number }> = {
  condition: ({ userId, lockId, now }) => and(heldBy(userId), gt('lockExpiresAt', now), eq('lockId', lockId)),
  allows: (item, { userId, lockId, now }) => isHeldBy(item, userId) && isLockHeld(item, now) && item.lockId === lockId,
  refusal: (item, { code, userId, lockId, now }) => {
    if (!isHeldBy(item, userId)) return codeNotFound(code);
    if (isLockHeld(item, now) && item.lockId !== lockId) return new AppError('CODE_LOCKED', `Code ${code} is locked by another checkout.`);
    return new AppError('CODE_NOT_LOCKED', `Code ${code} is not locked.`);
  },
};

/** The holder redeems a code with redemptions left: unlocked, or under the lock it presents. Releases the lock. */
export const redeem: CodeTransition<HeldInput & { lockId?: string }> = {
  condition: ({ userId, maxRedemptions, now, lockId }) =>
    and(heldBy(userId), lt('redemptionCount', maxRedemptions), lockId === undefined ? lockFree(now) : or(lockFree(now), eq('lockId', lockId))),
  allows: (item, { userId, maxRedemptions, now, lockId }) =>
    isHeldBy(item, userId) && item.redemptionCount < maxRedemptions && (!isLockHeld(item, now) || (lockId !== undefined && item.lockId === lockId)),
  refusal: (item, { code, userId, now }) => heldCodeRefusal(item, code, userId, now),
};

/**
 * A redemption is given back: the code's count goes down by one. The count
 * never goes below zero; with the record's own condition (below) each
 * redemption is given back at most once, so the count always equals the
 * records not rolled back.
 */
export const rollBack: CodeTransition<{ code: string; redemptionId: string }> = {
  condition: () => and(eq('status', 'assigned'), gt('redemptionCount', 0)),
  allows: (item) => item?.status === 'assigned' && typeof item.redemptionCount === 'number' && item.redemptionCount > 0,
  refusal: (item, { redemptionId }) =>
    item ? new Error(`code ${item.code} has no redemption to give back for ${redemptionId}`) : redemptionNotFound(redemptionId),
};

/** The redemption record's side of a rollback: it exists and was not rolled back yet. */
export const rollBackRecord: Transition<{ redemptionId: string }, Item> = {
  condition: () => and(exists('redemptionId'), notExists('rolledBackAt')),
  allows: (item) => item !== null && item.redemptionId !== undefined && item.rolledBackAt === undefined,
  refusal: (item, { redemptionId }) =>
    item ? new AppError('REDEMPTION_ALREADY_ROLLED_BACK', `Redemption ${redemptionId} was already rolled back.`) : redemptionNotFound(redemptionId),
};

/** A user's holding of a capped book grows only under the cap. */
export const holdUnderCap: Transition<{ cap: number }, Item> = {
  condition: ({ cap }) => or(notExists('held'), lt('held', cap)),
  allows: (item, { cap }) => item?.held === undefined || item.held < cap,
  refusal: (_item, { cap }) => new AppError('USER_CODE_LIMIT_REACHED', `This user already holds ${cap} code(s) of this book.`),
};

/**
 * Every transition counts itself (`changeSeq`) and says what it did
 * (`lastChange`) in the same write, so the change stream can build the
 * code's history without adding a write to the operation.
 */
export function marked(change: Change, type: CodeEventType, at: number, by: string, details: Omit<CodeChange, 'type' | 'at' | 'by'> = {}): Change {
  const lastChange: CodeChange = { type, at: new Date(at).toISOString(), by };
  for (const [k, v] of Object.entries(details)) if (v !== undefined) (lastChange as any)[k] = v;
  return { set: { ...change.set, lastChange }, add: { ...change.add, changeSeq: 1 }, remove: change.remove };
}

