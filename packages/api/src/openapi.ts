import { createRoute, type OpenAPIHono, type RouteConfig, type z } from '@hono/zod-openapi';
import type { ErrorCode } from '@coupons/core';
import { STATUS_BY_CODE } from './error-response.ts';
import { ErrorResponseSchema, EXAMPLE_DETAILS } from './error-schemas.ts';

/** Request body definition for a JSON route. */
export const jsonBody = <T extends z.ZodType>(schema: T, required = true) => ({
  body: { content: { 'application/json': { schema } }, required },
});

type HeaderRef = { $ref: string };
const headerRef = (name: string): HeaderRef => ({ $ref: `#/components/headers/${name}` });

/** Response headers, declared once as components (registerProtocolComponents) and referenced by name. */
export const HEADERS = {
  requestId: headerRef('RequestId'),
  etag: headerRef('ETag'),
  idempotentReplayed: headerRef('IdempotentReplayed'),
  retryAfter: headerRef('RetryAfter'),
};

export const jsonResponse = <T extends z.ZodType>(schema: T, description: string, headers: Record<string, HeaderRef> = {}) => ({
  content: { 'application/json': { schema } },
  description,
  headers,
});

/**
 * The parts of the HTTP contract that no single route owns, as reusable components: the
 * Idempotency-Key every POST accepts (middleware/idempotency), and the headers answers carry:
 * X-Request-Id on every one (hono/request-id; a caller's own valid id is kept), ETag on a book
 * (etag.ts), Idempotent-Replayed on a replay (respond.ts), Retry-After on 429 and 503 (error-response.ts).
 */
export function registerProtocolComponents(registry: OpenAPIHono['openAPIRegistry']) {
  registry.registerComponent('parameters', 'IdempotencyKey', {
    name: 'Idempotency-Key',
    in: 'header',
    required: false,
    description:
      'Makes a retry safe: the first answer to this key (for this caller, route and body) is kept for 24 hours and given again, ' +
      'with `Idempotent-Replayed: true`, instead of doing the work twice. The same key with another body is 422 `IDEMPOTENCY_KEY_REUSED`.',
    schema: { type: 'string', minLength: 1, maxLength: 200, pattern: '^[\\x21-\\x7e]+$' },
    example: 'order-1001-checkout',
  });
  registry.registerComponent('headers', 'RequestId', {
    description: 'Names this request in the service log; quote it when reporting a problem. A valid `X-Request-Id` sent with the request is kept.',
    required: true,
    schema: { type: 'string' },
  });
  registry.registerComponent('headers', 'ETag', {
    description: "The book's version as a strong entity tag; send it back as `If-Match` to edit only that version.",
    required: true,
    schema: { type: 'string', pattern: '^"[0-9]+"$' },
    example: '"3"',
  });
  registry.registerComponent('headers', 'IdempotentReplayed', {
    description: 'Present when this answer is the stored first answer to the request\'s `Idempotency-Key`, given again.',
    required: false,
    schema: { type: 'string', enum: ['true'] },
  });
  registry.registerComponent('headers', 'RetryAfter', {
    description: 'Seconds to wait before retrying.',
    required: true,
    schema: { type: 'integer', minimum: 1 },
  });
}

const IDEMPOTENCY_KEY = { $ref: '#/components/parameters/IdempotencyKey' };

/**
 * `createRoute` with what a route's method implies for the description: a POST takes an
 * Idempotency-Key and its 2xx may be a replay; every answer carries X-Request-Id.
 */
export function apiRoute<P extends string, R extends Omit<RouteConfig, 'path'> & { path: P }>(config: R) {
  const post = config.method === 'post';
  const responses = Object.fromEntries(
    Object.entries(config.responses).map(([status, response]) => {
      if ('$ref' in response) return [status, response];
      const replay = post && Number(status) < 300 ? { 'Idempotent-Replayed': HEADERS.idempotentReplayed } : {};
      return [status, { ...response, headers: { 'X-Request-Id': HEADERS.requestId, ...replay, ...response.headers } }];
    }),
  );
  return createRoute<P, R>({ ...config, ...(post ? { parameters: [IDEMPOTENCY_KEY, ...(config.parameters ?? [])] } : {}), responses });
}

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
  TENANT_LIMIT_REACHED: 'This tenant has 25 webhook endpoints, the most it may have; delete one first.',
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
  LOCK_LIMIT_REACHED: 'Code SUMMER-7K2M-QX9P was locked 50 times since its last redemption; redeem it before locking it again.',
  CODE_EXPIRED: 'The book this code belongs to has ended.',
  REDEMPTION_ALREADY_ROLLED_BACK: 'Redemption SUMMER-7K2M-QX9P.1b9d6bcd-bbfd-4b2d-9b5d-ab8dfbbd4bed was already rolled back.',
  PRECONDITION_FAILED: 'The book is at version 4, not the one If-Match names; read it again.',
  PAYLOAD_TOO_LARGE: 'The request body is larger than 1048576 bytes.',
  IDEMPOTENCY_KEY_REUSED: 'This Idempotency-Key was used with another request body.',
  RATE_LIMITED: 'Too many requests from this caller.',
  UNAVAILABLE: 'The database is busy or unreachable; retry shortly.',
  INTERNAL: 'Internal error (request 7c9e6679-7425-40de-944b-e07fc1f0e659).',
};

const exampleError = (code: ErrorCode) => ({
  code,
  message: EXAMPLE_MESSAGES[code],
  ...(EXAMPLE_DETAILS[code] !== undefined ? { details: EXAMPLE_DETAILS[code] } : {}),
});

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
          ...(status === 429 || status === 503 ? { headers: { 'Retry-After': HEADERS.retryAfter } } : {}),
          content: {
            'application/json': {
              schema: ErrorResponseSchema,
              examples: Object.fromEntries(list.map((code) => [code, { summary: code, value: { error: exampleError(code) } }])),
            },
          },
        },
      ]),
  );
}
