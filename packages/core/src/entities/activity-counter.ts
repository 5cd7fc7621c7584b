import { Entity } from 'electrodb';
import { SERVICE, type EntityConfig } from './entity-config.ts';

export const ACTIVITY_INTERVALS = ['minute', 'hour', 'day'] as const;
export type ActivityInterval = (typeof ACTIVITY_INTERVALS)[number];

/**
 * How many of a book's code changes in one bucket of one interval the change
 * stream has counted, in one of the bucket's slots (docs/activity.md). A
 * bucket is spread over slots, each its own partition key, because a flash
 * sale's consumers add to the same bucket at once: a chart sums the slots.
 * Written only by the history consumer's transactions (and the backfill),
 * with ADD, in the same transaction as the history entries counted.
 */
export const createActivityCounterEntity = (config: EntityConfig) =>
  new Entity(
    {
      model: { entity: 'activityCounter', version: '1', service: SERVICE },
      attributes: {
        tenant: { type: 'string', required: true, readOnly: true },
        bookId: { type: 'string', required: true, readOnly: true },
        interval: { type: ACTIVITY_INTERVALS, required: true, readOnly: true },
        slot: { type: 'number', required: true, readOnly: true },
        /** The bucket's start, ISO 8601 in UTC: sorts by time. */
        bucket: { type: 'string', required: true, readOnly: true },
        assigned: { type: 'number' },
        locked: { type: 'number' },
        unlocked: { type: 'number' },
        redeemed: { type: 'number' },
        rolledBack: { type: 'number' },
      },
      indexes: {
        bySlot: {
          pk: {
            field: 'pk',
            composite: ['tenant', 'bookId', 'interval', 'slot'],
            template: 'T#${tenant}#BOOK#${bookId}#ACT#${interval}#${slot}',
            casing: 'none',
          },
          sk: { field: 'sk', composite: ['bucket'], template: 'ACT#${bucket}', casing: 'none' },
        },
      },
    },
    config,
  );
