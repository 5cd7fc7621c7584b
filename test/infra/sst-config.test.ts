import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
// Evaluates sst.config.ts and infra/ the way `sst deploy` would, with SST's globals replaced by
// recorders: SST's CLI needs the internet (it downloads Pulumi), so this is how the deployment
// is proven here. Nothing from `sst` or Pulumi is loaded.
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { TTL_ATTRIBUTE, tableDefinition } from '../../packages/core/src/db/table-definition.ts';
import { configFromEnv } from '../../packages/console/src/deploy-config.ts';
import { METRICS, METRIC_NAMESPACE } from '../../packages/core/src/telemetry/metric-registry.ts';

// A variable specifier keeps the type checker out of sst.config.ts and infra/, whose globals
// only exist under SST (tsconfig excludes them); Vitest resolves it at run time all the same.
const CONFIG = '../../sst.config.ts';
const TABLE = '../../infra/table.ts';

// ---------------------------------------------------------------------------------------------
// Recorders

/** Enough of Pulumi's Output for infra code: apply() runs at once and flattens nested outputs. */
class FakeOutput<T> {
  constructor(readonly value: T) {}
  apply<U>(fn: (value: T) => U): FakeOutput<U extends FakeOutput<infer V> ? V : U> {
    const next = fn(this.value);
    return (next instanceof FakeOutput ? next : new FakeOutput(next)) as never;
  }
}
const out = <T>(value: T) => new FakeOutput(value);
/** How the Queue recorder names a subscription: after its queue's physical name. */
const JOB_QUEUE = 'GenerationJobs-physical-name';

/** Deep value of anything that may hold outputs, for assertions. */
function resolve(value: unknown): any {
  if (value instanceof FakeOutput) return resolve(value.value);
  if (Array.isArray(value)) return value.map(resolve);
  if (value && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolve(v)]));
  }
  return value;
}

interface Recorded {
  type: string;
  name: string;
  args: any;
  /** Pulumi resource options (dependsOn…), for resources given some. */
  opts?: any;
  /** Args of an underlying resource after the component's `transform` for it ran. */
  transformed: Record<string, any>;
  instance: object;
}

let records: Recorded[] = [];

function record(instance: object, type: string, name: string, args: any, opts?: any): Recorded {
  const entry: Recorded = { type, name, args, opts, transformed: {}, instance };
  records.push(entry);
  return entry;
}

/** What SST's `transform()` does: a callback edits the args in place, an object is merged. */
function applyTransform(transform: unknown, base: Record<string, any>) {
  if (typeof transform === 'function') {
    transform(base, {}, 'recorded');
    return base;
  }
  return transform ? { ...base, ...transform } : base;
}

class Dynamo {
  readonly name: FakeOutput<string>;
  readonly arn: FakeOutput<string>;
  constructor(name: string, args: any) {
    const entry = record(this, 'sst.aws.Dynamo', name, args);
    // Starts empty so that the assertions see what infra/ sets, not SST's defaults.
    entry.transformed.table = applyTransform(args.transform?.table, {});
    this.name = out(`${name}-physical-name`);
    this.arn = out(`arn:aws:dynamodb:us-east-1:123456789012:table/${name}-physical-name`);
  }
  get nodes() {
    return { table: out({ name: this.name, arn: this.arn }) };
  }
  subscribe(name: string, subscriber: any, args: any = {}) {
    const subscription = {};
    const entry = record(subscription, 'sst.aws.Dynamo.subscribe', name, { subscriber, ...args, table: this });
    entry.transformed.eventSourceMapping = applyTransform(args.transform?.eventSourceMapping, {});
    // As SST's: an Output of the subscriber component.
    return out(
      Object.assign(subscription, {
        nodes: { function: out({ name: out(`${name}-fn`), arn: out(`arn:aws:lambda:us-east-1:123456789012:function:${name}`) }) },
      }),
    );
  }

}

class ApiGatewayV2 {
  readonly url = out('https://abc123.execute-api.us-east-1.amazonaws.com');
  readonly nodes = { api: { id: out('abc123'), executionArn: out('arn:aws:execute-api:abc123') } };
  constructor(name: string, args: any = {}) {
    const entry = record(this, 'sst.aws.ApiGatewayV2', name, args);
    entry.transformed.stage = applyTransform(args.transform?.stage, {
      apiId: this.nodes.api.id,
      autoDeploy: true,
      name: '$default',
    });
  }
  route(rawRoute: string, handler: any, args: any = {}) {
    const route = {};
    record(route, 'sst.aws.ApiGatewayV2.route', rawRoute, { handler, ...args });
    const fnName = out('coupon-books-route-handler-fn');
    return Object.assign(route, {
      nodes: { function: out({ name: fnName, arn: out('arn:aws:lambda:us-east-1:123456789012:function:fn') }) },
    });
  }
}

class Queue {
  readonly url: FakeOutput<string>;
  readonly arn: FakeOutput<string>;
  readonly nodes: { queue: { name: FakeOutput<string>; arn: FakeOutput<string> } };
  constructor(name: string, args: any = {}) {
    record(this, 'sst.aws.Queue', name, args);
    this.url = out(`https://sqs.us-east-1.amazonaws.com/123456789012/${name}-physical-name`);
    this.arn = out(`arn:aws:sqs:us-east-1:123456789012:${name}-physical-name`);
    this.nodes = { queue: { name: out(`${name}-physical-name`), arn: this.arn } };
  }
  subscribe(subscriber: any, args: any = {}) {
    const subscription = {};
    record(subscription, 'sst.aws.Queue.subscribe', resolve((this.nodes.queue.name as FakeOutput<string>).value), { subscriber, ...args, queue: this });
    return Object.assign(subscription, {
      nodes: { function: out({ name: out('coupon-books-job-worker-fn'), arn: out('arn:aws:lambda:us-east-1:123456789012:function:worker') }) },
    });
  }
}

/** `sst.aws.Function`: a Lambda of its own (the migration function). */
class SstFunction {
  readonly name: FakeOutput<string>;
  readonly arn: FakeOutput<string>;
  constructor(name: string, args: any, opts?: any) {
    record(this, 'sst.aws.Function', name, args, opts);
    this.name = out(`${name}-fn`);
    this.arn = out(`arn:aws:lambda:us-east-1:123456789012:function:${name}`);
  }
}

/** What `sst secret set` has stored for the stage being deployed. */
let secretValues: Record<string, string> = {};

class Secret {
  readonly name: FakeOutput<string>;
  readonly value: FakeOutput<string>;
  readonly placeholder: FakeOutput<string | undefined>;
  constructor(name: string, placeholder?: string) {
    record(this, 'sst.Secret', name, { placeholder });
    const value = secretValues[name] ?? placeholder;
    // As SST does: a secret with neither a stored value nor a placeholder stops the deploy.
    if (typeof value !== 'string') {
      throw new Error(`Set a value for ${name} with \`sst secret set ${name} <value>\``);
    }
    this.name = out(name);
    this.value = out(value);
    this.placeholder = out(placeholder);
  }
}

/** `sst.Linkable`: arbitrary properties under a link name. */
class Linkable {
  readonly name: FakeOutput<string>;
  readonly properties: Record<string, unknown>;
  constructor(name: string, args: any) {
    record(this, 'sst.Linkable', name, args);
    this.name = out(name);
    this.properties = args.properties;
  }
}

/** `sst.aws.StaticSite`: its CloudFront URL (or, under `sst dev`, its dev server's). */
class StaticSite {
  readonly url: FakeOutput<string>;
  constructor(name: string, args: any) {
    record(this, 'sst.aws.StaticSite', name, args);
    this.url = out(($dev() ? args.dev?.url : undefined) ?? 'https://d111111abcdef8.cloudfront.net');
  }
}
const $dev = () => (globalThis as { $dev?: boolean }).$dev === true;

/** `sst.x.DevCommand`: a pane of `sst dev`; nothing on deploy. */
class DevCommand {
  constructor(name: string, args: any) {
    record(this, 'sst.x.DevCommand', name, args);
  }
}

/** A plain Pulumi resource: records its args and exposes the common outputs. */
function pulumiResource(type: string) {
  return class {
    readonly arn: FakeOutput<string>;
    readonly id: FakeOutput<string>;
    readonly name: FakeOutput<string>;
    constructor(name: string, args: any = {}, opts?: any) {
      record(this, type, name, args, opts);
      this.arn = out(`arn:${type}:${name}`);
      this.id = out(`${name}-id`);
      this.name = out(`${name}-physical-name`);
    }
  };
}

const globals = {
  $config: (config: unknown) => config,
  $interpolate: (strings: TemplateStringsArray, ...values: unknown[]) =>
    out(strings.reduce((acc, s, i) => acc + s + (i < values.length ? String(resolve(values[i])) : ''), '')),
  $resolve: (values: unknown[]) => out(values.map(resolve)),
  $jsonStringify: (value: unknown) => out(JSON.stringify(resolve(value))),
  sst: { Secret, Linkable, x: { DevCommand }, aws: { Dynamo, ApiGatewayV2, Queue, StaticSite, Function: SstFunction } },
  aws: {
    lambda: { Invocation: pulumiResource('aws.lambda.Invocation') },
    cloudwatch: { MetricAlarm: pulumiResource('aws.cloudwatch.MetricAlarm'), Dashboard: pulumiResource('aws.cloudwatch.Dashboard') },
    sns: {
      Topic: pulumiResource('aws.sns.Topic'),
      TopicSubscription: pulumiResource('aws.sns.TopicSubscription'),
    },
  },
};

// ---------------------------------------------------------------------------------------------
// Running the config

/** Variables infra/ reads at deploy time; cleared so the shell running the tests cannot leak in. */
const DEPLOY_ENV = [
  'ALARM_EMAIL',
  'API_THROTTLE_BURST',
  'API_THROTTLE_RATE',
  'API_RESERVED_CONCURRENCY',
  'DYNAMO_WARM_WRITES',
  'DYNAMO_WARM_READS',
  'DYNAMO_WARM_POOL_WRITES',
  'DYNAMO_WARM_POOL_READS',
  'DYNAMO_WARM_BYOWNER_WRITES',
  'DYNAMO_WARM_BYOWNER_READS',
  'DYNAMO_WARM_BYBOOK_WRITES',
  'DYNAMO_WARM_BYBOOK_READS',
  'SST_DEV_TABLE',
  'DEV_DYNAMODB_PORT',
  'CONSOLE_OIDC_ISSUER',
  'CONSOLE_OIDC_CLIENT_ID',
  'CONSOLE_OIDC_SCOPE',
  'CONSOLE_OIDC_RESOURCE',
  'CONSOLE_OIDC_ORIGINS',
];
const savedEnv = Object.fromEntries(DEPLOY_ENV.map((k) => [k, process.env[k]]));

function setDeployEnv(env: Record<string, string>) {
  for (const k of DEPLOY_ENV) delete process.env[k];
  Object.assign(process.env, env);
}

async function loadConfig() {
  return (await import(/* @vite-ignore */ CONFIG)).default;
}

/** One `sst deploy --stage <stage>`: app() then run(), on fresh modules and empty recorders. */
async function deploy(
  stage: string,
  {
    env = {},
    secrets = { JwtSecret: 'test-jwt-secret', ErasureSecret: 'test-erasure-secret' },
    dev = false,
  }: { env?: Record<string, string>; secrets?: Record<string, string>; dev?: boolean } = {},
) {
  vi.resetModules();
  records = [];
  // `sst dev` sets $dev; `sst deploy` does not.
  Object.assign(globalThis, { $dev: dev });
  secretValues = secrets;
  setDeployEnv(env);
  const config = await loadConfig();
  const app = config.app({ stage });
  // SST derives $app from app()'s answer; infra/ reads protect from it.
  Object.assign(globalThis, { $app: { name: app.name, stage, removal: app.removal, protect: app.protect } });
  const outputs = resolve(await config.run());
  return { app, outputs, records: [...records] };
}

type Deployment = Awaited<ReturnType<typeof deploy>>;

function only(d: Deployment, type: string, name?: string): Recorded {
  const found = d.records.filter((r) => r.type === type && (name === undefined || r.name === name));
  expect(found, `${type} ${name ?? ''}`).toHaveLength(1);
  return found[0]!;
}

function alarms(d: Deployment) {
  return d.records
    .filter((r) => r.type === 'aws.cloudwatch.MetricAlarm')
    .map((r) => ({ ...r, args: resolve(r.args) }));
}

beforeAll(() => {
  Object.assign(globalThis, globals);
});

afterEach(() => {
  setDeployEnv({});
  for (const [k, v] of Object.entries(savedEnv)) if (v !== undefined) process.env[k] = v;
});

// ---------------------------------------------------------------------------------------------

const root = join(import.meta.dirname, '..', '..');

describe('app()', () => {
  it('removes everything on a development stage', async () => {
    const app = (await loadConfig()).app({ stage: 'dev' });
    expect(app).toMatchObject({ name: 'coupon-books', removal: 'remove', protect: false, home: 'aws' });
    expect(app.providers.aws.region).toMatch(/^[a-z]{2}-[a-z]+-\d$/);
  });

  it.each(['production', 'prod'])('retains and protects the %s stage', async (stage) => {
    const app = (await loadConfig()).app({ stage });
    expect(app).toMatchObject({ removal: 'retain', protect: true });
  });
});

describe('run() on a development stage', () => {
  let d: Deployment;
  beforeAll(async () => {
    d = await deploy('dev');
  });

  it('creates the single table with its keys, indexes and TTL', () => {
    const { args } = only(d, 'sst.aws.Dynamo', 'Coupons');
    expect(args.fields).toEqual({
      pk: 'string',
      sk: 'string',
      gsi1pk: 'string',
      gsi1sk: 'string',
      gsi2pk: 'string',
      gsi2sk: 'string',
      gsi3pk: 'string',
      gsi3sk: 'string',
    });
    expect(args.primaryIndex).toEqual({ hashKey: 'pk', rangeKey: 'sk' });
    expect(Object.keys(args.globalIndexes).sort()).toEqual(['byBook', 'byOwner', 'pool']);
    expect(args.globalIndexes.pool).toEqual({ hashKey: 'gsi1pk', rangeKey: 'gsi1sk', projection: 'keys-only' });
    expect(args.globalIndexes.byOwner).toMatchObject({ hashKey: 'gsi2pk', rangeKey: 'gsi2sk' });
    expect(args.globalIndexes.byOwner.projection ?? 'all').toBe('all');
    expect(args.globalIndexes.byBook).toEqual({ hashKey: 'gsi3pk', rangeKey: 'gsi3sk', projection: 'keys-only' });
    expect(args.ttl).toBe('expiresAt');
  });

  it('streams new and old images, as the local table does, for history and webhooks', () => {
    const { args } = only(d, 'sst.aws.Dynamo', 'Coupons');
    expect(args.stream).toBe('new-and-old-images');
    expect(tableDefinition('x').StreamSpecification).toEqual({ StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' });
  });

  it('bills on demand with point-in-time recovery, and leaves deletion protection off', () => {
    const table = only(d, 'sst.aws.Dynamo', 'Coupons');
    expect(table.transformed.table.billingMode).toBe('PAY_PER_REQUEST');
    expect(table.transformed.table.pointInTimeRecovery).toEqual({ enabled: true });
    expect(table.args.deletionProtection).toBe(false);
  });

  it('declares the JWT and erasure secrets as required and the JWKS URL as optional', () => {
    expect(only(d, 'sst.Secret', 'JwtSecret').args.placeholder).toBeUndefined();
    expect(only(d, 'sst.Secret', 'ErasureSecret').args.placeholder).toBeUndefined();
    expect(only(d, 'sst.Secret', 'JwksUrl').args.placeholder).toBe('');
  });

  it('throttles the HTTP API stage with the default limits', () => {
    const apiGw = only(d, 'sst.aws.ApiGatewayV2', 'Api');
    expect(apiGw.transformed.stage.defaultRouteSettings).toEqual({
      throttlingBurstLimit: 5000,
      throttlingRateLimit: 10000,
    });
    // The transform adds to SST's stage, it does not replace it.
    expect(apiGw.transformed.stage.name).toBe('$default');
  });

  it('routes everything to the Hono Lambda on Node 24, arm64', () => {
    const route = only(d, 'sst.aws.ApiGatewayV2.route', '$default');
    expect(route.args.handler).toMatchObject({
      handler: 'packages/api/src/lambda.handler',
      runtime: 'nodejs24.x',
      architecture: 'arm64',
      memory: '1024 MB',
      timeout: '10 seconds',
    });
    expect(route.args.handler.concurrency).toBeUndefined();
  });

  it("ships swagger-ui's files beside the handler, where the /docs page looks for them", () => {
    const { handler } = only(d, 'sst.aws.ApiGatewayV2.route', '$default').args;
    expect(handler.copyFiles).toEqual(
      ['swagger-ui.css', 'swagger-ui-bundle.js', 'swagger-ui-standalone-preset.js'].map((f) => ({
        from: `node_modules/swagger-ui-dist/${f}`,
        to: `swagger-ui/${f}`,
      })),
    );
    for (const { from } of handler.copyFiles) expect(existsSync(join(root, from))).toBe(true);
  });

  it('links the Lambda to the table, the three secrets and the generation-job queue', () => {
    const { handler } = only(d, 'sst.aws.ApiGatewayV2.route', '$default').args;
    const table = only(d, 'sst.aws.Dynamo', 'Coupons').instance;
    const jwt = only(d, 'sst.Secret', 'JwtSecret').instance;
    const jwks = only(d, 'sst.Secret', 'JwksUrl').instance;
    const queue = only(d, 'sst.aws.Queue', 'GenerationJobs').instance;
    expect(handler.link).toHaveLength(5);
    expect(handler.link).toContain(only(d, 'sst.Secret', 'ErasureSecret').instance);
    expect(handler.link).toContain(table);
    expect(handler.link).toContain(jwt);
    expect(handler.link).toContain(jwks);
    expect(handler.link).toContain(queue);
  });

  it('links exactly the resources the app reads through Resource (packages/api/src/runtime.ts)', async () => {
    const { LINKED_RESOURCES } = await import('../../packages/api/src/runtime.ts');
    const { handler } = only(d, 'sst.aws.ApiGatewayV2.route', '$default').args;
    const linkedNames = d.records.filter((r) => handler.link.includes(r.instance)).map((r) => r.name).sort();
    // The webhook delivery queue is linked only to the functions that use it (infra/webhooks.ts).
    expect(linkedNames).toEqual(Object.keys(LINKED_RESOURCES).filter((n) => n !== 'WebhookDeliveries').sort());
  });

  it('puts no resource and no secret in the Lambda\'s variables: they are links, read through Resource', () => {
    const { handler } = only(d, 'sst.aws.ApiGatewayV2.route', '$default').args;
    expect(resolve(handler.environment)).toEqual({ NODE_ENV: 'production', TRACING: 'true' });
    // Only the link (SST's encrypted resource file) carries the secret's value.
    const { link, ...configuration } = handler;
    expect(JSON.stringify(resolve(configuration))).not.toContain('test-jwt-secret');
    expect(JSON.stringify(resolve(configuration))).not.toContain('test-erasure-secret');
    expect(link).toContain(only(d, 'sst.Secret', 'JwtSecret').instance);
  });

  it('queues generation jobs with a dead-letter queue after 5 receives, hidden longer than a worker runs', () => {
    const queue = only(d, 'sst.aws.Queue', 'GenerationJobs');
    const dlq = only(d, 'sst.aws.Queue', 'GenerationJobsDlq');
    expect(resolve(queue.args.dlq)).toEqual({ queue: resolve((dlq.instance as any).arn), retry: 5 });
    const minutes = (s: string) => Number(/^(\d+) minutes?$/.exec(s)?.[1]);
    const worker = only(d, 'sst.aws.Queue.subscribe', JOB_QUEUE).args.subscriber;
    // Lambda refuses an event source whose visibility timeout is below the function's timeout.
    expect(minutes(queue.args.visibilityTimeout)).toBeGreaterThan(minutes(worker.timeout));
  });

  it('subscribes the job worker: Node 24 arm64, 15 minutes, one message at a time with partial failures', () => {
    const sub = only(d, 'sst.aws.Queue.subscribe', JOB_QUEUE);
    expect(sub.args.queue).toBe(only(d, 'sst.aws.Queue', 'GenerationJobs').instance);
    expect(sub.args.subscriber).toMatchObject({
      handler: 'packages/api/src/job-worker.handler',
      runtime: 'nodejs24.x',
      architecture: 'arm64',
      timeout: '15 minutes',
    });
    expect(sub.args.batch).toEqual({ size: 1, partialResponses: true });
  });

  it('links the worker to the table and its own queue (for continuations), neither in its variables', () => {
    const { subscriber } = only(d, 'sst.aws.Queue.subscribe', JOB_QUEUE).args;
    const table = only(d, 'sst.aws.Dynamo', 'Coupons').instance;
    const queue = only(d, 'sst.aws.Queue', 'GenerationJobs').instance;
    expect(subscriber.link).toHaveLength(2);
    expect(subscriber.link).toContain(table);
    expect(subscriber.link).toContain(queue);
    expect(resolve(subscriber.environment)).toEqual({ NODE_ENV: 'production', TRACING: 'true' });
    // The worker needs no JWT secret: it never authenticates a request.
    expect(JSON.stringify(resolve(subscriber.environment))).not.toContain('test-jwt-secret');
  });

  it('the worker file exports the handler the subscription names', async () => {
    const { subscriber } = only(d, 'sst.aws.Queue.subscribe', JOB_QUEUE).args;
    const [file, exported] = (subscriber.handler as string).split(/\.(?=[^.]+$)/);
    const mod = await import(/* @vite-ignore */ `../../${file}.ts`);
    expect(typeof mod[exported!]).toBe('function');
  });

  it('alarms when a job message lands in the dead-letter queue', () => {
    const a = alarms(d).find((x) => x.args.namespace === 'AWS/SQS');
    expect(a?.args).toMatchObject({
      metricName: 'ApproximateNumberOfMessagesVisible',
      dimensions: { QueueName: 'GenerationJobsDlq-physical-name' },
      threshold: 1,
    });
  });

  it('alarms on API 5xx and p99 latency for this API', () => {
    const all = alarms(d);
    const fivexx = all.find((a) => a.args.metricName === '5xx');
    expect(fivexx?.args).toMatchObject({ namespace: 'AWS/ApiGateway', dimensions: { ApiId: 'abc123' } });
    const latency = all.find((a) => a.args.metricName === 'Latency');
    expect(latency?.args).toMatchObject({
      namespace: 'AWS/ApiGateway',
      extendedStatistic: 'p99',
      dimensions: { ApiId: 'abc123' },
    });
    expect(latency?.args.statistic).toBeUndefined();
  });

  it("alarms on the route function's errors and throttles", () => {
    const all = alarms(d);
    for (const metricName of ['Errors', 'Throttles']) {
      const a = all.find((x) => x.args.metricName === metricName);
      expect(a?.args, metricName).toMatchObject({
        namespace: 'AWS/Lambda',
        dimensions: { FunctionName: 'coupon-books-route-handler-fn' },
      });
    }
  });

  it('alarms on DynamoDB throttling of the table and of each index', () => {
    const all = alarms(d);
    const tableName = 'Coupons-physical-name';
    const write = all.filter((a) => a.args.metricName === 'WriteThrottleEvents');
    expect(write.map((a) => a.args.dimensions)).toEqual(
      expect.arrayContaining([
        { TableName: tableName },
        { TableName: tableName, GlobalSecondaryIndexName: 'pool' },
        { TableName: tableName, GlobalSecondaryIndexName: 'byOwner' },
        { TableName: tableName, GlobalSecondaryIndexName: 'byBook' },
      ]),
    );
    expect(all.find((a) => a.args.metricName === 'ReadThrottleEvents')?.args.dimensions).toEqual({
      TableName: tableName,
    });

    const throttled = all.find((a) =>
      a.args.metricQueries?.some((q: any) => q.metric?.metricName === 'ThrottledRequests'),
    );
    expect(throttled).toBeDefined();
    const queries = throttled!.args.metricQueries as any[];
    const operations = queries.filter((q) => q.metric).map((q) => q.metric.dimensions.Operation);
    expect(operations).toEqual(expect.arrayContaining(['TransactWriteItems', 'UpdateItem', 'Query', 'GetItem']));
    for (const q of queries.filter((q) => q.metric)) expect(q.metric.dimensions.TableName).toBe(tableName);
    // Exactly one series is what the alarm watches.
    expect(queries.filter((q) => q.returnData)).toHaveLength(1);
  });

  it('gives every alarm a stage-scoped name and treats no data as healthy', () => {
    const all = alarms(d);
    expect(all.length).toBeGreaterThanOrEqual(8);
    const names = all.map((a) => a.args.name);
    expect(new Set(names).size).toBe(names.length);
    for (const a of all) {
      expect(a.args.name).toMatch(/^coupon-books-dev-/);
      expect(a.args.treatMissingData).toBe('notBreaching');
      expect(a.args.alarmDescription).toBeTruthy();
    }
  });

  it('creates no SNS topic when ALARM_EMAIL is unset', () => {
    expect(d.records.filter((r) => r.type.startsWith('aws.sns.'))).toEqual([]);
    for (const a of alarms(d)) expect(a.args.alarmActions).toEqual([]);
  });

  it('outputs the API URL and the table name', () => {
    expect(d.outputs).toEqual({
      apiUrl: 'https://abc123.execute-api.us-east-1.amazonaws.com',
      tableName: 'Coupons-physical-name',
    });
  });
});

describe('run() on the production stage', () => {
  let d: Deployment;
  beforeAll(async () => {
    d = await deploy('production');
  });

  it('turns deletion protection on and keeps on-demand billing and PITR', () => {
    const table = only(d, 'sst.aws.Dynamo', 'Coupons');
    expect(table.args.deletionProtection).toBe(true);
    expect(table.transformed.table).toMatchObject({
      billingMode: 'PAY_PER_REQUEST',
      pointInTimeRecovery: { enabled: true },
    });
  });

  it('names alarms after the stage', () => {
    for (const a of alarms(d)) expect(a.args.name).toMatch(/^coupon-books-production-/);
  });

  it('protects a stage called prod the same way', async () => {
    const prod = await deploy('prod');
    expect(only(prod, 'sst.aws.Dynamo', 'Coupons').args.deletionProtection).toBe(true);
  });
});

describe('deploy-time settings', () => {
  it('takes the throttling limits and reserved concurrency from the environment', async () => {
    const d = await deploy('dev', {
      env: {
        API_THROTTLE_BURST: '20000',
        API_THROTTLE_RATE: '40000',
        API_RESERVED_CONCURRENCY: '500',
      },
    });
    expect(only(d, 'sst.aws.ApiGatewayV2', 'Api').transformed.stage.defaultRouteSettings).toEqual({
      throttlingBurstLimit: 20000,
      throttlingRateLimit: 40000,
    });
    const { handler } = only(d, 'sst.aws.ApiGatewayV2.route', '$default').args;
    expect(handler.concurrency).toEqual({ reserved: 500 });
    // Shards are chosen per book at creation (POST /coupons), not per deployment.
    expect(resolve(handler.environment)).not.toHaveProperty('POOL_SHARDS');
  });

  it('takes warm throughput for the table and each index from the environment (what npm run capacity prints)', async () => {
    const d = await deploy('dev', {
      env: {
        DYNAMO_WARM_WRITES: '212500',
        DYNAMO_WARM_READS: '20000',
        DYNAMO_WARM_POOL_WRITES: '25000',
        DYNAMO_WARM_BYOWNER_WRITES: '37500',
        DYNAMO_WARM_BYOWNER_READS: '12000',
      },
    });
    const table = only(d, 'sst.aws.Dynamo', 'Coupons').transformed.table;
    expect(table.warmThroughput).toEqual({ writeUnitsPerSecond: 212500, readUnitsPerSecond: 20000 });
    expect(table.billingMode).toBe('PAY_PER_REQUEST');
    expect(table.globalSecondaryIndexes).toEqual([
      { name: 'pool', hashKey: 'gsi1pk', rangeKey: 'gsi1sk', projectionType: 'KEYS_ONLY', warmThroughput: { writeUnitsPerSecond: 25000 } },
      { name: 'byOwner', hashKey: 'gsi2pk', rangeKey: 'gsi2sk', projectionType: 'ALL', warmThroughput: { writeUnitsPerSecond: 37500, readUnitsPerSecond: 12000 } },
      { name: 'byBook', hashKey: 'gsi3pk', rangeKey: 'gsi3sk', projectionType: 'KEYS_ONLY' },
    ]);
  });

  it('leaves warm throughput to AWS when none is set', async () => {
    const table = only(await deploy('dev'), 'sst.aws.Dynamo', 'Coupons').transformed.table;
    expect(table).not.toHaveProperty('warmThroughput');
    expect(table).not.toHaveProperty('globalSecondaryIndexes');
  });

  it.each([
    ['API_THROTTLE_RATE', 'lots'],
    ['API_THROTTLE_BURST', '0'],
    ['API_RESERVED_CONCURRENCY', '1.5'],
    ['DYNAMO_WARM_WRITES', '-5'],
    ['DYNAMO_WARM_POOL_READS', 'many'],
  ])('refuses %s=%s at deploy time', async (name, value) => {
    await expect(deploy('dev', { env: { [name]: value } })).rejects.toThrow(name);
  });

  it('sends every alarm to an SNS topic with an email subscription when ALARM_EMAIL is set', async () => {
    const d = await deploy('production', { env: { ALARM_EMAIL: 'oncall@example.com' } });
    const topic = only(d, 'aws.sns.Topic');
    const subscription = only(d, 'aws.sns.TopicSubscription');
    const topicArn = resolve((topic.instance as { arn: unknown }).arn);
    expect(resolve(subscription.args)).toEqual({ topic: topicArn, protocol: 'email', endpoint: 'oncall@example.com' });
    const all = alarms(d);
    expect(all.length).toBeGreaterThanOrEqual(8);
    for (const a of all) {
      expect(a.args.alarmActions).toEqual([topicArn]);
      expect(a.args.okActions).toEqual([topicArn]);
    }
  });

  it('links a JWKS URL once one is set, never as a variable', async () => {
    const jwks = 'https://idp.example.com/.well-known/jwks.json';
    const d = await deploy('dev', { secrets: { JwtSecret: 's', ErasureSecret: 'e', JwksUrl: jwks } });
    const { handler } = only(d, 'sst.aws.ApiGatewayV2.route', '$default').args;
    const secret = handler.link.find((l: unknown) => l === only(d, 'sst.Secret', 'JwksUrl').instance);
    expect(resolve(secret.value)).toBe(jwks);
    expect(JSON.stringify(resolve(handler.environment))).not.toContain(jwks);
  });

  it('fails the deploy while JwtSecret has no value', async () => {
    await expect(deploy('dev', { secrets: {} })).rejects.toThrow('JwtSecret');
  });

  it('fails the deploy while ErasureSecret has no value', async () => {
    await expect(deploy('dev', { secrets: { JwtSecret: 's' } })).rejects.toThrow('ErasureSecret');
  });
});

describe('`sst dev` on a personal stage', () => {
  let d: Deployment;
  beforeAll(async () => {
    d = await deploy('alice', { dev: true });
  });

  it('starts DynamoDB Local in its own pane with a script that exists, and creates no table on AWS', async () => {
    const { args } = only(d, 'sst.x.DevCommand', 'DynamoDbLocal');
    expect(args.dev).toMatchObject({ autostart: true, command: 'node --import tsx scripts/sst-dev-dynamodb.ts' });
    expect(existsSync(join(root, 'scripts/sst-dev-dynamodb.ts'))).toBe(true);
    expect(args.environment).toEqual({ DEV_DYNAMODB_PORT: '8000', TABLE_NAME: 'coupons', DATA_DIR: '.data/sst-dev' });
    expect(d.records.filter((r) => r.type === 'sst.aws.Dynamo')).toEqual([]);
    expect(alarms(d)).toEqual([]);
  });

  it("links the function and the worker to a Coupons Linkable carrying DynamoDB Local's endpoint", async () => {
    const local = only(d, 'sst.Linkable', 'Coupons');
    expect(local.args.properties).toEqual({ name: 'coupons', endpoint: 'http://127.0.0.1:8000' });
    const { handler } = only(d, 'sst.aws.ApiGatewayV2.route', '$default').args;
    expect(handler.link).toContain(local.instance);
    expect(only(d, 'sst.aws.Queue.subscribe').args.subscriber.link).toContain(local.instance);
    // The app maps both properties (runtime.ts).
    const { LINKED_RESOURCES } = await import('../../packages/api/src/runtime.ts');
    expect(Object.keys(LINKED_RESOURCES.Coupons).sort()).toEqual(Object.keys(local.args.properties).sort());
    expect(d.outputs.tableName).toBe('coupons');
  });

  it('moves DynamoDB Local with DEV_DYNAMODB_PORT, or uses a table of the stage with SST_DEV_TABLE=aws', async () => {
    const moved = await deploy('alice', { dev: true, env: { DEV_DYNAMODB_PORT: '8123' } });
    expect(only(moved, 'sst.Linkable', 'Coupons').args.properties.endpoint).toBe('http://127.0.0.1:8123');
    expect(only(moved, 'sst.x.DevCommand', 'DynamoDbLocal').args.environment.DEV_DYNAMODB_PORT).toBe('8123');
    const onAws = await deploy('alice', { dev: true, env: { SST_DEV_TABLE: 'aws' } });
    only(onAws, 'sst.aws.Dynamo', 'Coupons');
    expect(onAws.records.filter((r) => r.type === 'sst.x.DevCommand' || r.type === 'sst.Linkable')).toEqual([]);
  });
});

describe('infra/table.ts agrees with the local table definition', () => {
  const local = tableDefinition('x');
  let args: any;
  beforeAll(async () => {
    vi.resetModules();
    records = [];
    Object.assign(globalThis, { $dev: false });
    Object.assign(globalThis, { $app: { name: 'coupon-books', stage: 'dev', removal: 'remove', protect: false } });
    await import(/* @vite-ignore */ TABLE);
    args = records.find((r) => r.type === 'sst.aws.Dynamo')!.args;
  });

  const keysOf = (schema: { AttributeName?: string; KeyType?: string }[] | undefined) => ({
    hashKey: schema?.find((k) => k.KeyType === 'HASH')?.AttributeName,
    rangeKey: schema?.find((k) => k.KeyType === 'RANGE')?.AttributeName,
  });

  it('has the same attributes and types', () => {
    const types: Record<string, string> = { string: 'S', number: 'N', binary: 'B' };
    const deployed = Object.entries(args.fields as Record<string, string>)
      .map(([name, type]) => ({ AttributeName: name, AttributeType: types[type] }))
      .sort((a, b) => a.AttributeName.localeCompare(b.AttributeName));
    const localAttributes = [...(local.AttributeDefinitions ?? [])].sort((a, b) =>
      a.AttributeName!.localeCompare(b.AttributeName!),
    );
    expect(deployed).toEqual(localAttributes);
  });

  it('has the same primary key', () => {
    expect(args.primaryIndex).toEqual(keysOf(local.KeySchema));
  });

  it('has the same global indexes, keys and projections', () => {
    const projection = (p: string | undefined) => ({ 'keys-only': 'KEYS_ONLY', all: 'ALL' })[p ?? 'all'];
    const deployed = Object.entries(args.globalIndexes as Record<string, any>)
      .map(([name, index]) => ({
        name,
        hashKey: index.hashKey,
        rangeKey: index.rangeKey,
        projection: projection(index.projection),
      }))
      .sort((a, b) => a.name.localeCompare(b.name));
    const localIndexes = (local.GlobalSecondaryIndexes ?? [])
      .map((index) => ({
        name: index.IndexName,
        ...keysOf(index.KeySchema),
        projection: index.Projection?.ProjectionType,
      }))
      .sort((a, b) => a.name!.localeCompare(b.name!));
    expect(deployed).toEqual(localIndexes);
    expect(deployed.map((i) => i.name)).toEqual(['byBook', 'byOwner', 'pool']);
  });

  it('uses the same TTL attribute and billing mode', () => {
    expect(args.ttl).toBe(TTL_ATTRIBUTE);
    const table = records.find((r) => r.type === 'sst.aws.Dynamo')!;
    expect(table.transformed.table.billingMode).toBe(local.BillingMode);
  });
});

describe('webhooks on AWS (infra/webhooks.ts)', () => {
  let d: Deployment;
  beforeAll(async () => {
    d = await deploy('dev');
  });

  it('subscribes the change-stream function to the table, from the oldest record, retrying failed batches instead of skipping them', () => {
    const sub = only(d, 'sst.aws.Dynamo.subscribe', 'ChangeStream');
    expect(sub.args.table).toBe(only(d, 'sst.aws.Dynamo', 'Coupons').instance);
    expect(sub.args.subscriber).toMatchObject({ handler: 'packages/api/src/change-stream.handler', runtime: 'nodejs24.x', architecture: 'arm64' });
    expect(sub.transformed.eventSourceMapping).toMatchObject({
      startingPosition: 'TRIM_HORIZON',
      functionResponseTypes: ['ReportBatchItemFailures'],
      maximumRetryAttempts: -1,
      maximumRecordAgeInSeconds: -1,
    });
    // The table must stream both images for the consumers to see what changed.
    expect(only(d, 'sst.aws.Dynamo', 'Coupons').args.stream).toBe('new-and-old-images');
  });

  it('links the stream function to the table and the delivery queue, so its webhook consumer enqueues instead of sending', async () => {
    const { subscriber } = only(d, 'sst.aws.Dynamo.subscribe', 'ChangeStream').args;
    const queue = only(d, 'sst.aws.Queue', 'WebhookDeliveries').instance;
    expect(subscriber.link).toEqual([only(d, 'sst.aws.Dynamo', 'Coupons').instance, queue]);
    // The app reads the queue's URL from the link (runtime.ts); nothing allows loopback targets.
    const { LINKED_RESOURCES } = await import('../../packages/api/src/runtime.ts');
    expect(LINKED_RESOURCES.WebhookDeliveries).toEqual({ url: 'WEBHOOK_QUEUE_URL' });
    expect(resolve(subscriber.environment)).toEqual({ NODE_ENV: 'production', TRACING: 'true' });
  });

  it('queues deliveries on a FIFO queue with a FIFO dead-letter queue, hidden longer than the worker runs', () => {
    const queue = only(d, 'sst.aws.Queue', 'WebhookDeliveries');
    const dlq = only(d, 'sst.aws.Queue', 'WebhookDeliveriesDlq');
    expect(queue.args.fifo).toBe(true);
    expect(dlq.args.fifo).toBe(true);
    expect(resolve(queue.args.dlq)).toEqual({ queue: resolve((dlq.instance as any).arn), retry: 100 });
    const seconds = (s: string) => Number(/^(\d+) seconds$/.exec(s)?.[1]);
    const worker = only(d, 'sst.aws.Queue.subscribe', 'WebhookDeliveries-physical-name').args;
    expect(seconds(queue.args.visibilityTimeout)).toBeGreaterThan(seconds(worker.subscriber.timeout));
  });

  it('subscribes the delivery worker with partial batch failures, linked to the table and its queue', async () => {
    const sub = only(d, 'sst.aws.Queue.subscribe', 'WebhookDeliveries-physical-name');
    expect(sub.args.subscriber).toMatchObject({ handler: 'packages/api/src/webhook-worker.handler', runtime: 'nodejs24.x', architecture: 'arm64' });
    expect(sub.args.batch).toEqual({ size: 10, partialResponses: true });
    expect(sub.args.subscriber.link).toEqual([only(d, 'sst.aws.Dynamo', 'Coupons').instance, only(d, 'sst.aws.Queue', 'WebhookDeliveries').instance]);
    expect(resolve(sub.args.subscriber.environment)).toEqual({ NODE_ENV: 'production', TRACING: 'true' });
    for (const handler of [sub.args.subscriber.handler, only(d, 'sst.aws.Dynamo.subscribe', 'ChangeStream').args.subscriber.handler]) {
      const [file, exported] = (handler as string).split(/\.(?=[^.]+$)/);
      const mod = await import(/* @vite-ignore */ `../../${file}.ts`);
      expect(typeof mod[exported!], handler).toBe('function');
    }
  });

  it('alarms on dead-lettered deliveries and on a change stream that falls behind', () => {
    const all = alarms(d);
    const dead = all.find((a) => a.args.dimensions?.QueueName === 'WebhookDeliveriesDlq-physical-name');
    expect(dead?.args).toMatchObject({ namespace: 'AWS/SQS', metricName: 'ApproximateNumberOfMessagesVisible', threshold: 1, treatMissingData: 'notBreaching' });
    expect(dead?.args.name).toBe('coupon-books-dev-webhook-dead-letters');
    const age = all.find((a) => a.args.metricName === 'IteratorAge');
    expect(age?.args).toMatchObject({ namespace: 'AWS/Lambda', dimensions: { FunctionName: 'ChangeStream-fn' } });
  });

  it('adds none of it under `sst dev` on DynamoDB Local, which has no AWS stream (npm start follows it in-process)', async () => {
    const dev = await deploy('alice', { dev: true });
    expect(dev.records.filter((r) => r.type === 'sst.aws.Dynamo.subscribe' || r.name.startsWith('WebhookDeliveries'))).toEqual([]);
  });

  it('notifies the alarm topic when ALARM_EMAIL is set', async () => {
    const withEmail = await deploy('dev', { env: { ALARM_EMAIL: 'ops@example.com' } });
    const topic = only(withEmail, 'aws.sns.Topic').instance as any;
    const dead = alarms(withEmail).find((a) => a.args.name === 'coupon-books-dev-webhook-dead-letters');
    expect(dead?.args.alarmActions).toEqual([resolve(topic.arn)]);
  });
});

describe('the operator console (infra/console.ts)', () => {
  const OIDC = { CONSOLE_OIDC_ISSUER: 'https://idp.example.com/realms/shop', CONSOLE_OIDC_CLIENT_ID: 'coupons-console' };
  const API_URL = 'https://abc123.execute-api.us-east-1.amazonaws.com';
  const SITE_URL = 'https://d111111abcdef8.cloudfront.net';
  let d: Deployment;
  beforeAll(async () => {
    d = await deploy('production', { env: OIDC });
  });

  it('deploys the built console as a static site, its config.json naming the API and the identity provider', () => {
    const { args } = only(d, 'sst.aws.StaticSite', 'Console');
    expect(args.path).toBe('packages/console');
    expect(existsSync(join(root, args.path, 'vite.config.ts'))).toBe(true);
    expect(args.build).toEqual({ command: 'npm run build', output: 'dist' });
    const environment = resolve(args.environment);
    expect(environment).toEqual({ CONSOLE_API_URL: API_URL, ...OIDC });
    // What the build (vite.config.ts) writes into config.json from those variables.
    expect(configFromEnv(environment)).toEqual({ apiUrl: API_URL, oidc: { issuer: OIDC.CONSOLE_OIDC_ISSUER, clientId: 'coupons-console' } });
    expect(d.outputs.consoleUrl).toBe(SITE_URL);
  });

  it('caches only the hashed assets for good, and revalidates index.html and config.json', () => {
    const { fileOptions } = only(d, 'sst.aws.StaticSite', 'Console').args.assets;
    // SST applies them last first: a file takes the last pattern it matches.
    const cacheOf = (file: string) => [...fileOptions].reverse().find((o: { files: string }) => (o.files === '**' ? true : file.startsWith(o.files.replace('**', ''))))?.cacheControl;
    expect(cacheOf('assets/index-3fa9c1.js')).toBe('public, max-age=31536000, immutable');
    expect(cacheOf('index.html')).toBe('no-cache');
    expect(cacheOf('config.json')).toBe('no-cache');
    expect(cacheOf('favicon.svg')).toBe('no-cache');
  });

  it('answers with a CSP that allows its own origin, plus the API and the identity provider for requests', () => {
    const injection: string = resolve(only(d, 'sst.aws.StaticSite', 'Console').args.edge).viewerResponse.injection;
    const headers: Record<string, { value: string }> = {};
    new Function('event', injection)({ response: { headers } });
    const csp = headers['content-security-policy']!.value;
    expect(csp).toContain(`connect-src 'self' ${API_URL} https://idp.example.com;`);
    expect(csp).toContain("script-src 'self';");
    expect(csp).toContain("default-src 'none';");
    expect(headers['x-content-type-options']!.value).toBe('nosniff');
  });

  it("lets the console's origin call the API (CORS_ORIGINS), and nothing else in the function's variables", () => {
    const { handler } = only(d, 'sst.aws.ApiGatewayV2.route', '$default').args;
    expect(resolve(handler.environment)).toEqual({ NODE_ENV: 'production', CORS_ORIGINS: SITE_URL, TRACING: 'true' });
  });

  it('deploys no console without an identity provider, and refuses half of one', async () => {
    const none = await deploy('dev');
    expect(none.records.filter((r) => r.type === 'sst.aws.StaticSite')).toEqual([]);
    expect(none.outputs).not.toHaveProperty('consoleUrl');
    await expect(deploy('dev', { env: { CONSOLE_OIDC_ISSUER: OIDC.CONSOLE_OIDC_ISSUER } })).rejects.toThrow(/CONSOLE_OIDC_CLIENT_ID/);
  });

  it("under `sst dev` runs the console's dev server, and the API lets it in", async () => {
    const dev = await deploy('alice', { dev: true, env: OIDC });
    expect(only(dev, 'sst.aws.StaticSite', 'Console').args.dev).toEqual({ command: 'npm run dev', url: 'http://localhost:5173' });
    const { handler } = only(dev, 'sst.aws.ApiGatewayV2.route', '$default').args;
    expect(resolve(handler.environment).CORS_ORIGINS).toBe('http://localhost:5173');
  });
});

describe('migrations on deploy (infra/migrations.ts)', () => {
  let d: Deployment;
  beforeAll(async () => {
    d = await deploy('dev');
  });

  /** The Lambda functions that read or write the table, each as its component records it. */
  const tableFunctions = (dep: Deployment) => [
    { name: 'API', args: only(dep, 'sst.aws.ApiGatewayV2.route', '$default').args.handler, fn: (only(dep, 'sst.aws.ApiGatewayV2.route', '$default').instance as any).nodes.function },
    { name: 'job worker', args: only(dep, 'sst.aws.Queue.subscribe', JOB_QUEUE).args.subscriber, fn: (only(dep, 'sst.aws.Queue.subscribe', JOB_QUEUE).instance as any).nodes.function },
    {
      name: 'webhook worker',
      args: only(dep, 'sst.aws.Queue.subscribe', 'WebhookDeliveries-physical-name').args.subscriber,
      fn: (only(dep, 'sst.aws.Queue.subscribe', 'WebhookDeliveries-physical-name').instance as any).nodes.function,
    },
    { name: 'change stream', args: only(dep, 'sst.aws.Dynamo.subscribe', 'ChangeStream').args.subscriber, fn: (only(dep, 'sst.aws.Dynamo.subscribe', 'ChangeStream').instance as any).nodes.function },
  ];

  it('deploys one migration function: the runner the app exports, linked to the table alone, with Lambda\'s longest timeout', async () => {
    const fn = only(d, 'sst.aws.Function', 'Migrations');
    expect(fn.args).toMatchObject({ handler: 'packages/api/src/migrate.handler', runtime: 'nodejs24.x', architecture: 'arm64', timeout: '15 minutes' });
    expect(fn.args.link).toEqual([only(d, 'sst.aws.Dynamo', 'Coupons').instance]);
    expect(resolve(fn.args.environment)).toEqual({ NODE_ENV: 'production' });
    const mod = await import('../../packages/api/src/migrate.ts');
    expect(typeof mod.handler).toBe('function');
  });

  it('invokes it with prepare, re-invoked whenever the registered migrations change', async () => {
    const prepare = only(d, 'aws.lambda.Invocation', 'MigrationsPrepare');
    const fn = only(d, 'sst.aws.Function', 'Migrations').instance as any;
    expect(resolve(prepare.args.functionName)).toBe(resolve(fn.name));
    expect(JSON.parse(prepare.args.input)).toEqual({ phase: 'prepare' });
    const { MIGRATIONS } = await import('../../packages/core/src/migrations/registry.ts');
    expect(prepare.args.triggers).toEqual({ migrations: MIGRATIONS.map((m) => m.id).sort().join(',') });
  });

  it('gives every function that reads or writes the table its new code only after prepare', () => {
    const prepare = only(d, 'aws.lambda.Invocation', 'MigrationsPrepare').instance;
    for (const { name, args } of tableFunctions(d)) {
      const opts: { dependsOn?: unknown[] } = { dependsOn: ['kept'] };
      expect(typeof args.transform?.function, name).toBe('function');
      args.transform.function({}, opts, 'fn');
      expect(opts.dependsOn, name).toEqual(['kept', prepare]);
    }
  });

  it('invokes finish after every one of those functions, once the API\'s requests in flight have ended', () => {
    const finish = only(d, 'aws.lambda.Invocation', 'MigrationsFinish');
    const route = only(d, 'sst.aws.ApiGatewayV2.route', '$default').args.handler;
    const seconds = Number(/^(\d+) seconds$/.exec(route.timeout)?.[1]);
    const input = JSON.parse(finish.args.input);
    expect(input.phase).toBe('finish');
    expect(input.drainSeconds).toBeGreaterThan(seconds);
    expect(finish.args.triggers).toEqual(only(d, 'aws.lambda.Invocation', 'MigrationsPrepare').args.triggers);
    expect(resolve(finish.opts.dependsOn)).toEqual(tableFunctions(d).map((f) => resolve(f.fn)));
  });

  it('runs none of it under `sst dev`, whose table the DynamoDB Local pane migrates', async () => {
    for (const dev of [await deploy('alice', { dev: true }), await deploy('alice', { dev: true, env: { SST_DEV_TABLE: 'aws' } })]) {
      expect(dev.records.filter((r) => r.type === 'sst.aws.Function' || r.type === 'aws.lambda.Invocation')).toEqual([]);
      const opts: { dependsOn?: unknown } = {};
      only(dev, 'sst.aws.ApiGatewayV2.route', '$default').args.handler.transform.function({}, opts, 'fn');
      expect(opts.dependsOn).toBeUndefined();
    }
  });
});

describe('observability of a deployed stage (infra/tracing.ts, infra/dashboard.ts, infra/alarms.ts)', () => {
  let d: Deployment;
  beforeAll(async () => {
    d = await deploy('dev');
  });

  const functions = () => ({
    api: only(d, 'sst.aws.ApiGatewayV2.route', '$default').args.handler,
    jobs: only(d, 'sst.aws.Queue.subscribe', JOB_QUEUE).args.subscriber,
    webhooks: only(d, 'sst.aws.Queue.subscribe', 'WebhookDeliveries-physical-name').args.subscriber,
    stream: only(d, 'sst.aws.Dynamo.subscribe', 'ChangeStream').args.subscriber,
  });

  it('traces every function: active X-Ray tracing on the Lambda, permission to send segments, TRACING for the app', () => {
    for (const [name, fn] of Object.entries(functions())) {
      // What SST's transform does to the underlying aws.lambda.Function's arguments.
      expect(applyTransform(fn.transform?.function, {}).tracingConfig, name).toEqual({ mode: 'Active' });
      expect(fn.permissions, name).toContainEqual({ actions: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'], resources: ['*'] });
      expect(resolve(fn.environment).TRACING, name).toBe('true');
    }
  });

  /** The app's metrics a dashboard body or an alarm names: in metric arrays, SEARCH expressions and alarm arguments. */
  function appMetricNames(body: any): string[] {
    const names: string[] = [];
    for (const w of body.widgets) {
      for (const m of w.properties.metrics ?? []) {
        if (Array.isArray(m) && m[0] === METRIC_NAMESPACE) names.push(m[1]);
        const expression = (m as any[]).find?.((x) => typeof x?.expression === 'string')?.expression ?? (m as any).expression;
        if (typeof expression === 'string' && expression.includes(METRIC_NAMESPACE)) names.push(...[...expression.matchAll(/MetricName="(\w+)"/g)].map((x) => x[1]!));
      }
    }
    return names;
  }

  it('draws a flash-sale dashboard whose every app metric is one the code emits (the registry), for this stage', () => {
    const board = only(d, 'aws.cloudwatch.Dashboard');
    const args = resolve(board.args);
    expect(args.dashboardName).toBe('coupon-books-dev');
    const body = JSON.parse(args.dashboardBody);
    const names = appMetricNames(body);
    for (const n of names) expect(Object.keys(METRICS), n).toContain(n);
    // The flash-sale view: claims/s, sold-out, p99 by route, throttles, stream lag, webhook failures.
    for (const n of ['Claims', 'SoldOut', 'LostRaces', 'Latency', 'Throttled', 'RateLimited', 'StreamLag', 'WebhookDeliveries']) expect(names, n).toContain(n);
    const text = args.dashboardBody as string;
    expect(text).toContain('SEARCH(\'{CouponBooks,stage,route} MetricName=\\"Latency\\" stage=\\"dev\\"\', \'p99\', 60)');
    for (const w of body.widgets.filter((x: any) => x.type === 'metric')) {
      for (const m of w.properties.metrics) if (Array.isArray(m) && m[0] === METRIC_NAMESPACE) expect(m.slice(2, 4), w.properties.title).toEqual(['stage', 'dev']);
    }
    // AWS's own metrics of this stage's resources beside them.
    expect(text).toContain('"ApiId","abc123"');
    expect(text).toContain('"IteratorAge","FunctionName","ChangeStream-fn"');
    expect(text).toContain('WebhookDeliveriesDlq-physical-name');
    expect(text).toMatch(/SOURCE '\/aws\/lambda\/[^']+' \| fields webhookId/);
  });

  it('pages on the app\'s own metrics: stream lag, webhook deliveries failed for good, throttled answers, and the 5xx rate', () => {
    const all = alarms(d);
    const onApp = all.filter((a) => a.args.namespace === METRIC_NAMESPACE);
    expect(onApp.map((a) => a.args.metricName).sort()).toEqual(['StreamLag', 'Throttled', 'WebhookDeliveries']);
    for (const a of onApp) {
      expect(Object.keys(METRICS)).toContain(a.args.metricName);
      expect(a.args.dimensions.stage).toBe('dev');
    }
    expect(onApp.find((a) => a.args.metricName === 'WebhookDeliveries')!.args.dimensions).toEqual({ stage: 'dev', outcome: 'failed' });
    const rate = all.find((a) => a.args.name === 'coupon-books-dev-api-5xx-rate');
    const queries = rate!.args.metricQueries as any[];
    expect(queries.filter((q) => q.metric).map((q) => [q.metric.metricName, q.metric.dimensions.ApiId])).toEqual([['5xx', 'abc123'], ['Count', 'abc123']]);
    expect(queries.filter((q) => q.returnData)).toHaveLength(1);
  });

  it('every alarm has a runbook entry in docs/operations.md', () => {
    const runbook = readFileSync(join(root, 'docs/operations.md'), 'utf8').split('## Runbook')[1] ?? '';
    for (const a of alarms(d)) {
      const suffix = (a.args.name as string).replace(/^coupon-books-dev-/, '');
      expect(runbook, suffix).toMatch(new RegExp(`^### .*\\b${suffix.replace(/-/g, '[-]')}\\b`, 'm'));
    }
  });

  it('docs/observability.md lists every metric of the registry', () => {
    const doc = readFileSync(join(root, 'docs/observability.md'), 'utf8');
    for (const name of Object.keys(METRICS)) expect(doc, name).toMatch(new RegExp(`^\\| \`${name}\` \\|`, 'm'));
  });

  it('makes no dashboard under sst dev on DynamoDB Local (nothing there emits to CloudWatch)', async () => {
    const dev = await deploy('alice', { dev: true });
    expect(dev.records.filter((r) => r.type === 'aws.cloudwatch.Dashboard')).toEqual([]);
  });
});

