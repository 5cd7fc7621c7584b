import type { CoreContext } from '../context.ts';
import { JobFailure, type JobKind } from '../jobs/model.ts';
import { scanLanes, SCAN_PAGE_SIZE, type LaneProgress, type TableItem } from '../jobs/scan-lanes.ts';
import type { Migration, Phase } from './migration.ts';
import { MIGRATIONS } from './registry.ts';

export type { LaneProgress } from '../jobs/scan-lanes.ts';

/** Items per Scan page: the unit a lane commits its progress in. */
export const PAGE_SIZE = SCAN_PAGE_SIZE;
/** Items of one page migrated at once (each is its own conditional write or transaction). */
const ITEMS_AT_ONCE = 16;

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
      const phase = job.phase as Phase;
      return scanLanes(ctx, job, {
        filter: migration.filter,
        pageSize: options.pageSize,
        visit: (items) => migrateItems(ctx, migration, items, phase),
        stop: () => shouldStop() || (options.stopWhen?.() ?? false),
        onProgress: options.onProgress,
      });
    },
  };
}

/** A page's items, ITEMS_AT_ONCE at a time: how many the migration changed. */
async function migrateItems(ctx: CoreContext, migration: Migration, items: TableItem[], phase: Phase): Promise<number> {
  let changed = 0;
  for (let i = 0; i < items.length; i += ITEMS_AT_ONCE) {
    const outcomes = await Promise.all(items.slice(i, i + ITEMS_AT_ONCE).map((item) => migration.migrate(ctx, item, phase)));
    changed += outcomes.filter((o) => o === 'changed').length;
  }
  return changed;
}

/** The kind as the composition root registers it (no progress display). */
export const migrationJob = migrationJobKind();
