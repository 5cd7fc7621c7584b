import { createDocumentClient, createDynamoDbClient, createStore, loadConfig, type CoreContext } from '@coupons/core';
import { z } from 'zod';

/**
 * Reads the environment once. On AWS the JWT secret arrives as SST's linked
 * resource (`SST_RESOURCE_JwtSecret`); locally as `JWT_SECRET`.
 */
export function readAuthConfig(env: Record<string, string | undefined> = process.env) {
  const linked = env.SST_RESOURCE_JwtSecret ? (JSON.parse(env.SST_RESOURCE_JwtSecret) as { value?: string }).value : undefined;
  const secret = z.string().min(16, 'JWT_SECRET must be at least 16 characters').parse(env.JWT_SECRET ?? linked);
  return { hs256Secret: secret };
}

export function createCoreContext(env: Record<string, string | undefined> = process.env): CoreContext {
  const config = loadConfig(env);
  const client = createDynamoDbClient(config);
  return { store: createStore(createDocumentClient(client), config.TABLE_NAME), config, now: Date.now };
}
