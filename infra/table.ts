// The one table. Keys, index names and projections must match
// packages/core/src/db/table-definition.ts (the local table); test/infra checks that they do.

export const globalIndexes = {
  // A pick reads only the code's key and the transaction re-checks the item, so keys suffice.
  pool: { hashKey: 'gsi1pk', rangeKey: 'gsi1sk', projection: 'keys-only' },
  // A user's coupon list is served from the index alone.
  byOwner: { hashKey: 'gsi2pk', rangeKey: 'gsi2sk' },
} as const;

export const table = new sst.aws.Dynamo('Coupons', {
  fields: {
    pk: 'string',
    sk: 'string',
    gsi1pk: 'string',
    gsi1sk: 'string',
    gsi2pk: 'string',
    gsi2sk: 'string',
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
    },
  },
});
