/**
 * Every business metric the service emits, in one list: the code records them by these names
 * (`ctx.metrics.add('Claims', 1, { tenant })`), the EMF writer (metrics.ts) takes unit and
 * dimensions from here, and infra/dashboard.ts and infra/alarms.ts draw and watch them by the same
 * names, so a dashboard widget cannot name a metric nothing emits. docs/observability.md lists them.
 *
 * This file imports nothing: infra/ (evaluated by SST at deploy time) imports it as
 * `@coupons/core/metrics` without loading the rest of the core.
 *
 * Dimensions are bounded on purpose: a tenant is a business (tens to hundreds), a route one of the
 * app's templates, an outcome one of a handful of words. Never a user, a code, a book or an
 * endpoint: each distinct value is a custom metric, billed monthly.
 */

/** CloudWatch namespace of every metric; each line also carries the stage as a dimension. */
export const METRIC_NAMESPACE = 'CouponBooks';

/** The dimension every metric carries, so stages sharing an account never mix. */
export const STAGE_DIMENSION = 'stage';

export type MetricDimension = 'tenant' | 'route' | 'outcome';

export interface MetricDefinition {
  unit: 'Count' | 'Milliseconds';
  /** Dimensions besides the stage; each is also rolled up (stage alone). */
  dimensions: readonly MetricDimension[];
  /** The statistic the dashboard and alarms read it with. */
  stat: 'Sum' | 'Maximum' | 'p99';
  /** The words the local summary line (`METRICS_SUMMARY_SECONDS`) uses. */
  label: string;
  description: string;
}

export const METRICS = {
  Claims: {
    unit: 'Count',
    dimensions: ['tenant'],
    stat: 'Sum',
    label: 'claims',
    description: 'Codes assigned to a user (random or named claim), counted when the transaction commits.',
  },
  SoldOut: {
    unit: 'Count',
    dimensions: ['tenant'],
    stat: 'Sum',
    label: 'sold out',
    description: 'Claims answered BOOK_EXHAUSTED (409): the book has no code left.',
  },
  LostRaces: {
    unit: 'Count',
    dimensions: ['tenant'],
    stat: 'Sum',
    label: 'lost races',
    description: "A claim's transaction cancelled because its picked code was taken first; the claim picks again.",
  },
  LockConflicts: {
    unit: 'Count',
    dimensions: ['tenant'],
    stat: 'Sum',
    label: 'lock conflicts',
    description: 'Answers CODE_LOCKED (409): a lock, unlock or redeem met a lock it does not hold.',
  },
  Redemptions: {
    unit: 'Count',
    dimensions: ['tenant'],
    stat: 'Sum',
    label: 'redemptions',
    description: 'Codes redeemed, counted when the transaction commits.',
  },
  Rollbacks: {
    unit: 'Count',
    dimensions: ['tenant'],
    stat: 'Sum',
    label: 'rollbacks',
    description: 'Redemptions rolled back, counted when the transaction commits.',
  },
  IdempotentReplays: {
    unit: 'Count',
    dimensions: ['tenant'],
    stat: 'Sum',
    label: 'replays',
    description: "Answers replayed from an Idempotency-Key's stored response (Idempotent-Replayed: true).",
  },
  RateLimited: {
    unit: 'Count',
    dimensions: ['tenant'],
    stat: 'Sum',
    label: '429',
    description: "Answers RATE_LIMITED (429) from the service's own limits (API Gateway's stage throttle is its own 429, in AWS/ApiGateway 4xx).",
  },
  Throttled: {
    unit: 'Count',
    dimensions: ['tenant'],
    stat: 'Sum',
    label: '503 db',
    description: 'Answers UNAVAILABLE (503) because DynamoDB throttled, timed out or was unreachable.',
  },
  ServerErrors: {
    unit: 'Count',
    dimensions: [],
    stat: 'Sum',
    label: '5xx',
    description: 'Answers with a 5xx status of any kind (INTERNAL, UNAVAILABLE).',
  },
  Latency: {
    unit: 'Milliseconds',
    dimensions: ['route'],
    stat: 'p99',
    label: 'p99',
    description: 'Time in the app per request, by route template (e.g. "POST /coupons/assign").',
  },
  StreamLag: {
    unit: 'Milliseconds',
    dimensions: [],
    stat: 'Maximum',
    label: 'stream lag',
    description: 'Per batch of the change stream: age of its oldest record (its commit time) when the consumers finished it.',
  },
  StreamRecords: {
    unit: 'Count',
    dimensions: [],
    stat: 'Sum',
    label: 'stream records',
    description: 'Change-stream records handed to the consumers (history, webhooks).',
  },
  WebhookDeliveries: {
    unit: 'Count',
    dimensions: ['outcome'],
    stat: 'Sum',
    label: 'webhooks',
    description: 'Webhook delivery attempts by outcome: delivered, retry (a failed attempt, retried later), failed (the schedule is used up: dead), cancelled (the endpoint was deleted).',
  },
} as const satisfies Record<string, MetricDefinition>;

export type MetricName = keyof typeof METRICS;

/** The outcomes `WebhookDeliveries` is counted by. */
export const WEBHOOK_OUTCOMES = ['delivered', 'retry', 'failed', 'cancelled'] as const;
