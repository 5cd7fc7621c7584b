import { handle } from 'hono/aws-lambda';
import { createApp } from './app.ts';
import { readAuthConfig, readCorsOrigins } from './runtime.ts';
import { flushingMetrics } from './telemetry/telemetry.ts';
import { createTracedCoreContext } from './telemetry/tracing.ts';

// Built once per Lambda instance, reused across invocations. The tracer (X-Ray) is loaded only
// when TRACING is on (deployed stages); the OpenAPI document is built on its first request.
const { core, tracer } = await createTracedCoreContext();
const app = createApp({ core, auth: readAuthConfig(), corsOrigins: readCorsOrigins(), tracer });

/** One invocation, one request: its metrics are flushed as EMF lines when it ends. */
export const handler = flushingMetrics(() => core, handle(app));
