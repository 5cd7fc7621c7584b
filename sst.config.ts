/// <reference path="./.sst/platform/config.d.ts" />

// `prod` is accepted as well as `production`: a stage typed either way must never
// get a table that `sst remove` can delete.
const PRODUCTION_STAGES = ['production', 'prod'];

export default $config({
  app(input) {
    const production = PRODUCTION_STAGES.includes(input?.stage ?? '');
    return {
      name: 'coupon-books',
      removal: production ? 'retain' : 'remove',
      protect: production,
      home: 'aws',
      providers: {
        // Same default as the app's AWS_REGION. Changing it later is a new deployment, not a move.
        aws: { region: 'us-east-1' },
      },
    };
  },
  async run() {
    // Dynamic imports: app() is evaluated before SST installs the providers and globals that
    // infra/ uses at module level, so infra/ may only load inside run().
    const { table, localTable, devDynamoDb } = await import('./infra/table');
    await import('./infra/secrets');
    if (localTable) {
      // `npx sst dev`: DynamoDB Local in its own pane, the API function on this machine using it.
      new sst.x.DevCommand('DynamoDbLocal', {
        dev: { command: 'node --import tsx scripts/sst-dev-dynamodb.ts', title: 'DynamoDB Local', autostart: true },
        environment: { DEV_DYNAMODB_PORT: String(devDynamoDb.port), TABLE_NAME: devDynamoDb.table, DATA_DIR: '.data/sst-dev' },
      });
    }
    // Migrations on deploy: `prepare` before any function gets its new code (each waits for it),
    // `finish` after all of them have it (infra/migrations.ts, docs/upgrades.md).
    const { finishMigrations } = await import('./infra/migrations');
    // Generation jobs: the queue and its worker, for counts above the in-request limit.
    const { jobWorker } = await import('./infra/jobs');
    const { api, apiRoute, API_TIMEOUT_SECONDS, consoleSite } = await import('./infra/api');
    // Alarms watch AWS's metrics of the stage's own table; DynamoDB Local has none.
    if (!localTable) await import('./infra/alarms');
    // Webhooks: the table stream's function, the delivery queue and its worker (a deployed table only:
    // DynamoDB Local's stream is followed in-process by `npm start`).
    const webhooks = localTable ? undefined : await import('./infra/webhooks');
    finishMigrations(
      [
        apiRoute.nodes.function,
        jobWorker.nodes.function,
        ...(webhooks ? [webhooks.webhookWorker.nodes.function, webhooks.changeStream.apply((s) => s.nodes.function)] : []),
      ],
      // The API's requests in flight end within its timeout; the workers' are safe to outlast it (docs/upgrades.md).
      API_TIMEOUT_SECONDS + 5,
    );
    // The flash-sale dashboard of the stage (the app's metrics and AWS's, side by side).
    if (!localTable) await import('./infra/dashboard');

    return {
      apiUrl: api.url,
      tableName: localTable ? devDynamoDb.table : table.name,
      ...(consoleSite ? { consoleUrl: consoleSite.url } : {}),
    };
  },
});
