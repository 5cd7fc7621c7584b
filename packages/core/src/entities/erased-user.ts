import { Entity } from 'electrodb';
import { SERVICE, type EntityConfig } from './entity-config.ts';

/**
 * The mark that a user of a tenant was erased, keyed by their pseudonym
 * (erased-users.ts), never by their id: a request acting for that id finds
 * it by computing the pseudonym, and is refused. Written once, before the
 * erasure job reads the table; it never expires (the id stays erased).
 */
export const createErasedUserEntity = (config: EntityConfig) =>
  new Entity(
    {
      model: { entity: 'erasedUser', version: '1', service: SERVICE },
      attributes: {
        tenant: { type: 'string', required: true, readOnly: true },
        pseudonym: { type: 'string', required: true, readOnly: true },
        /** When the user was first erased (ISO). */
        erasedAt: { type: 'string', required: true, readOnly: true },
      },
      indexes: {
        byPseudonym: {
          pk: { field: 'pk', composite: ['tenant', 'pseudonym'], template: 'T#${tenant}#ERASED#${pseudonym}', casing: 'none' },
          sk: { field: 'sk', composite: [], template: 'ERASED', casing: 'none' },
        },
      },
    },
    config,
  );
