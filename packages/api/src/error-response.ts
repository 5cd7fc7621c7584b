import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { AppError, isTransientAwsError, type ErrorCode } from '@coupons/core';

/** The one place a domain error code becomes an HTTP status. */
export const STATUS_BY_CODE: Record<ErrorCode, ContentfulStatusCode> = {
  VALIDATION_FAILED: 400,
  MALFORMED_JSON: 400,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  BOOK_NOT_FOUND: 404,
  CODE_NOT_FOUND: 404,
  JOB_NOT_FOUND: 404,
  WEBHOOK_NOT_FOUND: 404,
  DELIVERY_NOT_FOUND: 404,
  REDEMPTION_NOT_FOUND: 404,
  API_KEY_NOT_FOUND: 404,
  ROUTE_NOT_FOUND: 404,
  BOOK_EXHAUSTED: 409,
  BOOK_NOT_ACTIVE: 409,
  USER_CODE_LIMIT_REACHED: 409,
  CODE_ALREADY_ASSIGNED: 409,
  CODE_LOCKED: 409,
  CODE_NOT_LOCKED: 409,
  REDEMPTION_LIMIT_REACHED: 409,
  LOCK_LIMIT_REACHED: 409,
  CODE_EXPIRED: 409,
  DELIVERY_NOT_FAILED: 409,
  TENANT_LIMIT_REACHED: 409,
  REDEMPTION_ALREADY_ROLLED_BACK: 409,
  PRECONDITION_FAILED: 412,
  PAYLOAD_TOO_LARGE: 413,
  IDEMPOTENCY_KEY_REUSED: 422,
  RATE_LIMITED: 429,
  UNAVAILABLE: 503,
  INTERNAL: 500,
};

/** Hono's own exceptions (bad JSON, body too large) in the domain's vocabulary. */
function fromHttpException(e: HTTPException): AppError {
  if (e.status === 400 && /json/i.test(e.message)) return new AppError('MALFORMED_JSON', 'The request body is not valid JSON.');
  if (e.status === 413) return new AppError('PAYLOAD_TOO_LARGE', 'The request body is larger than 1 MiB.');
  if (e.status === 401) return new AppError('UNAUTHENTICATED', e.message || 'A valid bearer token is required.');
  if (e.status === 404) return new AppError('ROUTE_NOT_FOUND', 'No such route.');
  const reason = e.message || 'The request is not valid.';
  // VALIDATION_FAILED always says what is wrong, field by field (error-schemas.ts).
  return new AppError('VALIDATION_FAILED', reason, { details: [{ field: '(request)', reason }] });
}

export function toAppError(e: unknown): AppError {
  if (e instanceof AppError) return e;
  if (e instanceof HTTPException) return fromHttpException(e);
  if (isTransientAwsError(e)) return new AppError('UNAVAILABLE', 'The database is busy or unreachable; retry shortly.', { retryAfterSeconds: 1 });
  return new AppError('INTERNAL', 'Internal error.');
}

/**
 * Renders any error in the documented shape. Nothing of the cause (stack,
 * AWS error names, expressions) reaches the client; a 500 carries only the
 * request id, which is also in the log line.
 */
export function errorResponse(c: Context, e: unknown) {
  const err = toAppError(e);
  const status = STATUS_BY_CODE[err.code];
  const requestId = c.get('requestId') as string | undefined;
  if (err.retryAfterSeconds !== undefined) c.header('Retry-After', String(err.retryAfterSeconds));
  c.set('errorCode', err.code);
  if (status >= 500) c.set('errorCause', e);
  const body =
    err.code === 'INTERNAL'
      ? { error: { code: err.code, message: `Internal error (request ${requestId}).`, details: { requestId } } }
      : { error: { code: err.code, message: err.message, ...(err.details !== undefined ? { details: err.details } : {}) } };
  return c.json(body, status);
}
