import { Entity } from 'electrodb';
import { SERVICE, type EntityConfig } from './entity-config.ts';

/**
 * Requests of one scope (a caller, a tenant shard, a caller's misses) in one
 * fixed window. Shared by every Lambda instance because it lives in the
 * table; bounded life, so TTL removes it.
 */
export const createRateCounterEntity = (config: EntityConfig) =>
  new Entity(
    {
      model: { entity: 'rateCounter', version: '1', service: SERVICE },
      attributes: {
        tenant: { type: 'string', required: true, readOnly: true },
        scope: { type: 'string', required: true, readOnly: true },
        window: { type: 'number', required: true, readOnly: true },
        /** Requests in the window (tenant shards). */
        count: { type: 'number' },
        /** A caller's item spans ten minutes: its requests per minute of the window, and its misses. */
        m0: { type: 'number' },
        m1: { type: 'number' },
        m2: { type: 'number' },
        m3: { type: 'number' },
        m4: { type: 'number' },
        m5: { type: 'number' },
        m6: { type: 'number' },
        m7: { type: 'number' },
        m8: { type: 'number' },
        m9: { type: 'number' },
        misses: { type: 'number' },
        expiresAt: { type: 'number', required: true },
      },
      indexes: {
        byScope: {
          pk: { field: 'pk', composite: ['tenant', 'scope', 'window'], template: 'T#${tenant}#RATE#${scope}#${window}', casing: 'none' },
          sk: { field: 'sk', composite: [], template: 'RATE', casing: 'none' },
        },
      },
    },
    config,
  );
