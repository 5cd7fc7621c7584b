import { intFromEnv } from './settings';

// The one table. Keys, index names and projections must match
// packages/core/src/db/table-definition.ts (the local table); test/infra checks that they do.

export const globalIndexes = {
  // A pick reads only the code's key and the transaction re-checks the item, so keys suffice.
  pool: { hashKey: 'gsi1pk', rangeKey: 'gsi1sk', projection: 'keys-only' },
  // A user's coupon list is served from the index alone.
  byOwner: { hashKey: 'gsi2pk', rangeKey: 'gsi2sk' },
  // A book's codes by shard and code (listing, export); the items are read by key, so keys suffice.
  byBook: { hashKey: 'gsi3pk', rangeKey: 'gsi3sk', projection: 'keys-only' },
} as const;

/**
 * `npx sst dev` runs the API function on the developer's machine against DynamoDB Local (the
 * `DynamoDbLocal` pane, sst.config.ts), so a personal stage creates no table; `SST_DEV_TABLE=aws`
 * gives it its own table on AWS instead. Deployed stages always get theirs.
 */
export const localTable = $dev && process.env.SST_DEV_TABLE !== 'aws';
export const devDynamoDb = {
  port: Number(process.env.DEV_DYNAMODB_PORT ?? 8000),
  table: 'coupons',
};

// Warm throughput: capacity the on-demand table (and each index) can take at once, without
// scaling up first. A flash sale sets these before it starts, to what `npm run capacity`
// prints (docs/flash-sale.md); unset, AWS's defaults apply. Units per second.
const warm = (prefix: string) => {
  const writeUnitsPerSecond = intFromEnv(`${prefix}_WRITES`, { min: 1, max: 10_000_000 });
  const readUnitsPerSecond = intFromEnv(`${prefix}_READS`, { min: 1, max: 10_000_000 });
  return writeUnitsPerSecond === undefined && readUnitsPerSecond === undefined
    ? undefined
    : { ...(writeUnitsPerSecond === undefined ? {} : { writeUnitsPerSecond }), ...(readUnitsPerSecond === undefined ? {} : { readUnitsPerSecond }) };
};
export const warmThroughput = {
  table: warm('DYNAMO_WARM'),
  pool: warm('DYNAMO_WARM_POOL'),
  byOwner: warm('DYNAMO_WARM_BYOWNER'),
  byBook: warm('DYNAMO_WARM_BYBOOK'),
};

const PROJECTION = { 'keys-only': 'KEYS_ONLY', all: 'ALL' } as const;

const awsTable = () => new sst.aws.Dynamo('Coupons', {
  fields: {
    pk: 'string',
    sk: 'string',
    gsi1pk: 'string',
    gsi1sk: 'string',
    gsi2pk: 'string',
    gsi2sk: 'string',
    gsi3pk: 'string',
    gsi3sk: 'string',
  },
  primaryIndex: { hashKey: 'pk', rangeKey: 'sk' },
  globalIndexes,
  // A code's history and the webhook events are built from this stream (new and old images).
  stream: 'new-and-old-images',
  // Only cleans up bounded records (idempotency keys); correctness never waits on TTL.
  ttl: 'expiresAt',
  // Follows the app's `protect`, so the stages that retain the table also refuse to drop it.
  deletionProtection: $app.protect,
  transform: {
    table: (args) => {
      // Stated here, not left to the component's defaults, because a flash sale's shape is
      // unknown in advance (on-demand) and codes are money (PITR).
      args.billingMode = 'PAY_PER_REQUEST';
      args.pointInTimeRecovery = { enabled: true };
      if (warmThroughput.table) args.warmThroughput = warmThroughput.table;
      // An index's warm throughput lives on its own entry: state the entries in full (as the
      // component would from globalIndexes) only when one of them needs it.
      if (warmThroughput.pool || warmThroughput.byOwner || warmThroughput.byBook) {
        args.globalSecondaryIndexes = Object.entries(globalIndexes).map(([name, index]) => ({
          name,
          hashKey: index.hashKey,
          rangeKey: index.rangeKey,
          projectionType: PROJECTION['projection' in index ? index.projection : 'all'],
          ...(warmThroughput[name as keyof typeof globalIndexes] ? { warmThroughput: warmThroughput[name as keyof typeof globalIndexes] } : {}),
        }));
      }
    },
  },
});

// The same link name either way, so the app reads `Coupons` without knowing where it is.
export const table = localTable
  ? new sst.Linkable('Coupons', {
      properties: { name: devDynamoDb.table, endpoint: `http://127.0.0.1:${devDynamoDb.port}` },
    })
  : awsTable();
