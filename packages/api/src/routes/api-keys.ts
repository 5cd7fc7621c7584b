import { OpenAPIHono } from '@hono/zod-openapi';
import { createApiKey, createApiKeyRefusals, listApiKeys, revokeApiKey, revokeApiKeyRefusals, type CoreContext } from '@coupons/core';
import type { AppEnv } from '../env.ts';
import { apiRoute, bearer, errors, jsonBody, jsonResponse } from '../openapi.ts';
import { respondOnce } from '../respond.ts';
import { PageQuery } from '../schemas.ts';
import { ApiKeyIdParam, ApiKeyListSchema, CreatedApiKeySchema, CreateApiKeySchema } from '../api-key-schemas.ts';

const tags = ['API keys'];
const tokenAdmin = 'Only an admin signed in with a token: API keys (even admin ones) get 403, as do users and services.';

/** The tenant's API keys: credentials for its backends and scripts (docs/security.md#api-keys). */
export function apiKeyRoutes(core: CoreContext) {
  return new OpenAPIHono<AppEnv>()
    .openapi(
      apiRoute({
        method: 'post',
        path: '/api-keys',
        tags,
        operationId: 'createApiKey',
        summary: 'Create an API key (admin token); the key is shown only in this answer',
        description: `${tokenAdmin} A retry with the same Idempotency-Key makes no second key and answers without \`key\`.`,
        security: bearer,
        request: jsonBody(CreateApiKeySchema),
        responses: { 201: jsonResponse(CreatedApiKeySchema, 'The key and, once, its secret'), ...errors('post', ...createApiKeyRefusals.codes) },
      }),
      (c) => respondOnce(c, core, 201, (opts) => createApiKey(core, c.get('actor'), c.req.valid('json'), opts)),
    )
    .openapi(
      apiRoute({
        method: 'get',
        path: '/api-keys',
        tags,
        operationId: 'listApiKeys',
        summary: "The tenant's API keys, newest first, without the keys (admin token)",
        description: `${tokenAdmin} Revoked keys stay listed with \`revokedAt\`.`,
        security: bearer,
        request: { query: PageQuery },
        responses: { 200: jsonResponse(ApiKeyListSchema, 'A page of keys'), ...errors('get') },
      }),
      async (c) => c.json(await listApiKeys(core, c.get('actor'), c.req.valid('query')), 200),
    )
    .openapi(
      apiRoute({
        method: 'delete',
        path: '/api-keys/{keyId}',
        tags,
        operationId: 'revokeApiKey',
        summary: 'Revoke an API key (admin token): refused on every instance within 10 s',
        description: `${tokenAdmin} Revoking a revoked key answers 204 again and keeps its first \`revokedAt\`. 404 \`API_KEY_NOT_FOUND\` for an unknown key or another tenant's.`,
        security: bearer,
        request: { params: ApiKeyIdParam },
        responses: { 204: { description: 'Revoked' }, ...errors('delete', ...revokeApiKeyRefusals.codes) },
      }),
      async (c) => {
        await revokeApiKey(core, c.get('actor'), c.req.valid('param').keyId);
        return c.body(null, 204);
      },
    );
}
