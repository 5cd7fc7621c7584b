/**
 * Domain errors carry a stable code that clients branch on. No HTTP status
 * here: the API maps codes to statuses in one place.
 */
export const ERROR_CODES = [
  'VALIDATION_FAILED',
  'MALFORMED_JSON',
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'BOOK_NOT_FOUND',
  'CODE_NOT_FOUND',
  'JOB_NOT_FOUND',
  'WEBHOOK_NOT_FOUND',
  'DELIVERY_NOT_FOUND',
  'REDEMPTION_NOT_FOUND',
  'API_KEY_NOT_FOUND',
  'ROUTE_NOT_FOUND',
  'BOOK_EXHAUSTED',
  'BOOK_NOT_ACTIVE',
  'USER_CODE_LIMIT_REACHED',
  'CODE_ALREADY_ASSIGNED',
  'CODE_LOCKED',
  'CODE_NOT_LOCKED',
  'REDEMPTION_LIMIT_REACHED',
  'LOCK_LIMIT_REACHED',
  'CODE_EXPIRED',
  'DELIVERY_NOT_FAILED',
  'TENANT_LIMIT_REACHED',
  'REDEMPTION_ALREADY_ROLLED_BACK',
  'PRECONDITION_FAILED',
  'PAYLOAD_TOO_LARGE',
  'IDEMPOTENCY_KEY_REUSED',
  'RATE_LIMITED',
  'UNAVAILABLE',
  'INTERNAL',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export interface FieldIssue {
  field: string;
  reason: string;
}

/** `C` narrows the code where it is known, so a transition can only refuse with the codes it declares (db/transition.ts). */
export class AppError<C extends ErrorCode = ErrorCode> extends Error {
  readonly code: C;
  readonly details?: unknown;
  /** Seconds a client should wait before retrying (RATE_LIMITED, UNAVAILABLE). */
  readonly retryAfterSeconds?: number;

  constructor(code: C, message: string, options: { details?: unknown; retryAfterSeconds?: number; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    this.details = options.details;
    this.retryAfterSeconds = options.retryAfterSeconds;
  }
}

export const validationFailed = (issues: FieldIssue[], message = 'The request is not valid.') =>
  new AppError('VALIDATION_FAILED', message, { details: issues });

export const isAppError = (e: unknown): e is AppError => e instanceof AppError;
