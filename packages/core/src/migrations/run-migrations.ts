import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import type { CoreContext } from '../context.ts';
import { isTransientAwsError } from '../db/aws-errors.ts';
import { conditionalWrite } from '../db/conditional-write.ts';
import { where } from '../db/condition.ts';
import { passRefusalsOf, refusedBy } from '../db/transition.ts';
import { nameJob, recordComplete } from './transitions.ts';
import { backoffMs } from '../db/transact.ts';
import { recordJob } from '../jobs/record-job.ts';
import { readJob } from '../jobs/read-job.ts';
import { runJob } from '../jobs/run-job.ts';
import { isFinished, type JobRef } from '../jobs/model.ts';
import type { Migration, Phase } from './migration.ts';
import { migrationJobKind, PAGE_SIZE, type LaneProgress } from './migration-job.ts';
import { MIGRATIONS } from './registry.ts';
import { retried } from '../db/retried.ts';

/**
 * Migration jobs belong to the table, not to a tenant: their records sit
 * under a tenant no token can name (a token's tenant is [A-Za-z0-9_-]), so no
 * `GET /jobs/{jobId}` of any tenant reaches them.
 */
export const MIGRATIONS_TENANT = '.migrations';

/** A migration's progress in this run: summed over its lanes, as committed. */
export interface MigrationProgress {
  migration: string;
  phase: Phase;
  scanned: number;
  changed: number;
  lanesDone: number;
  lanes: number;
}

export interface MigrationReport {
  migration: string;
  phase: Phase;
  /** `complete`: done before this run (skipped); `completed`: by this run; `prepared`: prepare went through the table; `stopped`: stopped early, resumable. */
  outcome: 'complete' | 'completed' | 'prepared' | 'stopped';
  scanned: number;
  changed: number;
  jobId?: string;
}

export interface RunMigrationsOptions {
  /** `finish` (the default) completes migrations; `prepare` is the deploy's step before the new code takes traffic. */
  phase?: Phase;
  migrations?: readonly Migration[];
  /** Parallel Scan segments (lanes) of a new run; a resumed run keeps its own. Default JOB_LANES. */
  segments?: number;
  pageSize?: number;
  runnerId?: string;
  /** Recorded on the jobs: who ran them. */
  by?: string;
  signal?: AbortSignal;
  /** Epoch ms after which no new page starts (a Lambda's remaining time). */
  deadline?: number;
  /** Stops (resumably) once this run has read this many items: tests, and a cautious first run. */
  stopAfterItems?: number;
  onProgress?: (p: MigrationProgress) => void;
}

export interface MigrationsResult {
  /** Every migration went through this phase (false: stopped early; run again to resume). */
  done: boolean;
  /** Migrations not complete in this table after this run. */
  pending: string[];
  reports: MigrationReport[];
}

/**
 * Runs the registry's migrations in order, each as a job of its own
 * (migration-job.ts) that resumes where a killed run stopped, skipping the
 * ones this table has completed (entities/migration-state.ts). A later
 * migration starts only once the one before has gone through the whole table.
 * Concurrent runners agree on one job per migration and phase; one works it,
 * the others wait for it.
 */
export async function runMigrations(ctx: CoreContext, options: RunMigrationsOptions = {}): Promise<MigrationsResult> {
  const phase = options.phase ?? 'finish';
  const migrations = options.migrations ?? MIGRATIONS;
  const run: Run = { ...options, phase, migrations, runnerId: options.runnerId ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`, itemsRead: 0 };
  const reports: MigrationReport[] = [];
  for (const migration of migrations) {
    // A database that throttles or blips slows a run down; it resumes where it was, from what it committed.
    let report: MigrationReport;
    for (let attempt = 0; ; attempt++) {
      try {
        report = await runOne(ctx, migration, run);
        break;
      } catch (e) {
        if (!isTransientAwsError(e) || attempt >= TRANSIENT_ATTEMPTS || options.signal?.aborted) throw e;
        await sleep(backoffMs(attempt, 200, 10_000));
      }
    }
    reports.push(report);
    if (report.outcome === 'stopped') return { done: false, pending: await retried(() => pendingMigrations(ctx, migrations)), reports };
  }
  return { done: true, pending: await retried(() => pendingMigrations(ctx, migrations)), reports };
}

/** Consecutive transient failures (throttling, timeouts, a 500 from DynamoDB) a run waits out before it gives up. */
const TRANSIENT_ATTEMPTS = 10;

type Run = RunMigrationsOptions & { phase: Phase; migrations: readonly Migration[]; runnerId: string; itemsRead: number };

/** One migration, this phase: skipped if complete, else its job run (or resumed) until it settles here. */
async function runOne(ctx: CoreContext, migration: Migration, run: Run): Promise<MigrationReport> {
  const { phase } = run;
  const { data: state } = await ctx.store.migrationState.get({ migration: migration.id }).go({ consistent: true });
  if (state?.completedAt) return { migration: migration.id, phase, outcome: 'complete', scanned: state.scanned ?? 0, changed: state.changed ?? 0 };
  const ref: JobRef = { tenant: MIGRATIONS_TENANT, jobId: await currentJob(ctx, migration.id, phase, run) };
  const lanes = new Map<number, LaneProgress>();
  const totals = () => {
    const all = [...lanes.values()];
    return { scanned: all.reduce((n, l) => n + l.scanned, 0), changed: all.reduce((n, l) => n + l.changed, 0), lanesDone: all.filter((l) => l.done).length };
  };
  const kind = migrationJobKind({
    migrations: run.migrations,
    pageSize: run.pageSize,
    onProgress: (p) => {
      const before = lanes.get(p.lane);
      if (before) run.itemsRead += p.scanned - before.scanned;
      lanes.set(p.lane, p);
      if (before) run.onProgress?.({ migration: migration.id, phase, lanes: lanes.size, ...totals() });
    },
    stopWhen: () => run.stopAfterItems !== undefined && run.itemsRead >= run.stopAfterItems,
  });
  const outcome = await runUntilSettled(ctx, ref, { migration: kind }, run);
  const found = await readJob(ctx, ref);
  const counted = {
    scanned: (found?.lanes ?? []).reduce((n, l: any) => n + (l.scanned ?? 0), 0),
    changed: (found?.lanes ?? []).reduce((n, l: any) => n + (l.changed ?? 0), 0),
  };
  if (outcome === 'failed') throw new Error(`migration ${migration.id} (${phase}) failed: ${found?.job.error ?? 'unknown error'}`);
  if (outcome !== 'succeeded') return { migration: migration.id, phase, outcome: 'stopped', ...counted, jobId: ref.jobId };
  if (phase === 'finish') {
    const finishing = { finishJobId: ref.jobId };
    // Refused: marked by a concurrent runner of the same job.
    await conditionalWrite(
      ctx.store,
      (e) => e.migrationState.patch({ migration: migration.id }).set({ completedAt: new Date(ctx.now()).toISOString(), ...counted }).where(where(recordComplete.condition(finishing))),
      (found) => recordComplete.refusal(found, finishing),
    ).catch(passRefusalsOf(recordComplete));
    await closeLeftoverPrepare(ctx, migration.id, kind, run.runnerId);
  }
  return { migration: migration.id, phase, outcome: phase === 'finish' ? 'completed' : 'prepared', ...counted, jobId: ref.jobId };
}

/** The ids of registered migrations this table has not completed: one Query of SYS#MIGRATIONS. */
export async function pendingMigrations(ctx: CoreContext, migrations: readonly Migration[] = MIGRATIONS): Promise<string[]> {
  const { data } = await ctx.store.migrationState.query.byMigration({}).go({ pages: 'all', consistent: true });
  const complete = new Set(data.filter((s) => s.completedAt).map((s) => s.migration));
  return migrations.map((m) => m.id).filter((id) => !complete.has(id));
}

/**
 * A table created by this release holds nothing an older one wrote: every
 * registered migration is recorded complete without reading it.
 */
export async function recordMigrationsComplete(ctx: CoreContext, migrations: readonly Migration[] = MIGRATIONS): Promise<void> {
  const completedAt = new Date(ctx.now()).toISOString();
  for (const m of migrations) {
    await conditionalWrite(
      ctx.store,
      (e) => e.migrationState.update({ migration: m.id }).set({ completedAt, scanned: 0, changed: 0 }).where(where(recordComplete.condition({}))),
      (found) => recordComplete.refusal(found, {}),
    ).catch(passRefusalsOf(recordComplete));
  }
}

/**
 * The job of this migration's current run of `phase`: the one a killed run
 * left unfinished (resumed where its lanes stopped), else a new one. A
 * finished prepare run is not reused: a deploy prepares again, since the
 * previous release has written more since. Racing runners agree through a
 * conditional write of the job's id on the migration's state.
 */
async function currentJob(ctx: CoreContext, migration: string, phase: Phase, options: RunMigrationsOptions): Promise<string> {
  const field: 'prepareJobId' | 'finishJobId' = phase === 'prepare' ? 'prepareJobId' : 'finishJobId';
  for (;;) {
    const { data: state } = await ctx.store.migrationState.get({ migration }).go({ consistent: true });
    const named = state?.[field];
    const segments = options.segments ?? ctx.config.JOB_LANES;
    const record = (jobId: string) =>
      recordJob(ctx, {
        tenant: MIGRATIONS_TENANT,
        jobId,
        kind: 'migration',
        laneTargets: Array.from({ length: segments }, () => 1),
        chunkSize: options.pageSize ?? PAGE_SIZE,
        createdBy: options.by ?? 'migrations',
        attributes: { migration, phase },
      });
    if (named) {
      const found = await readJob(ctx, { tenant: MIGRATIONS_TENANT, jobId: named });
      if (!found) {
        await record(named); // named by a runner that stopped before writing it
        return named;
      }
      const { status } = found.job;
      if (!isFinished(status) || (phase === 'finish' && status === 'succeeded')) return named;
    }
    const jobId = `${migration}.${phase}.${randomUUID().slice(0, 8)}`;
    const read = { field, named };
    try {
      await conditionalWrite(
        ctx.store,
        (e) => e.migrationState.update({ migration }).set({ [field]: jobId }).where(where(nameJob.condition(read))),
        (found) => nameJob.refusal(found, read),
      );
    } catch (e) {
      if (refusedBy(nameJob, e)) continue; // another runner named one first: use it
      throw e;
    }
    await record(jobId);
    return jobId;
  }
}

/**
 * A prepare run cut short (a deploy that failed, then a finish by hand) would stay unfinished
 * forever; run now, it finds its migration complete and succeeds at once.
 */
async function closeLeftoverPrepare(ctx: CoreContext, migration: string, kind: ReturnType<typeof migrationJobKind>, runnerId: string) {
  const { data: state } = await ctx.store.migrationState.get({ migration }).go({ consistent: true });
  if (!state?.prepareJobId) return;
  const ref = { tenant: MIGRATIONS_TENANT, jobId: state.prepareJobId };
  const found = await readJob(ctx, ref);
  if (found && !isFinished(found.job.status)) await runJob(ctx, ref, { migration: kind }, { runnerId });
}

/** Runs the job until it settles here; while another runner holds it, waits (its lease lapses if it died). */
async function runUntilSettled(ctx: CoreContext, ref: JobRef, kinds: Parameters<typeof runJob>[2], options: RunMigrationsOptions & { runnerId: string }) {
  for (;;) {
    const { outcome, leaseUntil } = await runJob(ctx, ref, kinds, { runnerId: options.runnerId, signal: options.signal, deadline: options.deadline });
    if (outcome !== 'busy') return outcome;
    if (options.signal?.aborted || (options.deadline !== undefined && Date.now() >= options.deadline)) return 'paused';
    await sleep(Math.min(1000, Math.max(50, (leaseUntil ?? 0) - ctx.now() + 50)));
  }
}
