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
    const { table } = await import('./infra/table');
    await import('./infra/secrets');
    // Generation jobs: the queue and its worker, for counts above the in-request limit.
    await import('./infra/jobs');
    const { api } = await import('./infra/api');
    await import('./infra/alarms');
    // Webhooks: the table stream's function, the delivery queue and its worker.
    await import('./infra/webhooks');

    return {
      apiUrl: api.url,
      tableName: table.name,
    };
  },
});
