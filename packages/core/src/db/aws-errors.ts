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

/** Throttling, an outage or a network fault: the caller may retry later. */
export function isTransientAwsError(e: unknown): boolean {
  const err = e as { name?: string; code?: string; $retryable?: unknown; cause?: { code?: string } };
  if (!err || typeof err !== 'object') return false;
  return (
    THROTTLING.has(err.name ?? '') ||
    NETWORK.has(err.name ?? '') ||
    NETWORK.has(err.code ?? '') ||
    NETWORK.has(err.cause?.code ?? '') ||
    err.$retryable !== undefined
  );
}

export const unavailable = (cause?: unknown) =>
  new AppError('UNAVAILABLE', 'The database is busy or unreachable; retry shortly.', { retryAfterSeconds: 1, cause });
