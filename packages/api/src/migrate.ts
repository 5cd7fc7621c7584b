import { setTimeout as sleep } from 'node:timers/promises';
import { PHASES, runMigrations, type CoreContext, type MigrationsResult, type Phase } from '@coupons/core';
import { createCoreContext } from './runtime.ts';

/** What the deploy sends (infra/migrations.ts). */
export interface MigrateEvent {
  phase: Phase;
  /** `finish` first waits this long: requests the previous release had in flight when its functions were replaced end meanwhile. */
  drainSeconds?: number;
}

/** The slice of Lambda's context the function reads. */
export interface MigrateContext {
  getRemainingTimeInMillis(): number;
}

/** Time kept for the pages in flight when the function's time runs out: they commit, and the run is resumable. */
export const SAFETY_MARGIN_MS = 30_000;

/**
 * The deploy's migration function (infra/migrations.ts). The deploy invokes
 * it with `prepare` before the new code takes traffic and with `finish` once
 * every function runs the new code (docs/upgrades.md). It answers what it did;
 * a run the function's time cut short, or a failed migration, is an error, so
 * the deploy stops there (before the new code takes traffic, for `prepare`),
 * and deploying again resumes where it stopped.
 */
export function createMigrator(core: CoreContext, log: (l: Record<string, unknown>) => void = (l) => console.log(JSON.stringify(l))) {
  return async (event: MigrateEvent, context: MigrateContext): Promise<MigrationsResult> => {
    if (!PHASES.includes(event?.phase)) throw new Error(`phase must be one of ${PHASES.join(', ')}`);
    if (event.phase === 'finish' && event.drainSeconds) await sleep(event.drainSeconds * 1000);
    const deadline = Date.now() + context.getRemainingTimeInMillis() - SAFETY_MARGIN_MS;
    let lastLog = 0;
    const result = await runMigrations(core, {
      phase: event.phase,
      deadline,
      by: `deploy (${event.phase})`,
      onProgress: (p) => {
        if (Date.now() - lastLog < 5000 && p.lanesDone < p.lanes) return;
        lastLog = Date.now();
        log({ level: 'info', msg: 'migration progress', ...p });
      },
    });
    log({ level: 'info', msg: 'migrations', phase: event.phase, done: result.done, pending: result.pending, reports: result.reports });
    if (!result.done) {
      throw new Error(`migrations (${event.phase}) stopped at the function's time limit, resumable: deploy again, or run npm run migrate -- --phase ${event.phase} against the table`);
    }
    return result;
  };
}

let migrator: ReturnType<typeof createMigrator> | undefined;

/** Lambda entry point: `packages/api/src/migrate.handler`. */
export const handler = (event: MigrateEvent, context: MigrateContext) => {
  migrator ??= createMigrator(createCoreContext());
  return migrator(event, context);
};
