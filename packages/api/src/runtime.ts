import { createDocumentClient, createDynamoDbClient, createStore, loadConfig, type CoreContext } from '@coupons/core';
import { z } from 'zod';

/**
 * Reads the environment once. On AWS the JWT secret arrives as SST's linked
 * resource (`SST_RESOURCE_JwtSecret`) or as `JWT_SECRET`; RS256 keys from
 * `JWT_JWKS_URL`. At least one of the two must be configured.
 */
export function readAuthConfig(env: Record<string, string | undefined> = process.env) {
  const linked = env.SST_RESOURCE_JwtSecret ? (JSON.parse(env.SST_RESOURCE_JwtSecret) as { value?: string }).value : undefined;
  const parsed = z
    .object({
      hs256Secret: z.string().min(16, 'JWT_SECRET must be at least 16 characters').optional(),
      jwksUrl: z.url().optional(),
    })
    .refine((a) => a.hs256Secret || a.jwksUrl, { message: 'set JWT_SECRET or JWT_JWKS_URL' })
    .parse({ hs256Secret: env.JWT_SECRET || linked || undefined, jwksUrl: env.JWT_JWKS_URL || undefined });
  return parsed;
}

/** `CORS_ORIGINS=https://app.example.com,https://admin.example.com`; empty means no cross-origin access. */
export function readCorsOrigins(env: Record<string, string | undefined> = process.env): string[] {
  return (env.CORS_ORIGINS ?? '')
    .split(',')
    .map((o) => o.trim())
    .filter(Boolean);
}

export function createCoreContext(env: Record<string, string | undefined> = process.env): CoreContext {
  const config = loadConfig(env);
  const client = createDynamoDbClient(config);
  return { store: createStore(createDocumentClient(client), config.TABLE_NAME), config, now: Date.now };
}
