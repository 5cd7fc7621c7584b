import { Entity } from 'electrodb';
import { SERVICE, type EntityConfig } from './entity-config.ts';

/**
 * Which code a redemption belongs to, for the redemptions whose id does not
 * say: the previous release gave redemptions plain UUIDs, which clients still
 * hold, and a rollback must find the record under its code. Written once per
 * such redemption by migration 002 (migrations/002-redemption-ids-name-their-code.ts),
 * read only by a rollback of a plain id. Redemptions made since carry their
 * code in their id (`<code>.<uuid>`) and never get one.
 */
export const createRedemptionLookupEntity = (config: EntityConfig) =>
  new Entity(
    {
      model: { entity: 'redemptionLookup', version: '1', service: SERVICE },
      attributes: {
        tenant: { type: 'string', required: true, readOnly: true },
        redemptionId: { type: 'string', required: true, readOnly: true },
        code: { type: 'string', required: true, readOnly: true },
      },
      indexes: {
        byRedemption: {
          pk: { field: 'pk', composite: ['tenant', 'redemptionId'], template: 'T#${tenant}#REDEMPTION#${redemptionId}', casing: 'none' },
          sk: { field: 'sk', composite: [], template: 'REDEMPTION', casing: 'none' },
        },
      },
    },
    config,
  );
