import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { table } from './table';

// Migrations on deploy (docs/upgrades.md). One function runs the migrations this release has
// and the stage's table has not completed; the deploy invokes it twice:
//  - `prepare`, before any function that reads or writes the table gets its new code (each of
//    them waits for it: `afterPrepare`), while the previous release still serves: today's shape
//    is written beside the old one and nothing the previous release reads is removed;
//  - `finish`, once every one of those functions runs the new code and the previous release's
//    requests in flight have ended: it brings over what that release wrote meanwhile and removes
//    the old shape; only then is a migration complete (recorded under SYS#MIGRATIONS).
// A failed or unfinished run fails the deploy (an error from the function fails the Invocation);
// deploying again resumes where it stopped. Under `sst dev` there is none of it: the DynamoDB Local
// pane migrates its own table when it starts (scripts/sst-dev-dynamodb.ts).

/** The function's longest run (Lambda's maximum). A table that takes longer resumes on the next deploy. */
export const MIGRATION_TIMEOUT_MINUTES = 15;

/**
 * The registered migrations, by their files (packages/core/src/migrations/NNN-*.ts): a new one
 * changes the invocations' triggers, so the next deploy invokes both phases again.
 */
export const migrationIds = readdirSync(join(process.cwd(), 'packages/core/src/migrations'))
  .filter((f) => /^\d{3}-.+\.ts$/.test(f) && !f.endsWith('.test.ts'))
  .map((f) => f.replace(/\.ts$/, ''))
  .sort();

const triggers = { migrations: migrationIds.join(',') };

export const migrator = $dev
  ? undefined
  : new sst.aws.Function('Migrations', {
      handler: 'packages/api/src/migrate.handler',
      runtime: 'nodejs24.x',
      architecture: 'arm64',
      memory: '1024 MB',
      timeout: `${MIGRATION_TIMEOUT_MINUTES} minutes`,
      // The table only: the runner reads and writes it, nothing else.
      link: [table],
      environment: { NODE_ENV: 'production' },
    });

export const prepareMigrations = migrator
  ? new aws.lambda.Invocation('MigrationsPrepare', { functionName: migrator.name, input: JSON.stringify({ phase: 'prepare' }), triggers })
  : undefined;

/**
 * The `transform.function` of every function that reads or writes the table: its Lambda (and so
 * its new code) is updated only once `prepare` has run.
 */
export function afterPrepare(_args: unknown, opts: { dependsOn?: unknown }): undefined {
  if (!prepareMigrations) return undefined;
  const before = opts.dependsOn === undefined ? [] : Array.isArray(opts.dependsOn) ? opts.dependsOn : [opts.dependsOn];
  opts.dependsOn = [...before, prepareMigrations];
  return undefined;
}

/**
 * The `finish` invocation, after every function that reads or writes the table (the new code
 * serves), waiting `drainSeconds` first for the previous release's requests still in flight.
 */
export function finishMigrations(functions: $util.Input<$util.Resource>[], drainSeconds: number) {
  if (!migrator) return undefined;
  return new aws.lambda.Invocation(
    'MigrationsFinish',
    { functionName: migrator.name, input: JSON.stringify({ phase: 'finish', drainSeconds }), triggers },
    { dependsOn: functions },
  );
}
