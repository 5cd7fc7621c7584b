import type { z } from '@hono/zod-openapi';
import type { ErrorCode } from '@coupons/core';
import { STATUS_BY_CODE } from './error-response.ts';
import { ErrorSchema } from './schemas.ts';

/** Request body definition for a JSON route. */
export const jsonBody = <T extends z.ZodType>(schema: T, required = true) => ({
  body: { content: { 'application/json': { schema } }, required },
});

export const jsonResponse = <T extends z.ZodType>(schema: T, description: string) => ({
  content: { 'application/json': { schema } },
  description,
});

export const bearer = [{ bearerAuth: [] }];

/** A message the service gives for each code, for the documented examples. */
const EXAMPLE_MESSAGES: Record<ErrorCode, string> = {
  VALIDATION_FAILED: 'Invalid bookId.',
  MALFORMED_JSON: 'The request body is not valid JSON.',
  UNAUTHENTICATED: 'A valid bearer token is required.',
  FORBIDDEN: 'This action needs one of the roles: admin.',
  BOOK_NOT_FOUND: 'No book 6f1c2d3e-0000-4000-8000-000000000000.',
  CODE_NOT_FOUND: 'No code SUMMER-7K2M-QX9P.',
  JOB_NOT_FOUND: 'No job 0b7e4c1a-0000-4000-8000-000000000000.',
  WEBHOOK_NOT_FOUND: 'No webhook 5d2f8a10-0000-4000-8000-000000000000.',
  DELIVERY_NOT_FOUND: 'No message msg_0mx4sn4g04M1X8WNz0ZVKv2g5uNgI to webhook 5d2f8a10-0000-4000-8000-000000000000.',
  DELIVERY_NOT_FAILED: 'Message msg_0mx4sn4g04M1X8WNz0ZVKv2g5uNgI is delivered; only failed messages are sent again.',
  REDEMPTION_NOT_FOUND: 'No redemption SUMMER-7K2M-QX9P.1b9d6bcd-bbfd-4b2d-9b5d-ab8dfbbd4bed.',
  API_KEY_NOT_FOUND: 'No API key 3f9a0c1be27d4a5f6b7c8d9e.',
  ROUTE_NOT_FOUND: 'No route GET /nowhere.',
  BOOK_EXHAUSTED: 'No codes are left in this book.',
  BOOK_NOT_ACTIVE: 'The book is paused.',
  USER_CODE_LIMIT_REACHED: 'This user already holds 1 code(s) of this book.',
  CODE_ALREADY_ASSIGNED: 'Code SUMMER-7K2M-QX9P is already assigned.',
  CODE_LOCKED: 'Code SUMMER-7K2M-QX9P is locked by another checkout.',
  CODE_NOT_LOCKED: 'Code SUMMER-7K2M-QX9P is not locked.',
  REDEMPTION_LIMIT_REACHED: 'Code SUMMER-7K2M-QX9P has no redemptions left.',
  CODE_EXPIRED: 'The book this code belongs to has ended.',
  REDEMPTION_ALREADY_ROLLED_BACK: 'Redemption SUMMER-7K2M-QX9P.1b9d6bcd-bbfd-4b2d-9b5d-ab8dfbbd4bed was already rolled back.',
  PRECONDITION_FAILED: 'The book is at version 4, not the one If-Match names; read it again.',
  PAYLOAD_TOO_LARGE: 'The request body is larger than 1048576 bytes.',
  IDEMPOTENCY_KEY_REUSED: 'This Idempotency-Key was used with another request body.',
  RATE_LIMITED: 'Too many requests from this caller.',
  UNAVAILABLE: 'The database is busy or unreachable; retry shortly.',
  INTERNAL: 'Internal error (request 7c9e6679-7425-40de-944b-e07fc1f0e659).',
};

/**
 * What every authenticated route can answer, whatever it does: its parameters, query or body
 * fail validation; no valid token; the caller's role or subject may not do this; a rate limit
 * (middleware/rate-limit); the database busy or unreachable.
 */
const EVERY_ROUTE: ErrorCode[] = ['VALIDATION_FAILED', 'UNAUTHENTICATED', 'FORBIDDEN', 'RATE_LIMITED', 'UNAVAILABLE'];
/** A route with a JSON body: the body may not parse, or exceed the body limit (app.ts). */
const WITH_BODY: ErrorCode[] = ['MALFORMED_JSON', 'PAYLOAD_TOO_LARGE'];
/** A POST takes an Idempotency-Key, which a different request may not reuse (middleware/idempotency). */
const POST_ONLY: ErrorCode[] = ['IDEMPOTENCY_KEY_REUSED'];

const retryAfter = {
  'Retry-After': { description: 'Seconds to wait before retrying.', schema: { type: 'integer' as const, minimum: 1 } },
};

/**
 * The error responses of a route, generated from the error table (packages/core/src/errors.ts,
 * mapped to statuses by error-response.ts) and the route's facts: its method, and the codes
 * its use case can answer. Each status lists exactly its codes, with one example per code.
 */
export function errors(method: 'get' | 'post' | 'patch' | 'delete', ...useCaseCodes: ErrorCode[]) {
  const codes = new Set<ErrorCode>([
    ...EVERY_ROUTE,
    ...(method === 'get' || method === 'delete' ? [] : WITH_BODY),
    ...(method === 'post' ? POST_ONLY : []),
    ...useCaseCodes,
  ]);
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of codes) byStatus.set(STATUS_BY_CODE[code], [...(byStatus.get(STATUS_BY_CODE[code]) ?? []), code]);
  return Object.fromEntries(
    [...byStatus.entries()]
      .sort(([a], [b]) => a - b)
      .map(([status, list]) => [
        status,
        {
          description: list.join(', '),
          ...(status === 429 || status === 503 ? { headers: retryAfter } : {}),
          content: {
            'application/json': {
              schema: ErrorSchema,
              examples: Object.fromEntries(
                list.map((code) => [code, { summary: code, value: { error: { code, message: EXAMPLE_MESSAGES[code] } } }]),
              ),
            },
          },
        },
      ]),
  );
}
