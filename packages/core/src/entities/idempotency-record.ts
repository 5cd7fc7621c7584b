import { Entity } from 'electrodb';
import { SERVICE, type EntityConfig } from './entity-config.ts';

/**
 * The first response to a request made with an `Idempotency-Key`, scoped to
 * tenant and caller. Written in the same transaction as the work it protects;
 * its life is bounded, so TTL (`expiresAt`) removes it after 24 hours.
 */
export const createIdempotencyRecordEntity = (config: EntityConfig) =>
  new Entity(
    {
      model: { entity: 'idempotencyRecord', version: '1', service: SERVICE },
      attributes: {
        tenant: { type: 'string', required: true, readOnly: true },
        caller: { type: 'string', required: true, readOnly: true },
        key: { type: 'string', required: true, readOnly: true },
        /** sha256 of method, path and canonical body: the same key with another body is refused. */
        requestHash: { type: 'string', required: true },
        /** `done` holds a response; `pending` marks multi-transaction work under way. */
        state: { type: ['pending', 'done'] as const, required: true },
        status: { type: 'number' },
        response: { type: 'string' },
        createdAt: { type: 'string', required: true },
        expiresAt: { type: 'number', required: true },
      },
      indexes: {
        byKey: {
          pk: { field: 'pk', composite: ['tenant', 'caller', 'key'], template: 'T#${tenant}#IDEM#${caller}#${key}', casing: 'none' },
          sk: { field: 'sk', composite: [], template: 'IDEM', casing: 'none' },
        },
      },
    },
    config,
  );
