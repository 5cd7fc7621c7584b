export { createApp, type App, type AppDeps, type AppType, MAX_BODY_BYTES } from './app.ts';
export { startServer } from './server.ts';
export { createCoreContext, readAuthConfig, readCorsOrigins } from './runtime.ts';
export { changeConsumers, changeConsumerGroups, followChanges, wireJobs, JOB_KINDS, type ConsumerGroup } from './wiring.ts';
export { STATUS_BY_CODE } from './error-response.ts';

export { flushMetrics, startMetricsFlusher, telemetryOf, SERVICE_NAME, type Telemetry } from './telemetry/telemetry.ts';
export { startMetricsSummary, summaryLine } from './telemetry/summary.ts';
