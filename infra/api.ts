import { jwksUrl, jwtSecret } from './secrets';
import { table } from './table';
import { jobQueue } from './jobs';
import { intFromEnv } from './settings';

// Defaults equal AWS's regional account quota, so the stage never throttles below what the
// account allows until someone sets a tighter ceiling on purpose.
export const throttling = {
  burstLimit: intFromEnv('API_THROTTLE_BURST', { min: 1, max: 1_000_000 }) ?? 5000,
  rateLimit: intFromEnv('API_THROTTLE_RATE', { min: 1, max: 1_000_000 }) ?? 10000,
};

// Reserved concurrency both guarantees the API its share of the account's pool and caps it,
// so it is opt-in: unset, the function draws on the whole unreserved pool.
const reservedConcurrency = intFromEnv('API_RESERVED_CONCURRENCY', { min: 1, max: 100_000 });

export const api = new sst.aws.ApiGatewayV2('Api', {
  transform: {
    stage: (args) => {
      args.defaultRouteSettings = {
        throttlingBurstLimit: throttling.burstLimit,
        throttlingRateLimit: throttling.rateLimit,
      };
    },
  },
});

// The app takes its table, queue and secrets from the links (SST_RESOURCE_*, see
// packages/api/src/runtime.ts) and falls back to these variables: SST may hand a Lambda its links
// only in an encrypted file that its own SDK reads, and that SDK would bring the v2 AWS SDK into
// the bundle. The cost: the JWT secret is readable by whoever may read the function's
// configuration. An empty JWKS URL is left out rather than set to '', which is not a URL.
const environment = $resolve([table.name, jwtSecret.value, jwksUrl.value, jobQueue.url]).apply(
  ([tableName, secret, url, queueUrl]) => ({
    TABLE_NAME: tableName,
    // Generation jobs above 10,000 codes are sent to this queue (infra/jobs.ts).
    QUEUE_URL: queueUrl,
    NODE_ENV: 'production',
    JWT_SECRET: secret,
    ...(url ? { JWT_JWKS_URL: url } : {}),
  }),
);

// One catch-all route: Hono does the routing, so API Gateway needs no per-path configuration.
export const apiRoute = api.route('$default', {
  handler: 'packages/api/src/lambda.handler',
  // The /docs page serves swagger-ui's files itself (no CDN); SST's bundle would not carry them.
  // routes/docs.ts looks for them in $LAMBDA_TASK_ROOT/swagger-ui.
  copyFiles: ['swagger-ui.css', 'swagger-ui-bundle.js', 'swagger-ui-standalone-preset.js'].map((file) => ({
    from: `node_modules/swagger-ui-dist/${file}`,
    to: `swagger-ui/${file}`,
  })),
  runtime: 'nodejs24.x',
  architecture: 'arm64',
  memory: '1024 MB',
  // Far below API Gateway's 30 s: a stuck request should free its concurrency quickly.
  timeout: '10 seconds',
  link: [table, jwtSecret, jwksUrl, jobQueue],
  environment,
  ...(reservedConcurrency === undefined ? {} : { concurrency: { reserved: reservedConcurrency } }),
});
