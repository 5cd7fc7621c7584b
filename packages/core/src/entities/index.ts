import { Service, createWriteTransaction } from 'electrodb';
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
import { createActivityCounterEntity } from './activity-counter.ts';
import { createTenantQuotaEntity } from './tenant-quota.ts';
import type { EntityConfig } from './entity-config.ts';

/** Every entity of the table, by the name the code uses. */
const FACTORIES = {
  book: createBookEntity,
  code: createCodeEntity,
  bookStatsShard: createBookStatsShardEntity,
  userBookHolding: createUserBookHoldingEntity,
  redemption: createRedemptionEntity,
  redemptionLookup: createRedemptionLookupEntity,
  codeHistory: createCodeHistoryEntity,
  activityCounter: createActivityCounterEntity,
  idempotencyRecord: createIdempotencyRecordEntity,
  idempotencyPart: createIdempotencyPartEntity,
  rateCounter: createRateCounterEntity,
  job: createJobEntity,
  jobLane: createJobLaneEntity,
  webhook: createWebhookEntity,
  webhookDelivery: createWebhookDeliveryEntity,
  bookAlert: createBookAlertEntity,
  streamCheckpoint: createStreamCheckpointEntity,
  apiKey: createApiKeyEntity,
  migrationState: createMigrationStateEntity,
  tenantQuota: createTenantQuotaEntity,
  erasedUser: createErasedUserEntity,
};

type EntityName = keyof typeof FACTORIES;
export type StoreEntities = { [K in EntityName]: ReturnType<(typeof FACTORIES)[K]> };

export type Store = StoreEntities & {
  /** Every entity joined in one ElectroDB service (built on first use: transactions do not need it). */
  readonly service: Service<StoreEntities>;
  client: DynamoDBDocumentClient;
  table: string;
};

/** The entities as ElectroDB hands them to a write transaction (each operation ends in `.commit()`). */
export type TransactionEntities = Parameters<Parameters<Service<StoreEntities>['transaction']['write']>[0]>[0];

/**
 * All entities bound to one table. Each is built on first use: ElectroDB validates an entity's
 * model against a JSON schema when it is constructed (a few milliseconds each), and a Lambda's
 * first request touches a handful of the twenty, so building them all at import was most of its
 * cold start's growth (bench/RESULTS.md, coldstart).
 */
export function createStore(client: DynamoDBDocumentClient, table: string): Store {
  const config: EntityConfig = { client, table };
  const built: Partial<StoreEntities> = {};
  const store = { client, table } as Store;
  for (const name of Object.keys(FACTORIES) as EntityName[]) {
    Object.defineProperty(store, name, {
      enumerable: true,
      get: () => (built[name] ??= FACTORIES[name](config) as never),
    });
  }
  let service: Service<StoreEntities> | undefined;
  Object.defineProperty(store, 'service', {
    get: () => {
      if (!service) {
        const all = Object.fromEntries((Object.keys(FACTORIES) as EntityName[]).map((n) => [n, store[n]])) as StoreEntities;
        service = new Service(all, config);
      }
      return service;
    },
  });
  return store;
}

/**
 * ElectroDB's write transaction over only the entities `fn` uses (the same as
 * `store.service.transaction.write`, without building the other entities). The
 * view hands out the store's entities by name and lists only those handed out,
 * which is what ElectroDB reads to match a cancelled item back to its entity.
 */
export function writeTransaction(store: Store, fn: (entities: TransactionEntities) => unknown[]) {
  // ElectroDB picks the entity that sends the request before `fn` runs; any of them would do.
  const used: Partial<StoreEntities> = { code: store.code };
  const view = new Proxy(used, {
    get: (target, name) => {
      if (typeof name !== 'string' || !(name in FACTORIES)) return undefined;
      target[name as EntityName] ??= store[name as EntityName] as never;
      return target[name as EntityName];
    },
  }) as StoreEntities;
  return createWriteTransaction(view, fn as never);
}
