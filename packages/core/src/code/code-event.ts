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
 * The event a committed write to a code item stands for, or undefined when
 * the write was not a transition (an insert into the pool, a job's bookkeeping).
 * Every transition increments `changeSeq` and sets `lastChange`, so a change
 * whose sequence moved forward is exactly one event, and a batch handed over
 * twice yields the same (tenant, code, seq) twice, for consumers to dedupe.
 */
export function codeEventOf(change: TableChange): CodeEvent | undefined {
  const item = change.newImage;
  if (item?.__edb_e__ !== 'code') return undefined;
  const seq = item.changeSeq;
  const before = change.oldImage?.changeSeq ?? 0;
  if (typeof seq !== 'number' || seq <= before || !item.lastChange) return undefined;
  const last = item.lastChange as CodeChange;
  return {
    tenant: item.tenant,
    code: item.code,
    bookId: item.bookId,
    seq,
    type: last.type,
    at: last.at,
    by: last.by,
    ...(last.userId !== undefined ? { userId: last.userId } : {}),
    ...(last.lockId !== undefined ? { lockId: last.lockId } : {}),
    ...(last.redemptionId !== undefined ? { redemptionId: last.redemptionId } : {}),
    ...(last.orderId !== undefined ? { orderId: last.orderId } : {}),
    ...(last.reason !== undefined ? { reason: last.reason } : {}),
    item,
  };
}
