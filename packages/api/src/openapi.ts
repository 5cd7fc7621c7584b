import type { z } from '@hono/zod-openapi';
import { ErrorSchema } from './schemas.ts';

/** Request body definition for a JSON route. */
export const jsonBody = <T extends z.ZodType>(schema: T, required = true) => ({
  body: { content: { 'application/json': { schema } }, required },
});

export const jsonResponse = <T extends z.ZodType>(schema: T, description: string) => ({
  content: { 'application/json': { schema } },
  description,
});

const errorResponse = (description: string) => ({ content: { 'application/json': { schema: ErrorSchema } }, description });

/** The error responses a route can give, documented from the codes it may answer. */
export function errors(...statuses: (400 | 401 | 403 | 404 | 409 | 412 | 413 | 422 | 429 | 503)[]) {
  const text: Record<number, string> = {
    400: 'VALIDATION_FAILED or MALFORMED_JSON',
    401: 'UNAUTHENTICATED',
    403: 'FORBIDDEN',
    404: 'BOOK_NOT_FOUND, CODE_NOT_FOUND or REDEMPTION_NOT_FOUND',
    409: 'The state does not allow it (see the error code)',
    412: 'PRECONDITION_FAILED: If-Match names another version',
    413: 'PAYLOAD_TOO_LARGE',
    422: 'IDEMPOTENCY_KEY_REUSED',
    429: 'RATE_LIMITED',
    503: 'UNAVAILABLE',
  };
  return Object.fromEntries([400, 401, 403, ...statuses, 503].map((s) => [s, errorResponse(text[s]!)]));
}

export const bearer = [{ bearerAuth: [] }];
