import { z } from '@hono/zod-openapi';
import { API_KEY_ROLES } from '@coupons/core';

/** API keys: requests and answers (routes/api-keys.ts). */

const Role = z.enum(API_KEY_ROLES).openapi({
  description: '`service`: a backend acting for any user, no book management; `admin`: everything an admin may do except managing keys.',
  example: 'service',
});

export const CreateApiKeySchema = z
  .object({
    name: z.string().min(1).max(200).openapi({ description: 'What the key is for, shown in the list (1-200 characters).', example: 'Checkout backend (production)' }),
    role: Role,
  })
  .strict()
  .openapi('CreateApiKey', { example: { name: 'Checkout backend (production)', role: 'service' } });

const prefix = z.string().openapi({
  description: 'The beginning of the key, to recognise it by: `cbk_<tenant>_<keyId>_` and four characters of the secret; the other 39 are never shown again.',
  example: 'cbk_acme_3f9a0c1be27d4a5f6b7c8d9e_Qm9v',
});

export const ApiKeySchema = z
  .object({
    keyId: z.string().openapi({ example: '3f9a0c1be27d4a5f6b7c8d9e' }),
    name: z.string(),
    role: Role,
    prefix,
    createdAt: z.string(),
    lastUsedAt: z.string().optional().openapi({ description: 'When the key last signed a request, to the hour (written at most once an hour).' }),
    revokedAt: z.string().optional().openapi({ description: 'When it was revoked; a revoked key is refused (401) on every instance within 10 s.' }),
  })
  .openapi('ApiKey');

export const CreatedApiKeySchema = z
  .object({
    keyId: z.string(),
    name: z.string(),
    role: Role,
    prefix,
    createdAt: z.string(),
    key: z.string().optional().openapi({
      description:
        'The key, shown only in this answer: send it as `Authorization: Bearer <key>`. Absent from a replay (`Idempotent-Replayed: true`), since it is never stored.',
      example: 'cbk_acme_3f9a0c1be27d4a5f6b7c8d9e_Qm9vI0vHDp2NfoyoGEL80Pt-1QLWhTiOLQAqlCviMlU',
    }),
  })
  .openapi('CreatedApiKey');

export const ApiKeyListSchema = z.object({ items: z.array(ApiKeySchema), nextCursor: z.string().nullable() }).openapi('ApiKeyList');

export const ApiKeyIdParam = z.object({
  keyId: z.string().min(1).max(128).openapi({ param: { name: 'keyId', in: 'path' }, example: '3f9a0c1be27d4a5f6b7c8d9e' }),
});
