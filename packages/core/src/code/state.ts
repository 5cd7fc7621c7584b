import { and, eq, lte, notExists, or, type Cond } from '../db/condition.ts';
import { DEFAULT_MAX_REDEMPTIONS } from '../book/book.ts';
import type { CodeChange } from './code-event.ts';
import type { STORED_CODE_STATUSES } from '../entities/code.ts';

/**
 * A code's life. Stored: `available` (in its book's pool) or `assigned` (to
 * one user, forever), STORED_CODE_STATUSES. Derived from the stored item and
 * the clock (`codeStatus`): an assigned code is `locked` while
 * `lockExpiresAt` lies ahead, `redeemed` once its redemptions are used up,
 * `expired` once its book has ended, else `active`.
 */
export type StoredStatus = (typeof STORED_CODE_STATUSES)[number];
export const CODE_STATUSES = ['active', 'locked', 'redeemed', 'expired'] as const;
export type CodeStatus = (typeof CODE_STATUSES)[number];

export type CodeRecord = {
  tenant: string;
  code: string;
  bookId: string;
  shard: number;
  poolSlot: string;
  status: StoredStatus;
  userId?: string;
  assignedAt?: string;
  maxRedemptions?: number;
  redemptionCount: number;
  lockId?: string;
  /** Epoch ms; compared with the clock in every condition, so an expired lock needs no sweeper. */
  lockExpiresAt?: number;
  /** Locks taken since the last redemption: a lock is refused at MAX_LOCKS_PER_REDEMPTION (absent: 0). */
  locksSinceRedemption?: number;
  changeSeq?: number;
  /** What the last transition did, written with it (`changeSeq` counts them): the change stream turns it into history. */
  lastChange?: CodeChange;
};

export const maxRedemptionsOf = (code: Pick<CodeRecord, 'maxRedemptions'>) => code.maxRedemptions ?? DEFAULT_MAX_REDEMPTIONS;

export const isLockHeld = (code: Pick<CodeRecord, 'lockExpiresAt'>, now: number) =>
  code.lockExpiresAt !== undefined && code.lockExpiresAt > now;

/** No lock, or one that has lapsed: the condition twin of `!isLockHeld`. */
export const lockFree = (now: number): Cond => or(notExists('lockExpiresAt'), lte('lockExpiresAt', now));

export const hasRedemptionsLeft = (code: Pick<CodeRecord, 'redemptionCount' | 'maxRedemptions'>) => code.redemptionCount < maxRedemptionsOf(code);

/** Held by `userId` (any holder when undefined). */
export const heldBy = (userId: string): Cond => and(eq('status', 'assigned'), eq('userId', userId));

export function codeStatus(code: CodeRecord, bookValidUntil: string | undefined, now: number): CodeStatus {
  if (!hasRedemptionsLeft(code)) return 'redeemed';
  if (bookValidUntil && Date.parse(bookValidUntil) <= now) return 'expired';
  if (isLockHeld(code, now)) return 'locked';
  return 'active';
}
