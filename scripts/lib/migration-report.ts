import { recordMigrationsComplete, runMigrations, type CoreContext, type MigrationProgress, type MigrationsResult } from '@coupons/core';
import { formatCount } from './progress.ts';

/**
 * Progress of a migration run, one line at a time (at most one per migration per
 * `intervalMs`, and always its last), for `npm run migrate` and `npm start`.
 */
export function migrationProgressLines(write: (line: string) => void, intervalMs = 1000) {
  const last = new Map<string, number>();
  return (p: MigrationProgress) => {
    const now = Date.now();
    const done = p.lanesDone === p.lanes;
    if (!done && now - (last.get(p.migration) ?? 0) < intervalMs) return;
    last.set(p.migration, now);
    write(`migrate: ${p.migration} (${p.phase}): ${formatCount(p.scanned)} items read, ${formatCount(p.changed)} changed, ${p.lanesDone}/${p.lanes} segments done`);
  };
}

/** What a run did, migration by migration, and what is left. */
export function migrationSummary(result: MigrationsResult): string {
  const width = Math.max(10, ...result.reports.map((r) => r.migration.length));
  const lines = result.reports.map(
    (r) => `  ${r.migration.padEnd(width)}  ${r.outcome.padEnd(9)}  ${formatCount(r.scanned).padStart(12)} read  ${formatCount(r.changed).padStart(10)} changed`,
  );
  const tail = result.pending.length
    ? `${result.pending.length} pending: ${result.pending.join(', ')}${result.done ? '' : ' (stopped early: run again to resume where it stopped)'}`
    : 'every migration is complete';
  return [`Migrations (${result.reports[0]?.phase ?? 'finish'}):`, ...lines, tail].join('\n');
}

/**
 * A local table at start-up (`npm start`, the `sst dev` pane): one this release just created
 * holds nothing older and is recorded as migrated; one an older release left (DATA_DIR, an
 * external DYNAMODB_ENDPOINT) is migrated before anything serves it. Nothing else writes the
 * table yet, so the `finish` phase runs alone (docs/upgrades.md). Throws if a migration fails:
 * better not to start than to serve half-migrated data.
 */
export async function migrateLocalTable(core: CoreContext, made: 'created' | 'existed', log: (line: string) => void): Promise<void> {
  if (made === 'created') {
    await recordMigrationsComplete(core);
    return;
  }
  const result = await runMigrations(core, { by: 'start-up', onProgress: migrationProgressLines(log) });
  if (result.reports.some((r) => r.outcome !== 'complete')) log(migrationSummary(result));
}
