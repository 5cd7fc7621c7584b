import { z } from '@hono/zod-openapi';
import {
  BOOK_CODE_STATUSES,
  BOOK_STATUSES,
  CLAIMS_PER_SHARD_PER_SECOND,
  checkCode,
  CODE_EVENT_TYPES,
  CODE_STATUSES,
  DEFAULT_BOOK_SHARDS,
  HISTORY_PAGE,
  JOB_STATUSES,
  MAX_BOOK_SHARDS,
  MAX_PLANNED_CLAIMS_PER_SECOND,
  USER_ID_PATTERN,
  USER_ID_RULE,
} from '@coupons/core';

/**
 * Everything a client sends or receives, once: validation and the OpenAPI document both come from
 * here. Vocabularies (statuses, event types) are the core's own constants, and schemas-match-core.ts
 * holds every answer's schema to the type its use case returns. Errors: error-schemas.ts.
 */

const isoDate = z.iso.datetime({ offset: true }).openapi({ example: '2026-11-27T00:00:00Z' });
const id = z.string().min(1).max(128);
// The one user-id rule (core/src/user/user-id.ts), also applied to a token's sub.
const userId = z.string().regex(USER_ID_PATTERN, USER_ID_RULE).openapi({ example: 'user-42' });

/** A code in a path: checked as ASCII before it is upper-cased, by the same rule as an upload (core's checkCode). */
export const CodeParam = z
  .string()
  .transform((s, ctx) => {
    const checked = checkCode(s);
    if (checked.ok) return checked.code;
    ctx.addIssue({ code: 'custom', message: `3 to 64 characters of A-Z, 0-9, - and _ (${checked.reason})` });
    return z.NEVER;
  })
  .openapi({ param: { name: 'code', in: 'path' }, type: 'string', example: 'SUMMER-7K2M-QX9P' });

export const DiscountSchema = z
  .object({
    type: z.enum(['percentage', 'fixed']),
    value: z.number().min(0.01).max(1_000_000_000),
    currency: z.string().regex(/^[A-Z]{3}$/, 'ISO 4217, e.g. EUR').optional(),
  })
  .strict()
  .refine((d) => d.type !== 'percentage' || d.value <= 100, { message: 'a percentage is at most 100', path: ['value'] })
  .refine((d) => d.type !== 'fixed' || d.currency !== undefined, { message: 'a fixed discount needs a currency', path: ['currency'] })
  .openapi('Discount', { example: { type: 'percentage', value: 20 } });

const MAX_JSON_DEPTH = 16;
const RESERVED_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * Why a JSON value cannot be stored as-is in DynamoDB (or should not be
 * accepted), or undefined. DynamoDB numbers have 38 digits of precision and
 * a smallest magnitude of 1e-130; JavaScript numbers beyond 2^53 are not
 * exact; empty attribute names and deep nesting are refused by DynamoDB.
 */
export function unstorableJson(value: unknown, depth = 0): string | undefined {
  if (depth > MAX_JSON_DEPTH) return `nested more than ${MAX_JSON_DEPTH} levels`;
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || Math.abs(value) > Number.MAX_SAFE_INTEGER) return 'numbers must be finite and within ±2^53';
    if (value !== 0 && Math.abs(value) < 1e-130) return 'numbers must be 0 or at least 1e-130 in magnitude';
    return undefined;
  }
  if (Array.isArray(value)) {
    for (const v of value) {
      const why = unstorableJson(v, depth + 1);
      if (why) return why;
    }
    return undefined;
  }
  if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (k === '' || RESERVED_KEYS.has(k)) return `key ${JSON.stringify(k)} is not allowed`;
      const why = unstorableJson(v, depth + 1);
      if (why) return why;
    }
  }
  return undefined;
}

/**
 * Checked as the client sent it, before the record schema copies it: copying
 * `{"__proto__": …}` into a new object sets its prototype and drops the key, so
 * a check after the copy would let a top-level `__proto__` pass silently.
 */
const MetadataSchema = z
  .preprocess(
    (m, ctx) => {
      if (!m || typeof m !== 'object' || Array.isArray(m)) return m; // the record schema says what is wrong
      const why = unstorableJson(m);
      if (why) ctx.addIssue({ code: 'custom', message: why, input: m });
      else if (JSON.stringify(m).length > 4096) ctx.addIssue({ code: 'custom', message: 'at most 4 KB of JSON', input: m });
      return m;
    },
    z.record(z.string(), z.unknown()),
  )
  .openapi({ example: { campaign: 'black-friday' } });

const PatternSchema = z.string().min(3).max(64).openapi({ example: 'SUMMER-****-****' });
const ttlSeconds = z.number().int().min(1).max(86_400);

export const CreateBookSchema = z
  .object({
    name: z.string().trim().min(1).max(200),
    description: z.string().max(2000).optional(),
    validFrom: isoDate.optional(),
    validUntil: isoDate.optional(),
    maxRedemptionsPerUser: z.number().int().min(1).max(1_000_000).optional(),
    maxCodesPerUser: z.number().int().min(1).max(1_000_000).optional(),
    lockTtlSeconds: ttlSeconds.optional(),
    discount: DiscountSchema.optional(),
    codePattern: PatternSchema.optional(),
    checkChar: z.boolean().optional().openapi({ description: 'Generated codes end in `_` and a check character, so a mistyped code is refused without a lookup.' }),
    metadata: MetadataSchema.optional(),
    lowStockThreshold: z
      .number()
      .int()
      .min(0)
      .max(10_000_000)
      .optional()
      .openapi({ description: '`book.low_stock` fires once when available codes fall to this, and again only after stock rose above it.' }),
    shards: z
      .number()
      .int()
      .min(1)
      .max(MAX_BOOK_SHARDS)
      .optional()
      .openapi({
        description: `Stats and pool shards, each its own partition key, fixed at creation. Default ${DEFAULT_BOOK_SHARDS}; one shard is planned for ${CLAIMS_PER_SHARD_PER_SECOND} claims/s. Give this or \`expectedClaimsPerSecond\`, not both.`,
      }),
    expectedClaimsPerSecond: z
      .number()
      .int()
      .min(1)
      .max(MAX_PLANNED_CLAIMS_PER_SECOND)
      .optional()
      .openapi({ description: `Peak claims per second the book must take; sizes \`shards\` (one per ${CLAIMS_PER_SHARD_PER_SECOND} claims/s).`, example: 20000 }),
  })
  .strict()
  .refine((b) => b.shards === undefined || b.expectedClaimsPerSecond === undefined, {
    message: 'give shards or expectedClaimsPerSecond, not both',
    path: ['shards'],
  })
  .openapi('CreateBook', {
    example: { name: 'Black Friday 2026', validUntil: '2026-11-30T23:59:59Z', maxCodesPerUser: 1, discount: { type: 'percentage', value: 30 } },
  });

export const UpdateBookSchema = z
  .object({
    name: z.string().trim().min(1).max(200).optional(),
    description: z.string().max(2000).nullable().optional(),
    validFrom: isoDate.nullable().optional(),
    validUntil: isoDate.nullable().optional(),
    status: z.enum(BOOK_STATUSES).optional(),
    lowStockThreshold: z.number().int().min(0).max(10_000_000).nullable().optional().openapi({ description: 'null removes it.' }),
  })
  .strict()
  .refine((b) => Object.keys(b).length > 0, { message: 'name at least one field to change' })
  .openapi('UpdateBook', { example: { status: 'paused' } });

export const BookStatsSchema = z.object({
  codes: z.number().int(),
  available: z.number().int(),
  assigned: z.number().int(),
  redeemed: z.number().int().openapi({ description: 'Successful redemptions.' }),
});

export const BookSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    description: z.string().optional(),
    validFrom: z.string().optional(),
    validUntil: z.string().optional(),
    maxRedemptionsPerUser: z.number().int(),
    maxCodesPerUser: z.number().int().optional(),
    lockTtlSeconds: z.number().int(),
    discount: DiscountSchema.optional(),
    codePattern: z.string().optional(),
    checkChar: z.boolean().optional(),
    metadata: z.record(z.string(), z.unknown()).optional(),
    lowStockThreshold: z.number().int().optional(),
    status: z.enum(BOOK_STATUSES),
    shards: z.number().int().openapi({ description: 'Stats and pool shards, fixed at creation.' }),
    createdAt: z.string(),
    updatedAt: z.string(),
    version: z.number().int().optional().openapi({ description: 'Bumped by every edit; the ETag. Absent until the first edit.' }),
  })
  .openapi('Book');

export const BookWithStatsSchema = BookSchema.extend({ stats: BookStatsSchema }).openapi('BookWithStats');

export const PageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).optional().openapi({ example: 50 }),
  cursor: z.string().min(1).max(2048).optional(),
});

export const BookListSchema = z.object({ items: z.array(BookSchema), nextCursor: z.string().nullable() }).openapi('BookList');

export const IfMatchHeader = z.object({
  'if-match': z.string().max(1024).optional().openapi({ description: 'The ETag of GET /coupons/{bookId}; the edit is refused with 412 if the book changed since.', example: '"3"' }),
});

export const BookIdParam = z.object({ bookId: id.openapi({ param: { name: 'bookId', in: 'path' } }) });

export const UploadCodesSchema = z
  .object({
    bookId: id,
    codes: z.array(z.string().max(256)).min(1).max(5000),
  })
  .strict()
  .openapi('UploadCodes', { example: { bookId: '6f1c…', codes: ['BF-0001', 'BF-0002'] } });

export const UploadResultSchema = z
  .object({
    inserted: z.number().int(),
    duplicates: z.array(z.string()),
    invalid: z.array(z.object({ code: z.string(), reason: z.string() })),
  })
  .openapi('UploadResult');

export const GenerateCodesSchema = z
  .object({
    bookId: id,
    count: z
      .number()
      .int()
      .min(1)
      .max(10_000_000)
      .openapi({ description: 'Up to 10,000 are made in the request (201); more run as a job (202, then GET /jobs/{jobId}).' }),
    pattern: PatternSchema.optional(),
    checkChar: z.boolean().optional().openapi({ description: "Append `_` and a check character; defaults to the book's `checkChar`." }),
  })
  .strict()
  .openapi('GenerateCodes', { example: { bookId: '6f1c…', count: 1000, pattern: 'BF-####-????' } });

export const GenerateAcceptedSchema = z.object({ jobId: z.string() }).openapi('GenerateAccepted');

export const JobIdParam = z.object({ jobId: id.openapi({ param: { name: 'jobId', in: 'path' } }) });

export const GenerationJobSchema = z
  .object({
    id: z.string(),
    bookId: z.string(),
    status: z.enum(JOB_STATUSES),
    generated: z.number().int().openapi({ description: 'Codes committed so far (exact).' }),
    total: z.number().int(),
    pattern: z.string(),
    checkChar: z.boolean(),
    createdAt: z.string(),
    startedAt: z.string().nullable().openapi({ description: 'Null while queued.' }),
    finishedAt: z.string().optional(),
    error: z.string().optional(),
  })
  .openapi('GenerationJob');

export const ErasureJobSchema = z
  .object({
    id: z.string(),
    kind: z.literal('erasure'),
    status: z.enum(JOB_STATUSES),
    pseudonym: z.string().openapi({ description: "What the user's id became in every item: the same for every erasure of that id." }),
    lanes: z.number().int().openapi({ description: 'Parallel segments of the table the job reads.' }),
    lanesDone: z.number().int().openapi({ description: 'Segments read to the end.' }),
    scanned: z.number().int().openapi({ description: 'Items read so far (exact per committed page).' }),
    erased: z.number().int().openapi({ description: 'Items rewritten or moved to name the pseudonym.' }),
    createdAt: z.string(),
    startedAt: z.string().nullable().openapi({ description: 'Null while queued.' }),
    finishedAt: z.string().optional(),
    error: z.string().optional(),
  })
  .openapi('ErasureJob');

export const JobSchema = z.union([GenerationJobSchema, ErasureJobSchema]).openapi('Job', { description: 'A generation job, or (with `kind: erasure`) the erasure of a user.' });

export const ErasureAcceptedSchema = z.object({ jobId: z.string() }).openapi('ErasureAccepted');

export const GenerateResultSchema = z
  .object({
    generated: z.number().int(),
    requested: z.number().int().openapi({ description: 'The count asked for; `generated` is lower only when other books of the tenant crowd the pattern.' }),
    codes: z.array(z.string()),
  })
  .openapi('GenerateResult');

export const AssignRandomSchema = z
  .object({
    bookId: id,
    userId: userId.optional().openapi({ description: 'Required for admin and service callers; a user may only name itself.' }),
    lock: z.boolean().optional().openapi({ description: 'Claim and lock in one atomic step.' }),
    ttlSeconds: ttlSeconds.optional(),
  })
  .strict()
  .openapi('AssignRandom', { example: { bookId: '6f1c…', lock: true } });

export const AssignNamedSchema = z
  .object({
    userId,
    bookId: id.optional(),
    lock: z.boolean().optional(),
    ttlSeconds: ttlSeconds.optional(),
  })
  .strict()
  .openapi('AssignNamed', { example: { userId: 'user-42' } });

export const LockSchema = z
  .object({ userId: userId.optional(), ttlSeconds: ttlSeconds.optional() })
  .strict()
  .openapi('Lock', { example: { ttlSeconds: 120 } });

export const UnlockSchema = z
  .object({ userId: userId.optional(), lockId: z.string().uuid().optional() })
  .strict()
  .openapi('Unlock', { example: { lockId: '1b9d6bcd-bbfd-4b2d-9b5d-ab8dfbbd4bed' } });

export const RedeemSchema = z
  .object({
    userId: userId.optional(),
    lockId: z.string().uuid().optional(),
    orderId: z.string().min(1).max(128).optional(),
    context: MetadataSchema.optional(),
  })
  .strict()
  .openapi('Redeem', { example: { lockId: '1b9d6bcd-bbfd-4b2d-9b5d-ab8dfbbd4bed', orderId: 'order-1001' } });

export const CodeViewSchema = z
  .object({
    code: z.string(),
    bookId: z.string(),
    userId: z.string(),
    status: z.enum(CODE_STATUSES),
    assignedAt: z.string(),
    redemptionCount: z.number().int(),
    maxRedemptions: z.number().int(),
    lockExpiresAt: z.string().optional(),
    validUntil: z.string().optional(),
    discount: DiscountSchema.optional(),
  })
  .openapi('CodeView');

export const AssignResultSchema = CodeViewSchema.extend({ lockId: z.string().optional() }).openapi('AssignResult');
export const LockResultSchema = CodeViewSchema.extend({
  status: z.literal('locked'),
  lockId: z.string(),
  lockExpiresAt: z.string().openapi({ description: 'When the lock lapses by itself.' }),
}).openapi('LockResult');
export const RedeemResultSchema = CodeViewSchema.extend({ redemptionId: z.string() }).openapi('RedeemResult');

export const UserParam = z.object({ userId: userId.openapi({ param: { name: 'userId', in: 'path' } }) });
export const UserCouponsQuery = PageQuery.extend({
  bookId: id.optional(),
  status: z.enum(CODE_STATUSES).optional(),
});
export const UserCouponsSchema = z.object({ items: z.array(CodeViewSchema), nextCursor: z.string().nullable() }).openapi('UserCoupons');

export const RedemptionIdParam = z.object({
  redemptionId: z
    .string()
    .min(1)
    .max(200)
    .openapi({ param: { name: 'redemptionId', in: 'path' }, example: 'SUMMER-7K2M-QX9P.1b9d6bcd-bbfd-4b2d-9b5d-ab8dfbbd4bed' }),
});

export const RollbackSchema = z
  .object({ reason: z.string().max(500).optional().openapi({ description: 'Why the redemption is given back; at most 500 characters.' }) })
  .strict()
  .openapi('Rollback', { example: { reason: 'order-1001 cancelled' } });

export const RollbackResultSchema = CodeViewSchema.extend({ redemptionId: z.string(), rolledBackAt: z.string() }).openapi('RollbackResult');

export const HistoryEntrySchema = z
  .object({
    type: z.enum(CODE_EVENT_TYPES),
    at: z.string().openapi({
      description:
        "When the change was made: the service's clock as it sent the write (before the commit, by the write's latency at most), never before the code's previous change, so entries are in time order.",
    }),
    by: z.string().openapi({ description: "The caller's `sub`." }),
    userId: z.string().optional(),
    lockId: z.string().optional(),
    redemptionId: z.string().optional(),
    orderId: z.string().optional(),
    reason: z.string().optional(),
  })
  .openapi('HistoryEntry');

const history = z.array(HistoryEntrySchema).openapi({
  description: `A page of the code's changes, oldest first (\`limit\`, default ${HISTORY_PAGE.default}, at most ${HISTORY_PAGE.max}); built from the change stream, so it may trail the last write by about a second.`,
});
const nextCursor = z.string().nullable().openapi({ description: "The history's next page (`cursor`); null when no change is left." });

export const CodeDetailsQuery = z.object({
  limit: z.coerce.number().int().min(1).max(HISTORY_PAGE.max).optional().openapi({ example: 100, description: `History entries in the page; default ${HISTORY_PAGE.default}.` }),
  cursor: z.string().min(1).max(2048).optional().openapi({ description: '`nextCursor` of the previous page.' }),
});

/** A code still in its book's pool: no holder, no redemptions, no lock. */
export const AvailableCodeDetailsSchema = z
  .object({
    code: z.string(),
    bookId: z.string(),
    status: z.literal('available'),
    redemptionCount: z.literal(0),
    maxRedemptions: z.number().int().openapi({ description: "What the code will allow once assigned: the book's `maxRedemptionsPerUser`." }),
    validUntil: z.string().optional(),
    discount: DiscountSchema.optional(),
    history,
    nextCursor,
  })
  .openapi('AvailableCodeDetails');

/** A code assigned to a user: the code view, whatever its status now. */
export const HeldCodeDetailsSchema = CodeViewSchema.extend({ history, nextCursor }).openapi('HeldCodeDetails');

/** `status` tells which: `available`, or one of the held statuses. */
export const CodeDetailsSchema = z.discriminatedUnion('status', [AvailableCodeDetailsSchema, HeldCodeDetailsSchema]).openapi('CodeDetails');

export const BookCodesQuery = z.object({
  status: z.enum(BOOK_CODE_STATUSES).optional().openapi({ description: '`assigned`: held with redemptions left; `redeemed`: none left.' }),
  limit: z.coerce.number().int().min(1).max(1000).optional().openapi({ example: 100, description: 'Default 100.' }),
  cursor: z.string().min(1).max(2048).optional(),
});

export const BookCodeSchema = z
  .object({
    code: z.string(),
    status: z.enum(BOOK_CODE_STATUSES),
    userId: z.string().nullable().openapi({ description: 'The holder; null while available.' }),
    assignedAt: z.string().nullable(),
    redemptionCount: z.number().int(),
    maxRedemptions: z.number().int().openapi({ description: "For an available code, the book's `maxRedemptionsPerUser` it will get." }),
    lockExpiresAt: z.string().optional().openapi({ description: 'Only while a lock is held.' }),
  })
  .openapi('BookCode');

export const BookCodesSchema = z
  .object({
    items: z.array(BookCodeSchema),
    nextCursor: z.string().nullable().openapi({ description: 'Null exactly when nothing is left; a filtered page may hold fewer than `limit` items, even none, and still have one.' }),
  })
  .openapi('BookCodes');
