// X-Ray tracing for every function of a deployed stage: Lambda records each invocation (active
// tracing, set on the underlying aws.lambda.Function: SST 4.17.1's Function has no tracing
// argument of its own), the app adds a subsegment per request and per DynamoDB call (Powertools
// Tracer, loaded only when TRACING is set: packages/api/src/telemetry/tracing.ts), and the role
// may send segments. `sst dev` runs functions on the developer's machine, where nothing is traced.
// API Gateway HTTP APIs have no X-Ray of their own: a trace starts at the function.

/** What the app reads to load its tracer; not a resource and not a secret, so a plain variable. */
export const tracingEnvironment = { TRACING: 'true' };

export const tracingPermissions = [{ actions: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'], resources: ['*'] }];

/** For a Function's `transform.function`. */
export const activeTracing = (args: aws.lambda.FunctionArgs): undefined => {
  args.tracingConfig = { mode: 'Active' };
  return undefined;
};

type FunctionTransform = (args: aws.lambda.FunctionArgs, opts: { dependsOn?: unknown }) => undefined;

/**
 * Everything a function's arguments need for it: spread into them. SST takes one
 * `transform.function`, so the function's own (`then`) runs inside this one.
 */
export const traced = (then?: FunctionTransform) => ({
  permissions: tracingPermissions,
  transform: {
    function: (args: aws.lambda.FunctionArgs, opts: { dependsOn?: unknown }): undefined => {
      activeTracing(args);
      return then?.(args, opts);
    },
  },
});
