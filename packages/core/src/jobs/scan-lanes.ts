import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { CoreContext } from '../context.ts';
import { conditionalWrite } from '../db/conditional-write.ts';
import { where } from '../db/condition.ts';
import { retried } from '../db/retried.ts';
import { passRefusalsOf } from '../db/transition.ts';
import { advanceScan } from './lane.ts';
import { JobFailure, type JobRecord, type LaneRecord } from './model.ts';

// A job that reads the whole table: one parallel Scan segment per lane, each with exact,
// resumable progress. The migrations (migrations/migration-job.ts) and the erasure of a person
// (erasure/erasure-job.ts) are such jobs; what they do with the items they read is their own.

/** Items per Scan page: the unit a lane commits its progress in. */
export const SCAN_PAGE_SIZE = 200;

/** An item as the table's Scan returns it (DocumentClient: numbers, strings, Uint8Array, maps). */
export type TableItem = Record<string, any>;

/** A Scan filter: only the items it keeps come back (it saves transfer and work, not read capacity). */
export interface ScanFilter {
  expression: string;
  names: Record<string, string>;
  values?: Record<string, unknown>;
}

/** A scan lane: where its segment resumes (the last page's LastEvaluatedKey, as JSON), what it read and changed. */
export type ScanLane = LaneRecord & { cursor?: string; scanned?: number; changed?: number };

/** One lane's progress for its segment, as committed. */
export interface LaneProgress {
  lane: number;
  /** Pages committed. */
  chunks: number;
  scanned: number;
  changed: number;
  done: boolean;
}

export interface ScanWork {
  /** Only the items this filter keeps are handed to `visit`; every item is still read. */
  filter?: ScanFilter;
  /** Items per page; the job's `chunkSize` unless given. */
  pageSize?: number;
  /**
   * What a lane does with a page before it commits the page: every write conditioned on the state
   * it read, since a page whose commit was lost is handed over again (a resumed or raced lane).
   * Answers how many items it changed.
   */
  visit(items: TableItem[]): Promise<number>;
  /** Checked before each page: true stops the lane, resumably. */
  stop(): boolean;
  /** After each committed page, and once per lane as the scan starts. */
  onProgress?(p: LaneProgress): void;
}

export const laneProgress = (lane: ScanLane): LaneProgress => ({
  lane: lane.lane,
  chunks: lane.chunks,
  scanned: lane.scanned ?? 0,
  changed: lane.changed ?? 0,
  done: lane.generated >= lane.target,
});

/** A job's lanes as committed (consistent read). */
export async function readScanLanes(ctx: CoreContext, job: Pick<JobRecord, 'tenant' | 'jobId'>): Promise<ScanLane[]> {
  const { data } = await ctx.store.jobLane.query.byJob({ tenant: job.tenant, jobId: job.jobId }).go({ pages: 'all', consistent: true });
  return data as ScanLane[];
}

/**
 * Runs every lane of the job over its segment, in parallel, until each
 * reached the end (true) or `stop` says so (false, resumable). A lane visits
 * a page, then commits where its segment resumes with what it read and
 * changed, conditioned on the page count it started from (`advanceScan`): a
 * killed run resumes at its last committed page, and two runners never both
 * count a page. The first lane that fails stops the others after their page.
 */
export async function scanLanes(ctx: CoreContext, job: JobRecord, work: ScanWork): Promise<boolean> {
  const lanes = await readScanLanes(ctx, job);
  for (const lane of lanes) work.onProgress?.(laneProgress(lane));
  let laneError: unknown;
  const stop = () => laneError !== undefined || work.stop();
  const done = await Promise.all(
    lanes.map((lane) =>
      scanLane(ctx, job, lane, stop, work).catch((e) => {
        laneError ??= e;
        return false;
      }),
    ),
  );
  if (laneError !== undefined) throw laneError;
  return done.every(Boolean);
}

async function scanLane(ctx: CoreContext, job: JobRecord, start: ScanLane, stop: () => boolean, work: ScanWork) {
  const ref = { tenant: job.tenant, jobId: job.jobId, lane: start.lane };
  let lane = start;
  while (lane.generated < lane.target) {
    if (stop()) return false;
    const page = await retried(() =>
      ctx.store.client.send(
        new ScanCommand({
          TableName: ctx.store.table,
          Segment: lane.lane,
          TotalSegments: job.lanes,
          Limit: work.pageSize ?? job.chunkSize ?? SCAN_PAGE_SIZE,
          ExclusiveStartKey: lane.cursor ? JSON.parse(lane.cursor) : undefined,
          ...(work.filter
            ? { FilterExpression: work.filter.expression, ExpressionAttributeNames: work.filter.names, ExpressionAttributeValues: work.filter.values }
            : {}),
        }),
      ),
    );
    const changed = await work.visit(page.Items ?? []);
    const next: ScanLane = {
      ...lane,
      chunks: lane.chunks + 1,
      scanned: (lane.scanned ?? 0) + (page.ScannedCount ?? 0),
      changed: (lane.changed ?? 0) + changed,
      generated: page.LastEvaluatedKey ? 0 : lane.target,
      cursor: page.LastEvaluatedKey ? JSON.stringify(page.LastEvaluatedKey) : undefined,
    };
    try {
      const read = { chunks: lane.chunks };
      await retried(() =>
        conditionalWrite(
          ctx.store,
          (e) => {
            const update = e.jobLane.patch(ref).set({ chunks: next.chunks, scanned: next.scanned, changed: next.changed, generated: next.generated });
            return (next.cursor ? update.set({ cursor: next.cursor }) : update.remove(['cursor'])).where(where(advanceScan.condition(read)));
          },
          (found) => advanceScan.refusal(found, read),
        ),
      );
      lane = next;
      work.onProgress?.(laneProgress(lane));
    } catch (e) {
      passRefusalsOf(advanceScan)(e);
      // Another runner committed this page (or more): continue from what it committed.
      const { data } = await ctx.store.jobLane.get(ref).go({ consistent: true });
      if (!data) throw new JobFailure('the job lost a lane');
      lane = data as ScanLane;
    }
  }
  return true;
}
