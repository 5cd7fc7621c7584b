import { Entity } from 'electrodb';
import { INDEX } from '../db/table-definition.ts';
import { SERVICE, type EntityConfig } from './entity-config.ts';

export const BOOK_STATUSES = ['active', 'paused'] as const;

/** A coupon book (campaign). Read by id; listed per tenant through the byOwner index. */
export const createBookEntity = (config: EntityConfig) =>
  new Entity(
    {
      model: { entity: 'book', version: '1', service: SERVICE },
      attributes: {
        tenant: { type: 'string', required: true, readOnly: true },
        bookId: { type: 'string', required: true, readOnly: true },
        name: { type: 'string', required: true },
        description: { type: 'string' },
        validFrom: { type: 'string' },
        validUntil: { type: 'string' },
        maxRedemptionsPerUser: { type: 'number', required: true, readOnly: true },
        maxCodesPerUser: { type: 'number', readOnly: true },
        lockTtlSeconds: { type: 'number', required: true, readOnly: true },
        discount: { type: 'any' },
        codePattern: { type: 'string' },
        /** Generated codes end in `_` and a check character (code-format/check-char.ts). */
        checkChar: { type: 'boolean' },
        metadata: { type: 'any' },
        /** `book.low_stock` fires when available codes fall to this (webhooks/stock-watch.ts). */
        lowStockThreshold: { type: 'number' },
        status: { type: BOOK_STATUSES, required: true },
        poolShards: { type: 'number', required: true, readOnly: true },
        createdAt: { type: 'string', required: true, readOnly: true },
        updatedAt: { type: 'string', required: true },
        /** Bumped by every edit, which is conditioned on the value it read (absent = 0): the ETag. */
        version: { type: 'number' },
        /** The `version` whose edit last wrote the gate copies on the stats shards (absent = never edited). */
        gateVersion: { type: 'number' },
      },
      indexes: {
        byId: {
          pk: { field: 'pk', composite: ['tenant', 'bookId'], template: 'T#${tenant}#BOOK#${bookId}', casing: 'none' },
          sk: { field: 'sk', composite: [], template: 'BOOK', casing: 'none' },
        },
        byTenant: {
          index: INDEX.byOwner,
          pk: { field: 'gsi2pk', composite: ['tenant'], template: 'T#${tenant}#BOOKS', casing: 'none' },
          sk: { field: 'gsi2sk', composite: ['createdAt', 'bookId'], template: '${createdAt}#${bookId}', casing: 'none' },
        },
      },
    },
    config,
  );
