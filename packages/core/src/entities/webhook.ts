import { Entity } from 'electrodb';
import { SERVICE, type EntityConfig } from './entity-config.ts';

/**
 * One webhook endpoint of a tenant. All of a tenant's endpoints share one
 * partition of the table itself (not an index), so the dispatcher reads the
 * current list with one strongly consistent Query: an event committed after a
 * DELETE is never sent to the deleted endpoint. Admins write these rarely, so
 * the partition is never hot for writes.
 *
 * `previousSecret` signs alongside `secret` until `previousSecretUntil`
 * (rotation overlap).
 */
export const createWebhookEntity = (config: EntityConfig) =>
  new Entity(
    {
      model: { entity: 'webhook', version: '1', service: SERVICE },
      attributes: {
        tenant: { type: 'string', required: true, readOnly: true },
        webhookId: { type: 'string', required: true, readOnly: true },
        url: { type: 'string', required: true },
        /** Event types delivered; empty means every type. */
        events: { type: 'list', items: { type: 'string' }, required: true },
        secret: { type: 'string', required: true },
        previousSecret: { type: 'string' },
        /** Epoch ms until which `previousSecret` still signs. */
        previousSecretUntil: { type: 'number' },
        createdAt: { type: 'string', required: true, readOnly: true },
        updatedAt: { type: 'string', required: true },
      },
      indexes: {
        byTenant: {
          pk: { field: 'pk', composite: ['tenant'], template: 'T#${tenant}#WEBHOOKS', casing: 'none' },
          sk: { field: 'sk', composite: ['webhookId'], template: 'WEBHOOK#${webhookId}', casing: 'none' },
        },
      },
    },
    config,
  );
