import { Entity } from 'electrodb';
import { SERVICE, type EntityConfig } from './entity-config.ts';

/**
 * The first response to a request made with an `Idempotency-Key`. Its key is
 * a hash of (role, sub, key) inside the tenant, so no two callers can share a
 * record whatever characters their sub and key hold (docs/edges.md). Written
 * in the same transaction as the work it protects (or, for multi-step work,
 * claimed `pending` first); TTL (`expiresAt`) removes it after 24 hours.
 */
export const createIdempotencyRecordEntity = (config: EntityConfig) =>
  new Entity(
    {
      model: { entity: 'idempotencyRecord', version: '2', service: SERVICE },
      attributes: {
        tenant: { type: 'string', required: true, readOnly: true },
        /** sha256 of JSON [role, sub, key]: unambiguous, fixed length. */
        scope: { type: 'string', required: true, readOnly: true },
        /** Who made it, kept so that a replay is checked against the caller (never trusted from the hash alone). */
        role: { type: 'string', required: true, readOnly: true },
        caller: { type: 'string', required: true, readOnly: true },
        key: { type: 'string', required: true, readOnly: true },
        /** sha256 of method, path and canonical body: the same key with another body is refused. */
        requestHash: { type: 'string', required: true },
        /** `done` holds a response; `pending` marks multi-transaction work under way. */
        state: { type: ['pending', 'done'] as const, required: true },
        status: { type: 'number' },
        /** gzip of the response's JSON (binary), when it fits in this item. */
        body: { type: 'any' },
        /** Else the gzip is split over this many `idempotencyPart` items. */
        parts: { type: 'number' },
        createdAt: { type: 'string', required: true },
        expiresAt: { type: 'number', required: true },
      },
      indexes: {
        byScope: {
          pk: { field: 'pk', composite: ['tenant', 'scope'], template: 'T#${tenant}#IDEM#${scope}', casing: 'none' },
          sk: { field: 'sk', composite: [], template: 'IDEM', casing: 'none' },
        },
      },
    },
    config,
  );

/** One slice of a stored response too large for its record (at most ~1.3 MB in all: the upload route's echo of a 1 MiB body). */
export const createIdempotencyPartEntity = (config: EntityConfig) =>
  new Entity(
    {
      model: { entity: 'idempotencyPart', version: '1', service: SERVICE },
      attributes: {
        tenant: { type: 'string', required: true, readOnly: true },
        scope: { type: 'string', required: true, readOnly: true },
        part: { type: 'number', required: true, readOnly: true },
        body: { type: 'any', required: true },
        expiresAt: { type: 'number', required: true },
      },
      indexes: {
        byScope: {
          pk: { field: 'pk', composite: ['tenant', 'scope'], template: 'T#${tenant}#IDEM#${scope}', casing: 'none' },
          sk: { field: 'sk', composite: ['part'], template: 'PART#${part}', casing: 'none' },
        },
      },
    },
    config,
  );
