import type { TableChange } from '../stream/change.ts';
import type { CODE_EVENT_TYPES } from '../entities/code-change-attributes.ts';

/** What a transition did, as its history entry and the change stream name it (CODE_EVENT_TYPES, declared with the attributes that store it). */
export type CodeEventType = (typeof CODE_EVENT_TYPES)[number];

/** What every transition of a code records on the code item, in the same write (`lastChange`). */
export interface CodeChange {
  type: CodeEventType;
  /** ISO time of the transition. */
  at: string;
  /** The caller's `sub`. */
  by: string;
  userId?: string;
  lockId?: string;
  redemptionId?: string;
  orderId?: string;
  reason?: string;
}

/** One thing that happened to a code, read back from the table's change stream. */
export interface CodeEvent extends CodeChange {
  tenant: string;
  code: string;
  bookId: string;
  /** The code's `changeSeq` after this change: 1, 2, 3… per code, so (tenant, code, seq) names the event. */
  seq: number;
  /** The code item as the change left it. */
  item: Record<string, any>;
}

/**
 * The events a committed write to a code item stands for, in order: none
 * when the write was not a transition (an insert into the pool, a job's
 * bookkeeping), usually one. Every transition increments `changeSeq` and
 * sets `lastChange`, so a change whose sequence moved forward is exactly
 * its events, and a batch handed over twice yields the same (tenant, code,
 * seq) twice, for consumers to dedupe.
 *
 * A claim with a lock is two steps in one write (code/transitions.ts
 * `marked`): its `changeSeq` moves by two and `lastChange` is the
 * assignment with the lock's id. It reads as `assigned` (seq - 1: the code
 * held, not yet locked) then `locked` (seq: the lock, with its id), so a
 * subscriber hears of the lock before any unlock. Claims with a lock written
 * before they counted two moved `changeSeq` by one and read as one
 * `assigned` carrying the lock's id, as they always did.
 */
export function codeEventsOf(change: TableChange): CodeEvent[] {
  const item = change.newImage;
  if (item?.__edb_e__ !== 'code') return [];
  const seq = item.changeSeq;
  const before = change.oldImage?.changeSeq ?? 0;
  if (typeof seq !== 'number' || seq <= before || !item.lastChange) return [];
  const last = item.lastChange as CodeChange;
  const event = (step: CodeChange, at: number, of: Record<string, any>): CodeEvent => ({
    tenant: item.tenant,
    code: item.code,
    bookId: item.bookId,
    seq: at,
    type: step.type,
    at: step.at,
    by: step.by,
    ...(step.userId !== undefined ? { userId: step.userId } : {}),
    ...(step.lockId !== undefined ? { lockId: step.lockId } : {}),
    ...(step.redemptionId !== undefined ? { redemptionId: step.redemptionId } : {}),
    ...(step.orderId !== undefined ? { orderId: step.orderId } : {}),
    ...(step.reason !== undefined ? { reason: step.reason } : {}),
    item: of,
  });
  if (last.type === 'assigned' && last.lockId !== undefined && seq - before === 2) {
    const { lockId: _lock, lockExpiresAt: _expires, ...held } = item;
    const { lockId, ...assigned } = last;
    return [event(assigned, seq - 1, { ...held, changeSeq: seq - 1 }), event({ ...last, type: 'locked', lockId }, seq, item)];
  }
  return [event(last, seq, item)];
}
