import { Entity } from 'electrodb';
import { SERVICE, type EntityConfig } from './entity-config.ts';

/**
 * Audit record of one successful redemption, stored under its code: who,
 * when, which order. A rollback marks it (who, when, why) and it stays. The
 * id names its code (code/redemption-id.ts), so a rollback finds the record
 * by its id alone, without a scan or a lookup item.
 */
export const createRedemptionEntity = (config: EntityConfig) =>
  new Entity(
    {
      model: { entity: 'redemption', version: '1', service: SERVICE },
      attributes: {
        tenant: { type: 'string', required: true, readOnly: true },
        code: { type: 'string', required: true, readOnly: true },
        redemptionId: { type: 'string', required: true, readOnly: true },
        bookId: { type: 'string', required: true, readOnly: true },
        /** Rewritten only by the erasure of that user (erasure/), as `redeemedBy` and `rolledBackBy` are. */
        userId: { type: 'string', required: true },
        /** The caller that performed it (a user itself, or a service acting for the user). */
        redeemedBy: { type: 'string', required: true },
        orderId: { type: 'string' },
        context: { type: 'any' },
        redeemedAt: { type: 'string', required: true, readOnly: true },
        rolledBackAt: { type: 'string' },
        rolledBackBy: { type: 'string' },
        rollbackReason: { type: 'string' },
      },
      indexes: {
        byCode: {
          pk: { field: 'pk', composite: ['tenant', 'code'], template: 'T#${tenant}#CODE#${code}', casing: 'none' },
          sk: { field: 'sk', composite: ['redemptionId'], template: 'REDEMPTION#${redemptionId}', casing: 'none' },
        },
      },
    },
    config,
  );
