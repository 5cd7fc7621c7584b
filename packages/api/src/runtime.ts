import { createDocumentClient, createDynamoDbClient, createStore, loadConfig, type CoreContext } from '@coupons/core';
import { z } from 'zod';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';

/**
 * The SST resources the app is linked to (infra/), and the setting each one
 * provides. SST exposes a link as `SST_RESOURCE_<Name>` (JSON); where it is
 * present it wins, so a deployed function reads its table from the link.
 * infra/ also passes the plain variables, because SST may hand links to a
 * Lambda in an encrypted file only its SDK reads, and that SDK would pull the
 * v2 AWS SDK into the bundle. Locally neither exists and the app's own
 * config (`TABLE_NAME`, `JWT_SECRET`, ...) applies.
 */
export const LINKED_RESOURCES = {
  Coupons: { property: 'name', setting: 'TABLE_NAME' },
  GenerationJobs: { property: 'url', setting: 'QUEUE_URL' },
  JwtSecret: { property: 'value', setting: 'JWT_SECRET' },
  JwksUrl: { property: 'value', setting: 'JWT_JWKS_URL' },
} as const;

export function withLinkedResources(env: Record<string, string | undefined>): Record<string, string | undefined> {
  const out = { ...env };
  for (const [name, { property, setting }] of Object.entries(LINKED_RESOURCES)) {
    const raw = env[`SST_RESOURCE_${name}`];
    if (!raw) continue;
    try {
      const value = (JSON.parse(raw) as Record<string, unknown>)[property];
      if (typeof value === 'string' && value !== '') out[setting] = value;
    } catch {
      throw new Error(`SST_RESOURCE_${name} is not the JSON SST writes for a link`);
    }
  }
  return out;
}

/** Reads the token settings once: an HS256 secret, RS256 keys from a JWKS URL, or both. */
export function readAuthConfig(rawEnv: Record<string, string | undefined> = process.env) {
  const env = withLinkedResources(rawEnv);
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

/** `instrument` sees the DynamoDB client before first use (the cost meter in tests and benchmarks). */
export function createCoreContext(
  env: Record<string, string | undefined> = process.env,
  options: { instrument?: (client: DynamoDBClient) => void } = {},
): CoreContext {
  const config = loadConfig(withLinkedResources(env));
  const client = createDynamoDbClient(config);
  options.instrument?.(client);
  return { store: createStore(createDocumentClient(client), config.TABLE_NAME), config, now: Date.now };
}
