import { CouponApiError } from '@coupons/client';

/** What a person reads for a failure: the API's own message, its code, and what to quote when asking for help. */
export interface Problem {
  message: string;
  code?: string;
  status?: number;
  requestId?: string;
  /** Field by field, for `VALIDATION_FAILED`. */
  fields?: { field: string; reason: string }[];
}

export function problemOf(error: unknown): Problem {
  if (error instanceof CouponApiError) {
    const fields = Array.isArray(error.details)
      ? error.details.filter((d): d is { field: string; reason: string } => typeof d?.field === 'string' && typeof d?.reason === 'string')
      : undefined;
    return {
      message: error.message.replace(/^\d{3} [A-Z_0-9]+: /, ''),
      code: error.code,
      status: error.status,
      requestId: error.requestId,
      fields: fields?.length ? fields : undefined,
    };
  }
  if (error instanceof TypeError) return { message: `The API could not be reached (${error.message}).` };
  return { message: error instanceof Error ? error.message : String(error) };
}
