import { countIntoActivity } from '../activity/backfill.ts';
import type { HistoryItem } from '../code/history-write.ts';
import type { Migration } from './migration.ts';

/**
 * A book's activity (activity/) is counted from its codes' history, each
 * entry in the transaction that writes it and marked `counted`. The previous
 * release wrote history without counting it, so its entries are missing from
 * every chart: each unmarked entry is counted and marked, once
 * (activity/backfill.ts). Only in `finish`: while the previous release runs,
 * its consumer puts entries blindly, and a put over a marked entry would drop
 * the mark and have it counted twice (docs/activity.md).
 */
export const historyCountedIntoActivity: Migration = {
  id: '006-history-counted-into-activity',
  summary: "history entries the previous release wrote are counted into their book's activity and marked counted",
  filter: {
    expression: '#e = :e AND attribute_not_exists(#counted)',
    names: { '#e': '__edb_e__', '#counted': 'counted' },
    values: { ':e': 'codeHistory' },
  },
  async migrate(ctx, item, phase) {
    if (phase === 'prepare' || item.__edb_e__ !== 'codeHistory' || item.counted !== undefined) return 'unchanged';
    return (await countIntoActivity(ctx, [item as HistoryItem])) ? 'changed' : 'unchanged';
  },
};
