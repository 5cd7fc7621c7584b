import type { Store } from '../entities/index.ts';
import type { ChangeConsumer, TableChange } from '../stream/change.ts';
import { codeEventsOf, type CodeEvent } from './code-event.ts';
import { writeHistoryItems, type HistoryCounter, type HistoryItem } from './history-write.ts';

/** One entry of a code's history, as `GET /coupons/codes/{code}` answers it. */
export type HistoryEntry = Pick<CodeEvent, 'type' | 'at' | 'by' | 'userId' | 'lockId' | 'redemptionId' | 'orderId' | 'reason'>;

const OPTIONAL = ['userId', 'lockId', 'redemptionId', 'orderId', 'reason'] as const;

export function toHistoryEntry(e: HistoryEntry): HistoryEntry {
  const entry: HistoryEntry = { type: e.type, at: e.at, by: e.by };
  for (const k of OPTIONAL) if (e[k] !== undefined && e[k] !== null) entry[k] = e[k];
  return entry;
}

/**
 * Builds each code's history from the table's change stream: every
 * transition's write carries `changeSeq` and `lastChange`, and this consumer
 * writes one history item per change under the code's own partition, keyed by
 * the sequence number, only if it does not exist yet (history-write.ts), in
 * one transaction with what `counter` counts from it (the composition root
 * gives the book's activity). A replayed or re-split batch writes, and
 * counts, only the entries not written before; no key is shared between codes.
 * Cost: per transition one transactional put (2 WCU), plus the counters per
 * transaction, off the request path (docs/activity.md).
 */
export function codeHistoryConsumer(store: Store, options: { counter?: HistoryCounter } = {}): ChangeConsumer {
  return {
    name: 'code-history',
    async handle(changes: TableChange[]) {
      // A claim with a lock is one change and two entries (assigned, then locked: code-event.ts).
      const events = distinct(changes.flatMap(codeEventsOf));
      if (!events.length) return;
      const reasons = await rollbackReasons(store, events);
      // The holder never changes once assigned, so transitions leave it out of `lastChange` and it is read off the item.
      const items: HistoryItem[] = events.map((e) => ({
        tenant: e.tenant,
        code: e.code,
        seq: e.seq,
        bookId: e.bookId,
        // The redemption's rollback reason belongs to the rollback, not to the redeem of the same redemption.
        ...toHistoryEntry({ ...e, userId: e.userId ?? e.item.userId, reason: e.reason ?? (e.type === 'rolledBack' ? reasons.get(`${e.tenant}#${e.redemptionId}`) : undefined) }),
      }));
      await writeHistoryItems(store, items, options.counter);
    },
  };
}

/** A record delivered twice in one batch is one event (a transaction may not write an item twice). */
function distinct(events: CodeEvent[]): CodeEvent[] {
  const seen = new Set<string>();
  return events.filter((e) => {
    const id = `${e.tenant}\u0000${e.code}\u0000${e.seq}`;
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
}

/**
 * A rollback's reason lives on its redemption record, not on the code item
 * (up to 500 characters would push the code past 1 KB, the unit each of its
 * writes is charged by): one consistent read per rolled-back event, off the
 * request path.
 */
async function rollbackReasons(store: Store, events: CodeEvent[]): Promise<Map<string, string>> {
  const wanted = events.filter((e) => e.type === 'rolledBack' && e.redemptionId && e.reason === undefined);
  const out = new Map<string, string>();
  await Promise.all(
    wanted.map(async (e) => {
      const { data } = await store.redemption.get({ tenant: e.tenant, code: e.code, redemptionId: e.redemptionId! }).go({ consistent: true });
      if (data?.rollbackReason !== undefined) out.set(`${e.tenant}#${e.redemptionId}`, data.rollbackReason);
    }),
  );
  return out;
}

/** A code's history, oldest first: one Query of its partition's HIST# items. */
export async function readHistory(store: Store, tenant: string, code: string): Promise<HistoryEntry[]> {
  const { data } = await store.codeHistory.query.byCode({ tenant, code }).go({ pages: 'all' });
  return data.map((d) => toHistoryEntry(d as HistoryEntry));
}
