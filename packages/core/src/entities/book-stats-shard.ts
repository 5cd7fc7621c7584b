import { Entity } from 'electrodb';
import { SERVICE, type EntityConfig } from './entity-config.ts';

/**
 * One of a book's N counter shards, one per pool shard, summed on read, so
 * that no single item is written by every assignment. Each shard is its own
 * partition key: a partition key takes 1,000 WCU/s, so shards that shared the
 * book's key would cap the book near 500 claims/s however many there were.
 * The book reads its N shards with one BatchGetItem (N ≤ 100, cost/shards.ts).
 *
 * Each shard also carries a copy of the book's gate (status and validity
 * window). Every assignment already writes its shard, so the write's
 * condition enforces "book active and within validity" without touching the
 * book item, which would otherwise be a hot key in a flash sale. An edit of
 * the gate rewrites it on every shard in the same transaction as the book,
 * conditioned on the versions it read (docs/edges.md).
 */
export const createBookStatsShardEntity = (config: EntityConfig) =>
  new Entity(
    {
      model: { entity: 'bookStatsShard', version: '1', service: SERVICE },
      attributes: {
        tenant: { type: 'string', required: true, readOnly: true },
        bookId: { type: 'string', required: true, readOnly: true },
        shard: { type: 'number', required: true, readOnly: true },
        codes: { type: 'number', required: true, default: 0 },
        available: { type: 'number', required: true, default: 0 },
        assigned: { type: 'number', required: true, default: 0 },
        redeemed: { type: 'number', required: true, default: 0 },
        bookStatus: { type: ['active', 'paused'] as const, required: true },
        /** Epoch ms; absent means open-ended. */
        validFromMs: { type: 'number' },
        validUntilMs: { type: 'number' },
        /** The book's `gateVersion` this copy was written from; an edit is conditioned on it. */
        gateVersion: { type: 'number' },
      },
      indexes: {
        byShard: {
          pk: { field: 'pk', composite: ['tenant', 'bookId', 'shard'], template: 'T#${tenant}#BOOK#${bookId}#STATS#${shard}', casing: 'none' },
          sk: { field: 'sk', composite: [], template: 'STATS', casing: 'none' },
        },
      },
    },
    config,
  );
