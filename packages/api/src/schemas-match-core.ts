import type { z } from '@hono/zod-openapi';
import type {
  assignNamedCode,
  assignRandomCode,
  createBook,
  createWebhook,
  enqueueGeneration,
  ErrorCode,
  FieldIssue,
  generateCodes,
  getBook,
  getCodeDetails,
  getJob,
  getWebhook,
  HistoryEntry,
  listBookCodes,
  listBooks,
  listDeliveries,
  listUserCoupons,
  listWebhooks,
  lockCode,
  redeemCode,
  resendDelivery,
  rollbackRedemption,
  rotateWebhookSecret,
  unlockCode,
  updateBook,
  uploadCodes,
} from '@coupons/core';
import type * as S from './schemas.ts';
import type * as W from './webhook-schemas.ts';
import type { ApiErrorSchema, FieldIssueSchema } from './error-schemas.ts';

/*
 * Compile-time only (`npm run typecheck`): each answer's schema, which the OpenAPI document and
 * every generated client are built from, describes exactly what its use case returns. A field
 * added, dropped, made optional or retyped on either side fails the build here, naming both.
 */

/** What a use case resolves to: the body its route sends. */
type Answer<F extends (...args: never[]) => Promise<unknown>> = Awaited<ReturnType<F>>;

/** Each assignable to the other, with the same keys (so an optional field cannot go missing on one side). */
type Exactly<A, B> = [A] extends [B] ? ([B] extends [A] ? ([keyof A] extends [keyof B] ? ([keyof B] extends [keyof A] ? true : false) : false) : false) : false;
/** `true`, or a type that names the two sides, so a mismatch reads as what the schema says against what the core returns. */
type Pin<Schema extends z.ZodType, Core> = Exactly<z.output<Schema>, Core> extends true ? true : { schema: z.output<Schema>; core: Core };

type Available<T> = Extract<T, { status: 'available' }>;
type Held<T> = Exclude<T, { status: 'available' }>;
type Item<T extends { items: unknown[] }> = T['items'][number];
type CodeDetails = Answer<typeof getCodeDetails>;

export const schemasMatchCore: true[] = [
  true satisfies Pin<typeof S.BookSchema, Answer<typeof createBook>>,
  true satisfies Pin<typeof S.BookSchema, Answer<typeof updateBook>>,
  true satisfies Pin<typeof S.BookSchema, Item<Answer<typeof listBooks>>>,
  true satisfies Pin<typeof S.BookListSchema, Answer<typeof listBooks>>,
  true satisfies Pin<typeof S.BookWithStatsSchema, Answer<typeof getBook>>,
  true satisfies Pin<typeof S.BookStatsSchema, Answer<typeof getBook>['stats']>,
  true satisfies Pin<typeof S.DiscountSchema, NonNullable<Answer<typeof createBook>['discount']>>,
  true satisfies Pin<typeof S.UploadResultSchema, Answer<typeof uploadCodes>>,
  true satisfies Pin<typeof S.GenerateResultSchema, Answer<typeof generateCodes>>,
  true satisfies Pin<typeof S.GenerateAcceptedSchema, Answer<typeof enqueueGeneration>>,
  true satisfies Pin<typeof S.JobSchema, Answer<typeof getJob>>,
  true satisfies Pin<typeof S.AssignResultSchema, Answer<typeof assignRandomCode>>,
  true satisfies Pin<typeof S.AssignResultSchema, Answer<typeof assignNamedCode>>,
  true satisfies Pin<typeof S.LockResultSchema, Answer<typeof lockCode>>,
  true satisfies Pin<typeof S.CodeViewSchema, Answer<typeof unlockCode>>,
  true satisfies Pin<typeof S.RedeemResultSchema, Answer<typeof redeemCode>>,
  true satisfies Pin<typeof S.RollbackResultSchema, Answer<typeof rollbackRedemption>>,
  true satisfies Pin<typeof S.UserCouponsSchema, Answer<typeof listUserCoupons>>,
  true satisfies Pin<typeof S.CodeViewSchema, Item<Answer<typeof listUserCoupons>>>,
  true satisfies Pin<typeof S.AvailableCodeDetailsSchema, Available<CodeDetails>>,
  true satisfies Pin<typeof S.HeldCodeDetailsSchema, Held<CodeDetails>>,
  true satisfies Pin<typeof S.HistoryEntrySchema, HistoryEntry>,
  true satisfies Pin<typeof S.BookCodesSchema, Answer<typeof listBookCodes>>,
  true satisfies Pin<typeof S.BookCodeSchema, Item<Answer<typeof listBookCodes>>>,
  true satisfies Pin<typeof W.CreatedWebhookSchema, Answer<typeof createWebhook>>,
  true satisfies Pin<typeof W.WebhookSchema, Answer<typeof getWebhook>>,
  true satisfies Pin<typeof W.WebhookListSchema, Answer<typeof listWebhooks>>,
  true satisfies Pin<typeof W.RotatedSecretSchema, Answer<typeof rotateWebhookSecret>>,
  true satisfies Pin<typeof W.DeliverySchema, Answer<typeof resendDelivery>>,
  true satisfies Pin<typeof W.DeliveryListSchema, Answer<typeof listDeliveries>>,
  true satisfies Pin<typeof FieldIssueSchema, FieldIssue>,
  // The error union covers every code of the core's table, each once.
  true satisfies Exactly<z.output<typeof ApiErrorSchema>['code'], ErrorCode>,
];
