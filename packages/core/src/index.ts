/**
 * The core's public surface, by domain. Other packages import only this
 * (and the entries its package.json exports); .dependency-cruiser.cjs enforces it.
 */

// Shared plumbing: settings, errors, the caller, the table and its clients
export * from './actor.ts';
export * from './config.ts';
export * from './context.ts';
export * from './errors.ts';
export { createStore, type Store } from './entities/index.ts';
export { createDynamoDbClient, createDocumentClient, createStreamsClient } from './db/client.ts';
export { ensureTable } from './db/ensure-table.ts';
export { tableDefinition, INDEX, TTL_ATTRIBUTE } from './db/table-definition.ts';
export { isTransientAwsError, isDatabaseUnavailable } from './db/aws-errors.ts';
export { USER_ID_PATTERN, USER_ID_RULE, isUserId } from './user-id.ts';
export type { UseCaseRefusals } from './db/transition.ts';
export { installFaultInjection, type Fault } from './db/fault-injection.ts';
export { createSqsClient, sendSqsMessage } from './aws/sqs.ts';
// The vocabularies the API's schemas are pinned to, each declared once
export { DELIVERY_STATUSES, type DeliveryStatus } from './entities/webhook-delivery.ts';
export { BOOK_STATUSES } from './entities/book.ts';
export { JOB_STATUSES, type JobStatus } from './entities/job.ts';
export { STORED_CODE_STATUSES } from './entities/code.ts';
export { CODE_EVENT_TYPES } from './entities/code-change-attributes.ts';

// Logs and metrics: the ports the core writes through, the metric registry, the EMF writer
export * from './telemetry/log.ts';
export * from './telemetry/metrics.ts';
export * from './telemetry/metric-registry.ts';

// A book and its gate
export * from './book/book.ts';
export * from './book/load-book.ts';
export * from './book/create-book.ts';
export * from './book/read-books.ts';
export * from './book/edit-book.ts';

// A code's life: claim, lock, unlock, redeem, roll back, history
export * from './code/claim.ts';
export * from './code/lock.ts';
export * from './code/redeem.ts';
export * from './code/user-coupons.ts';
export * from './code/rollback.ts';
export * from './code/details.ts';
export { codeHistoryConsumer, readHistory, type HistoryEntry } from './code/history.ts';
export { HISTORY_PAGE, readHistoryPage } from './code/history-page.ts';
export type { HistoryCounter, HistoryItem } from './code/history-write.ts';
export { codeOfRedemptionId } from './code/redemption-id.ts';
export type { CodeView } from './code/view.ts';
export { CODE_STATUSES, type CodeStatus, type StoredStatus } from './code/state.ts';
export { codeEventsOf, type CodeEvent, type CodeEventType } from './code/code-event.ts';

// What a code's text may be: the rule, patterns, check characters
export { checkCode, normalizeCode, isAsciiText, CODE_PATTERN, CODE_RULE } from './code-format/code-format.ts';
export * from './code-format/pattern.ts';
export * from './code-format/check-char.ts';

// A book's stock: uploads, generation (and its job), listing a book's codes
export * from './stock/add-codes.ts';
export { MAX_JOB_CODES, enqueueGeneration, generationJob, runGenerationJob } from './stock/generation-job.ts';
export { planInsert, MAX_TRANSACTION_ITEMS, type Placed } from './stock/insert-codes.ts';
export { listBookCodes, BOOK_CODES_DEFAULT_LIMIT, BOOK_CODES_MAX_LIMIT, BOOK_CODES_EXAMINE_BUDGET, type ListBookCodesInput, type BookCodesPage } from './stock/list-book-codes.ts';
export { BOOK_CODE_STATUSES, type BookCodeRow, type BookCodeStatus } from './stock/book-code-row.ts';

// Background jobs: records, lanes, leases, dispatch, the worker
export * from './jobs/model.ts';
export * from './jobs/dispatch.ts';
export { queueJob, getJob, listUnfinishedJobs, resumeUnfinishedJobs } from './jobs/jobs.ts';
export { recordJob } from './jobs/record-job.ts';
export { runJob } from './jobs/run-job.ts';
export { processJobMessage } from './jobs/worker.ts';

// Migrations: bringing what older releases stored to today's shape (docs/upgrades.md)
export {
  runMigrations,
  pendingMigrations,
  recordMigrationsComplete,
  MIGRATIONS_TENANT,
  type MigrationProgress,
  type MigrationReport,
  type MigrationsResult,
  type RunMigrationsOptions,
} from './migrations/run-migrations.ts';
export { MIGRATIONS } from './migrations/registry.ts';
export { migrationJob, migrationJobKind, type LaneProgress } from './migrations/migration-job.ts';
export { PHASES, type Migration, type Phase, type ItemOutcome, type TableItem } from './migrations/migration.ts';

// Erasing a person: the pseudonym, the erased mark's door, the erasure job (docs/erasure.md)
export { pseudonymOf, isErased, refuseErased, ERASED_CACHE_MS, PSEUDONYM_PATTERN } from './erased-users.ts';
export { eraseUser, eraseUserRefusals, ERASURES_PER_DAY } from './erasure/erase-user.ts';
export { erasureJob } from './erasure/erasure-job.ts';

// Idempotency keys and their stored answers
export * from './idempotency/run.ts';
export { idempotencyScope } from './idempotency/scope.ts';

// Rate limits and API keys
export * from './access/rate-limit.ts';
export * from './access/api-keys.ts';
export { verifyApiKey, LAST_USED_EVERY_MS } from './access/api-key-verifier.ts';
export { API_KEY_PREFIX, looksLikeApiKey, newKeyMaterial, parseApiKey, type KeyMaterial } from './access/api-key-format.ts';
export { API_KEY_ROLES } from './entities/api-key.ts';

// Webhooks: endpoints, events, deliveries, stock alerts
export * from './webhooks/event-types.ts';
export * from './webhooks/endpoints.ts';
export * from './webhooks/deliveries.ts';
export { listDeliveries, DELIVERIES_PAGE } from './webhooks/delivery-log.ts';
export { EndpointDirectory } from './webhooks/endpoint-directory.ts';
export { LocalDispatcher } from './webhooks/local-dispatcher.ts';
export { createWebhookEmitter } from './webhooks/emitter.ts';
export { createStockWatch, claimRate } from './webhooks/stock-watch.ts';
export { eventsOf, messageIdOf, type CodeEventsOf, type CodeLifeEvent } from './webhooks/events.ts';
export { sendOnce, signedHeaders } from './webhooks/send.ts';
export { refusedAddress } from './webhooks/ssrf-guard.ts';
export { sqsDeliverySink, processDeliveryMessage, messageGroupOf } from './webhooks/sqs-sink.ts';
export type { DeliverySink } from './webhooks/delivery.ts';
export { webhookConsumers } from './webhooks/consumers.ts';

// A book's activity over time, counted from its codes' history
export { ACTIVITY_INTERVALS, INTERVAL_MS, MAX_ACTIVITY_BUCKETS, bucketStart, bucketCount, type ActivityInterval } from './activity/buckets.ts';
export { activityCounter, ACTIVITY_SLOTS } from './activity/activity-counter.ts';
export { readActivity, DEFAULT_ACTIVITY_INTERVAL, type Activity, type ActivityBucket, type ActivityCounts, type ActivityQuery } from './activity/read-activity.ts';
export { countHistoriesIntoActivity, type BackfillProgress } from './activity/backfill.ts';

// The change stream (consumers are wired by the API's composition root)
export type { TableChange, ChangeConsumer } from './stream/change.ts';
export { toTableChange, dispatch, type RawStreamRecord } from './stream/records.ts';
export { startChangeFollower, type ChangeFollower, type FollowerOptions } from './stream/follower.ts';
export { followLocalStream } from './stream/local.ts';

// The cost model, the meter and the capacity planner
export * from './cost/shards.ts';
export { CostMeter, type RequestCharge, type WriteCharge, type ReadCharge } from './cost/meter.ts';
export * from './cost/summary.ts';
export * from './cost/model.ts';
export { itemSize } from './cost/item-size.ts';
export { planCapacity, DEFAULT_CHANGES_PER_STREAM_TRANSACTION, type CapacityInput, type CapacityPlan } from './cost/capacity.ts';
