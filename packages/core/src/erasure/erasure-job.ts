import { setTimeout as sleep } from 'node:timers/promises';
import type { CoreContext } from '../context.ts';
import { JobFailure, type JobKind } from '../jobs/model.ts';
import { scanLanes, type TableItem } from '../jobs/scan-lanes.ts';
import { eraseItem, type Erasee } from './erase-item.ts';

/** Items of one page erased at once (each its own conditional write or transaction). */
const ITEMS_AT_ONCE = 16;

/**
 * The erasure job kind: waits until every write that could have missed the
 * user's erased mark has committed (`settleUntil`), then reads the whole
 * table once, one parallel Scan segment per lane with exact, resumable
 * progress (jobs/scan-lanes.ts), and rewrites every item that names the user
 * (erase-item.ts). A killed run resumes at its last committed page; items of a
 * page handed over again are found done. Finishing removes the id from the
 * job's own record (`transient`), leaving only the pseudonym.
 */
export const erasureJob: JobKind = {
  transient: ['userId'],
  async work(ctx, job, { shouldStop, options }) {
    if (!job.userId || !job.pseudonym) throw new JobFailure('the job does not say whom to erase');
    while (Date.now() < (job.settleUntil ?? 0)) {
      if (shouldStop()) return false;
      await sleep(Math.min(250, job.settleUntil - Date.now()));
    }
    const who: Erasee = { tenant: job.tenant, userId: job.userId, pseudonym: job.pseudonym };
    return scanLanes(ctx, job, {
      visit: (items) => eraseItems(ctx, who, items),
      stop: shouldStop,
      // A lane reads to the end once: `generated` 1 when it did.
      onProgress: (p) => options.onChunk?.({ lane: p.lane, generated: p.done ? 1 : 0, chunks: p.chunks }),
    });
  },
};

async function eraseItems(ctx: CoreContext, who: Erasee, items: TableItem[]): Promise<number> {
  let changed = 0;
  for (let i = 0; i < items.length; i += ITEMS_AT_ONCE) {
    const outcomes = await Promise.all(items.slice(i, i + ITEMS_AT_ONCE).map((item) => eraseItem(ctx, who, item)));
    changed += outcomes.filter((o) => o === 'changed').length;
  }
  return changed;
}
