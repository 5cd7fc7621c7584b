import { Entity } from 'electrodb';
import { SERVICE, type EntityConfig } from './entity-config.ts';

/**
 * A caller's CODE_NOT_FOUND answers in one ten-minute window: the only
 * limiter state in the table, written only when a caller misses, shared by
 * every instance. Bounded life, so TTL removes it.
 */
export const createRateCounterEntity = (config: EntityConfig) =>
  new Entity(
    {
      model: { entity: 'rateCounter', version: '1', service: SERVICE },
      attributes: {
        tenant: { type: 'string', required: true, readOnly: true },
        scope: { type: 'string', required: true, readOnly: true },
        window: { type: 'number', required: true, readOnly: true },
        /** CODE_NOT_FOUND answers the caller got in the window. */
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
