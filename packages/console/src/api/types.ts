import type { CouponClient, InferRequestType, Success } from '@coupons/client';

/** The body `unwrap` gives for a client call: inferred from the API's routes, never written by hand. */
type Answer<F extends (...args: any) => any> = Success<Awaited<ReturnType<F>>>;

export type BookWithStats = Answer<CouponClient['coupons'][':bookId']['$get']>;
export type Book = Answer<CouponClient['coupons']['$post']>;
export type BookPage = Answer<CouponClient['coupons']['$get']>;
export type CreateBook = InferRequestType<CouponClient['coupons']['$post']>['json'];
export type UpdateBook = InferRequestType<CouponClient['coupons'][':bookId']['$patch']>['json'];
export type CodeDetails = Answer<CouponClient['coupons']['codes'][':code']['$get']>;
export type HistoryEntry = CodeDetails['history'][number];
export type BookCodes = Answer<CouponClient['coupons'][':bookId']['codes']['$get']>;
export type BookCodeStatus = NonNullable<InferRequestType<CouponClient['coupons'][':bookId']['codes']['$get']>['query']['status']>;
export type Job = Answer<CouponClient['jobs'][':jobId']['$get']>;
/** What `POST /coupons/codes/generate` starts; `GET /jobs/{jobId}` also answers erasures. */
export type GenerationJob = Exclude<Job, { kind: 'erasure' }>;
export type Webhook = Answer<CouponClient['webhooks'][':id']['$get']>;
export type CreatedWebhook = Answer<CouponClient['webhooks']['$post']>;
export type Delivery = Answer<CouponClient['webhooks'][':id']['deliveries']['$get']>['items'][number];
export type DeliveryStatus = Delivery['status'];
export type WebhookEventType = Webhook['events'][number];
export type RolledBack = Answer<CouponClient['redemptions'][':redemptionId']['rollback']['$post']>;
export type Activity = Answer<CouponClient['coupons'][':bookId']['activity']['$get']>;
export type ActivityBucket = Activity['buckets'][number];
export type ActivityInterval = Activity['interval'];
export type ApiKeyPage = Answer<CouponClient['api-keys']['$get']>;
export type ApiKey = ApiKeyPage['items'][number];
export type ApiKeyRole = InferRequestType<CouponClient['api-keys']['$post']>['json']['role'];
/** `key` is absent from an idempotent replay: the API never stores it. */
export type CreatedApiKey = Answer<CouponClient['api-keys']['$post']>;
