import { z } from '@hono/zod-openapi';
import { ERROR_CODES, type ErrorCode } from '@coupons/core';

/**
 * The one error shape, `{ error: { code, message, details? } }` (error-response.ts sends it), as
 * a union on `code`: a generated client narrows `details` by checking the code. Named
 * `ErrorResponse`/`ApiError`, never `Error`, which would shadow the global in generated code.
 */

export const FieldIssueSchema = z
  .object({
    field: z.string().openapi({ description: 'A body field (dotted path), query or path parameter, or header; `(body)` for the body as a whole.' }),
    reason: z.string(),
  })
  .openapi('FieldIssue', { example: { field: 'validUntil', reason: 'must be after validFrom' } });

const message = z.string().openapi({ description: 'For people; may change. Branch on `code`.' });

const ValidationFailedSchema = z
  .object({
    code: z.literal('VALIDATION_FAILED'),
    message,
    details: z.array(FieldIssueSchema).openapi({ description: 'What is wrong, field by field.' }),
  })
  .openapi('ValidationFailed');

const PreconditionFailedSchema = z
  .object({
    code: z.literal('PRECONDITION_FAILED'),
    message,
    details: z.object({
      etag: z.string().openapi({ description: "The book's ETag now: read the book again before editing it.", example: '"4"' }),
    }),
  })
  .openapi('PreconditionFailed');

const InternalErrorSchema = z
  .object({
    code: z.literal('INTERNAL'),
    message,
    details: z.object({ requestId: z.string().openapi({ description: 'Also in the `X-Request-Id` header and the log line.' }) }),
  })
  .openapi('InternalError');

/** The codes whose error carries `details`, each with its own shape above. */
const CODES_WITH_DETAILS = ['VALIDATION_FAILED', 'PRECONDITION_FAILED', 'INTERNAL'] as const satisfies readonly ErrorCode[];
type PlainCode = Exclude<ErrorCode, (typeof CODES_WITH_DETAILS)[number]>;
const PLAIN_CODES = ERROR_CODES.filter((c): c is PlainCode => !(CODES_WITH_DETAILS as readonly ErrorCode[]).includes(c)) as [PlainCode, ...PlainCode[]];

const PlainErrorSchema = z
  .object({ code: z.enum(PLAIN_CODES).openapi({ description: 'Stable: clients branch on it. Each response lists the codes it can carry.' }), message })
  .openapi('PlainError');

export const ApiErrorSchema = z
  .discriminatedUnion('code', [ValidationFailedSchema, PreconditionFailedSchema, InternalErrorSchema, PlainErrorSchema])
  .openapi('ApiError');

export const ErrorResponseSchema = z.object({ error: ApiErrorSchema }).openapi('ErrorResponse');

/** Example `details` for the documented examples, in the shapes above. */
export const EXAMPLE_DETAILS: Partial<Record<ErrorCode, unknown>> = {
  VALIDATION_FAILED: [{ field: 'bookId', reason: 'Too small: expected string to have >=1 characters' }],
  PRECONDITION_FAILED: { etag: '"4"' },
};
