import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';

/**
 * The one table. Physical names are generic (pk/sk/gsiNpk) so that many
 * entities can share them; the GSIs are named after the access pattern
 * they serve.
 */
export const INDEX = {
  /** Sparse: only available codes carry gsi1pk, partitioned by book shard. Random pick = one Query. */
  pool: 'pool',
  /** Sparse: a user's assigned codes and a tenant's books. */
  byOwner: 'byOwner',
  /**
   * Every code of a book, partitioned by the book's shard, sorted by code: listing and export.
   * Keys only, and no claim, lock or redeem changes its keys, so it costs one index write per code inserted.
   */
  byBook: 'byBook',
} as const;

export const TTL_ATTRIBUTE = 'expiresAt';

/** Consumers compare old and new images to tell what changed. */
export const STREAM_VIEW_TYPE = 'NEW_AND_OLD_IMAGES';

export function tableDefinition(tableName: string): CreateTableCommandInput {
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    // Every reaction to a write (a code's history, webhook events) comes from this stream.
    StreamSpecification: { StreamEnabled: true, StreamViewType: STREAM_VIEW_TYPE },
    AttributeDefinitions: [
      { AttributeName: 'pk', AttributeType: 'S' },
      { AttributeName: 'sk', AttributeType: 'S' },
      { AttributeName: 'gsi1pk', AttributeType: 'S' },
      { AttributeName: 'gsi1sk', AttributeType: 'S' },
      { AttributeName: 'gsi2pk', AttributeType: 'S' },
      { AttributeName: 'gsi2sk', AttributeType: 'S' },
      { AttributeName: 'gsi3pk', AttributeType: 'S' },
      { AttributeName: 'gsi3sk', AttributeType: 'S' },
    ],
    KeySchema: [
      { AttributeName: 'pk', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ],
    GlobalSecondaryIndexes: [
      {
        IndexName: INDEX.pool,
        KeySchema: [
          { AttributeName: 'gsi1pk', KeyType: 'HASH' },
          { AttributeName: 'gsi1sk', KeyType: 'RANGE' },
        ],
        // A pick needs only the code's key; the transaction re-checks the item itself.
        Projection: { ProjectionType: 'KEYS_ONLY' },
      },
      {
        IndexName: INDEX.byOwner,
        KeySchema: [
          { AttributeName: 'gsi2pk', KeyType: 'HASH' },
          { AttributeName: 'gsi2sk', KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
      },
      {
        IndexName: INDEX.byBook,
        KeySchema: [
          { AttributeName: 'gsi3pk', KeyType: 'HASH' },
          { AttributeName: 'gsi3sk', KeyType: 'RANGE' },
        ],
        // Listing reads the items themselves (BatchGet): keys suffice, and a state change rewrites no entry.
        Projection: { ProjectionType: 'KEYS_ONLY' },
      },
    ],
  };
}
