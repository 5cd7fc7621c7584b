import { Entity } from 'electrodb';
import { INDEX } from '../db/table-definition.ts';
import { SERVICE, type EntityConfig } from './entity-config.ts';

export const API_KEY_ROLES = ['service', 'admin'] as const;

/**
 * One API key of a tenant. Only a SHA-256 of its secret is stored, never the
 * key. Each key is its own partition, read by every instance that verifies it
 * (once per instance per few seconds), so no tenant's keys share a hot key;
 * the tenant's list is the byOwner index, newest first.
 */
export const createApiKeyEntity = (config: EntityConfig) =>
  new Entity(
    {
      model: { entity: 'apiKey', version: '1', service: SERVICE },
      attributes: {
        tenant: { type: 'string', required: true, readOnly: true },
        keyId: { type: 'string', required: true, readOnly: true },
        name: { type: 'string', required: true, readOnly: true },
        role: { type: API_KEY_ROLES, required: true, readOnly: true },
        /** What the list shows of the key: `cbk_<tenant>_<keyId>_` and a few characters of the secret. */
        prefix: { type: 'string', required: true, readOnly: true },
        /** SHA-256 of the secret part, hex. */
        secretHash: { type: 'string', required: true, readOnly: true },
        createdAt: { type: 'string', required: true, readOnly: true },
        /** The admin's `sub` that created it (rewritten only by the erasure of that sub, erasure/). */
        createdBy: { type: 'string', required: true },
        /** Written at most once an hour, off the request path: a hint, not an audit log. */
        lastUsedAt: { type: 'string' },
        revokedAt: { type: 'string' },
        revokedBy: { type: 'string' },
        /** Set on revocation: a revoked key stays listed for REVOKED_KEY_DAYS, then TTL removes it. */
        expiresAt: { type: 'number' },
      },
      indexes: {
        byId: {
          pk: { field: 'pk', composite: ['tenant', 'keyId'], template: 'T#${tenant}#APIKEY#${keyId}', casing: 'none' },
          sk: { field: 'sk', composite: [], template: 'APIKEY', casing: 'none' },
        },
        byTenant: {
          index: INDEX.byOwner,
          pk: { field: 'gsi2pk', composite: ['tenant'], template: 'T#${tenant}#APIKEYS', casing: 'none' },
          sk: { field: 'gsi2sk', composite: ['createdAt', 'keyId'], template: '${createdAt}#${keyId}', casing: 'none' },
        },
      },
    },
    config,
  );
