import { Service } from 'electrodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createBookEntity } from './book.ts';
import { createCodeEntity } from './code.ts';
import { createBookStatsShardEntity } from './book-stats-shard.ts';
import { createUserBookHoldingEntity } from './user-book-holding.ts';
import { createRedemptionEntity } from './redemption.ts';
import { createCodeHistoryEntity } from './code-history.ts';
import { createIdempotencyPartEntity, createIdempotencyRecordEntity } from './idempotency-record.ts';
import { createRateCounterEntity } from './rate-counter.ts';
import { createJobEntity, createJobLaneEntity } from './job.ts';
import { createWebhookEntity } from './webhook.ts';
import { createWebhookDeliveryEntity } from './webhook-delivery.ts';
import { createBookAlertEntity } from './book-alert.ts';
import { createStreamCheckpointEntity } from './stream-checkpoint.ts';
import { createApiKeyEntity } from './api-key.ts';
import { createMigrationStateEntity } from './migration-state.ts';
import { createRedemptionLookupEntity } from './redemption-lookup.ts';
import { createErasedUserEntity } from './erased-user.ts';

/** All entities bound to one table, and the ElectroDB service that runs transactions across them. */
export function createStore(client: DynamoDBDocumentClient, table: string) {
  const config = { client, table };
  const entities = {
    book: createBookEntity(config),
    code: createCodeEntity(config),
    bookStatsShard: createBookStatsShardEntity(config),
    userBookHolding: createUserBookHoldingEntity(config),
    redemption: createRedemptionEntity(config),
    redemptionLookup: createRedemptionLookupEntity(config),
    codeHistory: createCodeHistoryEntity(config),
    idempotencyRecord: createIdempotencyRecordEntity(config),
    idempotencyPart: createIdempotencyPartEntity(config),
    rateCounter: createRateCounterEntity(config),
    job: createJobEntity(config),
    jobLane: createJobLaneEntity(config),
    webhook: createWebhookEntity(config),
    webhookDelivery: createWebhookDeliveryEntity(config),
    bookAlert: createBookAlertEntity(config),
    streamCheckpoint: createStreamCheckpointEntity(config),
    apiKey: createApiKeyEntity(config),
    migrationState: createMigrationStateEntity(config),
    erasedUser: createErasedUserEntity(config),
  };
  const service = new Service(entities, config);
  return { ...entities, service, client, table };
}

export type Store = ReturnType<typeof createStore>;
