import { Entity } from 'electrodb';
import { SERVICE, type EntityConfig } from './entity-config.ts';

/**
 * How many of a kind of thing a tenant has made, counted so that a cap is a
 * condition of the write that makes one (db/quota.ts): webhook endpoints,
 * active API keys, API keys created on one day. All of a tenant's counts
 * share one partition, written only by its admins' rare changes. A count of
 * a bounded period carries `expiresAt`, so TTL removes it.
 */
export const createTenantQuotaEntity = (config: EntityConfig) =>
  new Entity(
    {
      model: { entity: 'tenantQuota', version: '1', service: SERVICE },
      attributes: {
        tenant: { type: 'string', required: true, readOnly: true },
        /** What is counted: `webhooks`, `apiKeys`, `apiKeysCreated#<day>`. */
        kind: { type: 'string', required: true, readOnly: true },
        used: { type: 'number' },
        expiresAt: { type: 'number' },
      },
      indexes: {
        byKind: {
          pk: { field: 'pk', composite: ['tenant'], template: 'T#${tenant}#QUOTA', casing: 'none' },
          sk: { field: 'sk', composite: ['kind'], template: '${kind}', casing: 'none' },
        },
      },
    },
    config,
  );
