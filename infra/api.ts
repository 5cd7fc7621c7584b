import { erasureSecret, jwksUrl, jwtSecret } from './secrets';
import { table } from './table';
import { jobQueue } from './jobs';
import { intFromEnv } from './settings';
import { operatorConsole } from './console';
import { afterPrepare } from './migrations';
import { traced, tracingEnvironment } from './tracing';

// Defaults equal AWS's regional account quota, so the stage never throttles below what the
// account allows until someone sets a tighter ceiling on purpose.
export const throttling = {
  burstLimit: intFromEnv('API_THROTTLE_BURST', { min: 1, max: 1_000_000 }) ?? 5000,
  rateLimit: intFromEnv('API_THROTTLE_RATE', { min: 1, max: 1_000_000 }) ?? 10000,
};

/** Far below API Gateway's 30 s: a stuck request should free its concurrency quickly. */
export const API_TIMEOUT_SECONDS = 10;

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

// The operator's console, when the deployment names an identity provider (infra/console.ts):
// a site of its own that calls this API, so the API lets that origin in (CORS).
export const consoleSite = operatorConsole(api.url);

// The table, queue and secrets reach the function as links only (SST writes them into an
// encrypted file beside its code; the app reads them with SST's `Resource`, runtime.ts), so no
// secret is a plain variable in the function's configuration. What remains here is not a resource.
const environment = {
  NODE_ENV: 'production',
  ...(consoleSite ? { CORS_ORIGINS: consoleSite.url.apply((url) => new URL(url).origin) } : {}),
  ...tracingEnvironment,
};

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
  timeout: `${API_TIMEOUT_SECONDS} seconds`,
  link: [table, jwtSecret, jwksUrl, erasureSecret, jobQueue],
  environment,
  // New code only once the table is prepared for it (infra/migrations.ts).
  ...traced(afterPrepare),
  ...(reservedConcurrency === undefined ? {} : { concurrency: { reserved: reservedConcurrency } }),
});
