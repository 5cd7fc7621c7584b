import { AppError } from '../errors.ts';

const THROTTLING = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
  'LimitExceededException',
  'InternalServerError',
  'ServiceUnavailable',
  'TransactionInProgressException',
]);

const NETWORK = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'TimeoutError', 'NetworkingError']);

/**
 * Throttling, an outage or a network fault: the caller may retry later.
 * ElectroDB wraps SDK errors, so the cause chain is followed.
 */
export function isTransientAwsError(e: unknown, depth = 0): boolean {
  const err = e as { name?: string; code?: string; $retryable?: unknown; cause?: unknown };
  if (!err || typeof err !== 'object' || depth > 4) return false;
  return (
    THROTTLING.has(err.name ?? '') ||
    NETWORK.has(err.name ?? '') ||
    NETWORK.has(err.code ?? '') ||
    err.$retryable !== undefined ||
    isTransientAwsError(err.cause, depth + 1)
  );
}

/** Cancellation reasons of a transaction that DynamoDB refused for capacity. */
const THROTTLED_REASONS = new Set(['ThrottlingError', 'ProvisionedThroughputExceeded', 'RequestLimitExceeded']);

/**
 * An error (or an UNAVAILABLE whose cause is one) that says the database
 * throttled, timed out or could not be reached, rather than a busy book or
 * an idempotency key still in use: what the Throttled metric counts.
 */
export function isDatabaseUnavailable(e: unknown, depth = 0): boolean {
  if (!e || typeof e !== 'object' || depth > 4) return false;
  if (Array.isArray(e)) return e.some((r) => THROTTLED_REASONS.has((r as { code?: string })?.code ?? ''));
  return isTransientAwsError(e) || isDatabaseUnavailable((e as { cause?: unknown }).cause, depth + 1);
}

export const unavailable = (cause?: unknown) =>
  new AppError('UNAVAILABLE', 'The database is busy or unreachable; retry shortly.', { retryAfterSeconds: 1, cause });
