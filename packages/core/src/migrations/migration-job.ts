import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { CoreContext } from '../context.ts';
import { conditionalWrite } from '../db/conditional-write.ts';
import { where } from '../db/condition.ts';
import { passRefusalsOf } from '../db/transition.ts';
import { advanceScan } from './transitions.ts';
import { JobFailure, type JobKind, type JobRecord, type LaneRecord } from '../jobs/model.ts';
import { retried } from './legacy-writes.ts';
import type { Migration, Phase } from './migration.ts';
import { MIGRATIONS } from './registry.ts';

/** Items per Scan page: the unit a lane commits its progress in. */
export const PAGE_SIZE = 200;
/** Items of one page migrated at once (each is its own conditional write or transaction). */
const ITEMS_AT_ONCE = 16;

type MigrationLane = LaneRecord & { cursor?: string; scanned?: number; changed?: number };

/** One lane's progress: cumulative for its segment, as committed. */
export interface LaneProgress {
  lane: number;
  scanned: number;
  changed: number;
  done: boolean;
}

export interface MigrationJobOptions {
  /** The migrations a job may name (the registry's, unless a test gives its own). */
  migrations?: readonly Migration[];
  pageSize?: number;
  /** After each committed page (and once per lane when the job starts): that lane's progress. */
  onProgress?: (p: LaneProgress) => void;
  /** Also stop, resumably, once this says so (the runner's item budget). */
  stopWhen?: () => boolean;
}

/**
 * The migration job kind: one migration over the whole table, one parallel
 * Scan segment per lane. A lane migrates a page of its segment, then commits
 * where the segment resumes (the page's LastEvaluatedKey) with what it read
 * and changed, conditioned on the page count it started from; so a killed
 * run resumes at its last committed page, and two runners never both count a
 * page. Items of a page whose commit was lost are handed to the migration
 * again, which finds them done ('unchanged'): the counts stay exact.
 */
export function migrationJobKind(options: MigrationJobOptions = {}): JobKind {
  const migrations = options.migrations ?? MIGRATIONS;
  return {
    async work(ctx, job, { shouldStop }) {
      const migration = migrations.find((m) => m.id === job.migration);
      if (!migration) throw new JobFailure(`no migration ${job.migration} in this release`);
      // A run left over from before the migration completed has nothing left to do.
      const { data: state } = await ctx.store.migrationState.get({ migration: migration.id }).go({ consistent: true });
      if (state?.completedAt) return true;
      const { data } = await ctx.store.jobLane.query.byJob({ tenant: job.tenant, jobId: job.jobId }).go({ pages: 'all', consistent: true });
      const lanes = data as MigrationLane[];
      for (const lane of lanes) options.onProgress?.(progressOf(lane));
      let laneError: unknown;
      const stop = () => laneError !== undefined || shouldStop() || (options.stopWhen?.() ?? false);
      const done = await Promise.all(
        lanes.map((lane) =>
          scanLane(ctx, job, migration, lane, stop, options).catch((e) => {
            laneError ??= e;
            return false;
          }),
        ),
      );
      if (laneError !== undefined) throw laneError;
      return done.every(Boolean);
    },
  };
}

/** The kind as the composition root registers it (no progress display). */
export const migrationJob = migrationJobKind();

const progressOf = (lane: MigrationLane): LaneProgress => ({
  lane: lane.lane,
  scanned: lane.scanned ?? 0,
  changed: lane.changed ?? 0,
  done: lane.generated >= lane.target,
});

async function scanLane(ctx: CoreContext, job: JobRecord, migration: Migration, start: MigrationLane, stop: () => boolean, options: MigrationJobOptions) {
  const ref = { tenant: job.tenant, jobId: job.jobId, lane: start.lane };
  const phase = job.phase as Phase;
  let lane = start;
  while (lane.generated < lane.target) {
    if (stop()) return false;
    const page = await retried(() =>
      ctx.store.client.send(
        new ScanCommand({
          TableName: ctx.store.table,
          Segment: lane.lane,
          TotalSegments: job.lanes,
          Limit: options.pageSize ?? job.chunkSize ?? PAGE_SIZE,
          ExclusiveStartKey: lane.cursor ? JSON.parse(lane.cursor) : undefined,
          FilterExpression: migration.filter.expression,
          ExpressionAttributeNames: migration.filter.names,
          ExpressionAttributeValues: migration.filter.values,
        }),
      ),
    );
    let changed = 0;
    const items = page.Items ?? [];
    for (let i = 0; i < items.length; i += ITEMS_AT_ONCE) {
      const outcomes = await Promise.all(items.slice(i, i + ITEMS_AT_ONCE).map((item) => migration.migrate(ctx, item, phase)));
      changed += outcomes.filter((o) => o === 'changed').length;
    }
    const next: MigrationLane = {
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
      options.onProgress?.(progressOf(lane));
    } catch (e) {
      passRefusalsOf(advanceScan)(e);
      // Another runner committed this page (or more): continue from what it committed.
      const { data } = await ctx.store.jobLane.get(ref).go({ consistent: true });
      if (!data) throw new JobFailure('the job lost a lane');
      lane = data as MigrationLane;
    }
  }
  return true;
}
