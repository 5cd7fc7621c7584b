import { Entity } from 'electrodb';
import { SERVICE, type EntityConfig } from './entity-config.ts';

/**
 * How many codes of one book a user holds. Written in the same transaction
 * as the assignment, with a condition that keeps it under the book's
 * `maxCodesPerUser`. Only books with a cap keep one.
 */
export const createUserBookHoldingEntity = (config: EntityConfig) =>
  new Entity(
    {
      model: { entity: 'userBookHolding', version: '1', service: SERVICE },
      attributes: {
        tenant: { type: 'string', required: true, readOnly: true },
        userId: { type: 'string', required: true, readOnly: true },
        bookId: { type: 'string', required: true, readOnly: true },
        held: { type: 'number', required: true, default: 0 },
      },
      indexes: {
        byUserAndBook: {
          pk: { field: 'pk', composite: ['tenant', 'userId'], template: 'T#${tenant}#USER#${userId}', casing: 'none' },
          sk: { field: 'sk', composite: ['bookId'], template: 'BOOK#${bookId}', casing: 'none' },
        },
      },
    },
    config,
  );
