/**
 * The `DynamoDbLocal` pane of `npx sst dev` (sst.config.ts): DynamoDB Local on a fixed port with
 * its data on disk, the app's table created if missing, running until `sst dev` stops it. The API
 * function, run on this machine by `sst dev`, reaches it through the `Coupons` link's `endpoint`
 * (infra/table.ts). Settings come from the DevCommand's environment.
 *
 * It also follows the table's change stream, as `npm start` does: on AWS a function subscribed to
 * the stream builds a code's history and sends webhooks, but DynamoDB Local's stream has no such
 * subscriber, so this pane is it.
 */
import { createDynamoDbClient, ensureTable, type ChangeFollower } from '@coupons/core';
import { createCoreContext, followChanges } from '@coupons/api';
import { startDynamoDbLocal, type RunningDynamoDbLocal } from './lib/dynamodb-local.ts';
import { portProblem } from './lib/port-check.ts';
import { migrateLocalTable } from './lib/migration-report.ts';

const port = Number(process.env.DEV_DYNAMODB_PORT ?? 8000);
const table = process.env.TABLE_NAME ?? 'coupons';
const dataDir = process.env.DATA_DIR ?? '.data/sst-dev';

// Handled from the start: a signal's default exit skips 'exit' handlers and would leave Java
// running if `sst dev` stopped the pane while DynamoDB Local was still starting.
let ddb: RunningDynamoDbLocal | undefined;
let follower: ChangeFollower | undefined;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void (follower?.stop() ?? Promise.resolve())
      .then(() => ddb?.stop())
      .then(() => process.exit(0));
  });
}

const problem = await portProblem(port);
if (problem) {
  console.error(`DynamoDB Local: port ${port} is ${problem}; set DEV_DYNAMODB_PORT for \`sst dev\` (infra/table.ts reads it too).`);
  process.exit(1);
}
ddb = await startDynamoDbLocal({ port, dataDir });
const created = await ensureTable(createDynamoDbClient({ DYNAMODB_ENDPOINT: ddb.endpoint, AWS_REGION: 'us-east-1' }), table);
console.log(`DynamoDB Local on ${ddb.endpoint}, data in ${dataDir}, table ${table} ${created}`);
// Loopback webhook targets are allowed here as under `npm start`: the receiver is the developer's own.
const core = createCoreContext({ ...process.env, DYNAMODB_ENDPOINT: ddb.endpoint, TABLE_NAME: table, WEBHOOK_ALLOW_LOOPBACK: process.env.WEBHOOK_ALLOW_LOOPBACK ?? 'true' });
// The stage's data on disk may be an older release's: migrated before the function uses it (docs/upgrades.md).
await migrateLocalTable(core, created, (line) => console.log(line));
follower = followChanges(core, { name: 'sst-dev' });
console.log('Following the table\'s change stream: code history and webhooks, as on AWS.');
