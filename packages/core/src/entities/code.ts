import { Entity } from 'electrodb';
import { INDEX } from '../db/table-definition.ts';
import { SERVICE, type EntityConfig } from './entity-config.ts';

/**
 * One coupon code. Found by its name alone (lock, redeem, assign-by-name);
 * a conditional write on this one item is the lock. While available it sits
 * in the sparse `pool` index under a random sort key; once assigned it
 * leaves the pool and enters the owner's `byOwner` partition. Whatever its
 * state, it stays in its book shard's `byBook` partition.
 *
 * Never carries `expiresAt`: TTL would delete the code itself.
 */
export const createCodeEntity = (config: EntityConfig) =>
  new Entity(
    {
      model: { entity: 'code', version: '1', service: SERVICE },
      attributes: {
        tenant: { type: 'string', required: true, readOnly: true },
        code: { type: 'string', required: true, readOnly: true },
        bookId: { type: 'string', required: true },
        shard: { type: 'number', required: true },
        /** `T#tenant#BOOK#id#POOL#shard`: the pool partition this code sits in while available. */
        poolPartition: { type: 'string', required: true },
        /** Random sort key inside the pool partition, so upload order says nothing about pick order. */
        poolSlot: { type: 'string', required: true },
        /** `T#tenant#USER#id`, set on assignment. */
        ownerKey: { type: 'string' },
        /** `BOOK#id#CODE#code`, set on assignment: a user's codes sort by book. */
        ownerSort: { type: 'string' },
        status: { type: ['available', 'assigned'] as const, required: true },
        userId: { type: 'string' },
        assignedAt: { type: 'string' },
        maxRedemptions: { type: 'number' },
        redemptionCount: { type: 'number', required: true, default: 0 },
        lockId: { type: 'string' },
        /** Epoch milliseconds; every condition compares it with the clock, so an expired lock needs no sweeper. */
        lockExpiresAt: { type: 'number' },
        createdAt: { type: 'string', required: true, readOnly: true },
      },
      indexes: {
        byCode: {
          pk: { field: 'pk', composite: ['tenant', 'code'], template: 'T#${tenant}#CODE#${code}', casing: 'none' },
          sk: { field: 'sk', composite: [], template: 'CODE', casing: 'none' },
        },
        pool: {
          index: INDEX.pool,
          // Leaving the pool must drop the index keys in the same write that assigns the code.
          condition: (attr) => attr.status === 'available',
          pk: { field: 'gsi1pk', composite: ['poolPartition'], template: '${poolPartition}', casing: 'none' },
          sk: { field: 'gsi1sk', composite: ['poolSlot'], template: '${poolSlot}', casing: 'none' },
        },
        byUser: {
          index: INDEX.byOwner,
          // Present only once assigned: the owner's partition lists exactly the codes the user holds.
          pk: { field: 'gsi2pk', composite: ['ownerKey'], template: '${ownerKey}', casing: 'none' },
          sk: { field: 'gsi2sk', composite: ['ownerSort'], template: '${ownerSort}', casing: 'none' },
        },
        byBook: {
          index: INDEX.byBook,
          // Every code, whatever its state, under its book's shard: no key here changes after insert,
          // so claims, locks and redeems never write this index, and no partition holds a whole book.
          pk: { field: 'gsi3pk', composite: ['tenant', 'bookId', 'shard'], template: 'T#${tenant}#BOOK#${bookId}#CODES#${shard}', casing: 'none' },
          sk: { field: 'gsi3sk', composite: ['code'], template: '${code}', casing: 'none' },
        },
      },
    },
    config,
  );
