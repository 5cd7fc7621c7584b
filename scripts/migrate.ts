/**
 * `npm run migrate`: brings the table to the shape this release reads, running every migration
 * it has not completed (packages/core/src/migrations/, docs/upgrades.md). The table is the one
 * `npm start` uses (DYNAMODB_ENDPOINT, TABLE_NAME) or, without DYNAMODB_ENDPOINT, the AWS table
 * TABLE_NAME names (credentials and AWS_REGION from the environment, as the AWS CLI finds them).
 * Progress goes to stderr, the summary to stdout. Ctrl-C stops after the pages in flight;
 * running it again resumes there.
 *
 *   npm run migrate [-- --phase prepare|finish] [--segments N] [--page-size N] [--stop-after N] [--status]
 */
import { parseArgs } from 'node:util';
import { createDynamoDbClient, ensureTable, loadConfig, pendingMigrations, recordMigrationsComplete, runMigrations, type Phase } from '@coupons/core';
import { createCoreContext } from '@coupons/api';
import { migrationProgressLines, migrationSummary } from './lib/migration-report.ts';

const HELP = `npm run migrate [-- options]

Runs the migrations this table has not completed, in order, each resumable.

  --phase finish     (default) complete them: nothing of the previous release may still be running
  --phase prepare    the deploy's step before new code takes traffic: today's shape beside the old,
                     nothing removed (the previous release may still be serving)
  --segments N       parallel Scan segments of a new run (default JOB_LANES, 8)
  --page-size N      items per Scan page, the unit a run commits its progress in (default 200)
  --stop-after N     stop, resumably, once this run has read N items
  --status           list the pending migrations and exit

The table: DYNAMODB_ENDPOINT and TABLE_NAME as npm start reads them; without DYNAMODB_ENDPOINT,
the AWS table TABLE_NAME in AWS_REGION, with the credentials the AWS SDK finds.
Exit status: 0 done, 3 stopped early (run again to resume), 1 failed, 2 usage.
`;

function readArgs() {
  try {
    return parseArgs({
      options: {
        phase: { type: 'string', default: 'finish' },
        segments: { type: 'string' },
        'page-size': { type: 'string' },
        'stop-after': { type: 'string' },
        status: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
    }).values;
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n\n${HELP}`);
    process.exit(2);
  }
}
const args = readArgs();
if (args.help) {
  process.stdout.write(HELP);
  process.exit(0);
}
const count = (name: string, value: string | undefined) => {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) {
    process.stderr.write(`--${name} must be a positive integer\n`);
    process.exit(2);
  }
  return n;
};
if (args.phase !== 'prepare' && args.phase !== 'finish') {
  process.stderr.write(`--phase must be prepare or finish\n`);
  process.exit(2);
}
const phase = args.phase as Phase;
const segments = count('segments', args.segments);
const pageSize = count('page-size', args['page-size']);
const stopAfterItems = count('stop-after', args['stop-after']);

const config = loadConfig(process.env);
const core = createCoreContext(process.env);
const where = config.DYNAMODB_ENDPOINT ? `${config.TABLE_NAME} at ${config.DYNAMODB_ENDPOINT}` : `${config.TABLE_NAME} in ${config.AWS_REGION}`;
if (config.DYNAMODB_ENDPOINT) {
  // A local table an older release made gets the indexes it lacks; a new one has nothing to migrate.
  const made = await ensureTable(createDynamoDbClient(config), config.TABLE_NAME);
  if (made === 'created') await recordMigrationsComplete(core);
}
if (args.status) {
  const pending = await pendingMigrations(core);
  process.stdout.write(pending.length ? `${pending.length} pending on ${where}:\n${pending.map((p) => `  ${p}\n`).join('')}` : `none pending on ${where}\n`);
  process.exit(0);
}

const controller = new AbortController();
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (controller.signal.aborted) process.exit(130);
    process.stderr.write(`\nmigrate: ${signal}: stopping after the pages in flight (again to quit at once)\n`);
    controller.abort();
  });
}

process.stderr.write(`migrate: ${phase} on ${where}\n`);
try {
  const result = await runMigrations(core, {
    phase,
    segments,
    pageSize,
    stopAfterItems,
    signal: controller.signal,
    by: 'npm run migrate',
    onProgress: migrationProgressLines((line) => process.stderr.write(`${line}\n`)),
  });
  process.stdout.write(`${migrationSummary(result)}\n`);
  process.exit(result.done ? 0 : 3);
} catch (e) {
  process.stderr.write(`migrate: ${(e as Error).message}\n`);
  process.exit(1);
}
