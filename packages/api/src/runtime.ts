import { createDocumentClient, createDynamoDbClient, createStore, loadConfig, type Config, type CoreContext } from '@coupons/core';
import { Resource } from 'sst/resource';
import { z } from 'zod';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { wireJobs } from './wiring.ts';
import { attachTelemetry, createTelemetry, type TelemetryOptions } from './telemetry/telemetry.ts';

/**
 * The SST resources the app is linked to (infra/), and the setting each property provides.
 * Deployed, SST hands a function its links in an encrypted file (`resource.enc`, key in
 * `SST_KEY`), and under `sst dev` as `SST_RESOURCE_*` variables; its SDK's `Resource` reads
 * either, so the JWT secret is never a plain variable in the function's configuration. Where a
 * link is absent (`npm start`, tests, scripts) the app's own variables apply.
 */
export const LINKED_RESOURCES = {
  // Under `sst dev` the link is a Linkable carrying DynamoDB Local's endpoint (infra/table.ts).
  Coupons: { name: 'TABLE_NAME', endpoint: 'DYNAMODB_ENDPOINT' },
  GenerationJobs: { url: 'QUEUE_URL' },
  JwtSecret: { value: 'JWT_SECRET' },
  JwksUrl: { value: 'JWT_JWKS_URL' },
  // The pseudonyms of erased users (docs/erasure.md): the API computes them, the jobs only read them.
  ErasureSecret: { value: 'ERASURE_SECRET' },
  // Linked to the change-stream function and the delivery worker only (infra/webhooks.ts).
  WebhookDeliveries: { url: 'WEBHOOK_QUEUE_URL' },
} as const;

export type LinkedResources = Partial<Record<keyof typeof LINKED_RESOURCES, Record<string, unknown>>>;


/** The links SST gave this process, read through its SDK; none when it runs without SST. */
export function sstLinks(): LinkedResources {
  const links: LinkedResources = {};
  for (const name of Object.keys(LINKED_RESOURCES) as (keyof typeof LINKED_RESOURCES)[]) {
    // `in` asks without throwing: Resource throws on a name that is not linked.
    if (name in Resource) links[name] = (Resource as unknown as Record<string, Record<string, unknown>>)[name];
  }
  return links;
}

/** The stage SST deployed this function to (its `App` resource), for the metrics' dimension. */
function sstStage(): string | undefined {
  try {
    const app = (Resource as unknown as { App?: { stage?: unknown } }).App;
    return typeof app?.stage === 'string' ? app.stage : undefined;
  } catch {
    return undefined; // not under SST
  }
}

/** The app's settings with every linked property in place of its variable; links win. */
export function withLinkedResources(
  env: Record<string, string | undefined>,
  links: LinkedResources = sstLinks(),
): Record<string, string | undefined> {
  const out = { ...env };
  out.STAGE ||= sstStage();
  for (const [name, properties] of Object.entries(LINKED_RESOURCES)) {
    const link = links[name as keyof LinkedResources];
    if (!link) continue;
    for (const [property, setting] of Object.entries(properties)) {
      const value = link[property];
      // An empty secret (JwksUrl's default) is no setting at all.
      if (typeof value === 'string' && value !== '') out[setting] = value;
    }
  }
  return out;
}

/** Reads the token settings once: an HS256 secret, RS256 keys from a JWKS URL, or both. */
export function readAuthConfig(rawEnv: Record<string, string | undefined> = process.env, links: LinkedResources = sstLinks()) {
  const env = withLinkedResources(rawEnv, links);
  return z
    .object({
      hs256Secret: z.string().min(16, 'JWT_SECRET must be at least 16 characters').optional(),
      jwksUrl: z.url().optional(),
    })
    .refine((a) => a.hs256Secret || a.jwksUrl, { message: 'set JWT_SECRET or JWT_JWKS_URL' })
    .parse({ hs256Secret: env.JWT_SECRET || undefined, jwksUrl: env.JWT_JWKS_URL || undefined });
}

/** `CORS_ORIGINS=https://app.example.com,https://admin.example.com`; empty means no cross-origin access. */
export function readCorsOrigins(env: Record<string, string | undefined> = process.env): string[] {
  return (env.CORS_ORIGINS ?? '')
    .split(',')
    .map((o) => o.trim())
    .filter(Boolean);
}

/**
 * The core's context for one process: settings, table, clock, and its telemetry (log, metrics;
 * packages/api/src/telemetry). `instrument` sees the DynamoDB client before first use (the cost
 * meter in tests and benchmarks, the tracer on AWS).
 */
export function createCoreContext(
  env: Record<string, string | undefined> = process.env,
  links: LinkedResources = sstLinks(),
  options: { instrument?: (client: DynamoDBClient) => void; config?: Config } & TelemetryOptions = {},
): CoreContext {
  const config = options.config ?? loadConfig(withLinkedResources(env, links));
  const client = createDynamoDbClient(config);
  options.instrument?.(client);
  const telemetry = createTelemetry(config, options);
  const core: CoreContext = {
    store: createStore(createDocumentClient(client), config.TABLE_NAME),
    config,
    now: Date.now,
    log: telemetry.log,
    metrics: telemetry.metrics,
  };
  attachTelemetry(core, telemetry);
  wireJobs(core);
  return core;
}
