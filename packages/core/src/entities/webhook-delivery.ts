import { Entity } from 'electrodb';
import { INDEX } from '../db/table-definition.ts';
import { SERVICE, type EntityConfig } from './entity-config.ts';
import { and, eq, holds } from '../db/condition.ts';

export const DELIVERY_STATUSES = ['pending', 'delivered', 'failed', 'cancelled'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

/** In the due index: pending, and written by the in-process dispatcher (on AWS the entry would be a write nobody reads). */
export const DUE_FOR_RETRY = and(eq('status', 'pending' satisfies DeliveryStatus), eq('resumable', true));

/** The partition of the `byOwner` index that lists pending deliveries of every tenant, per shard. */
export const DUE_DELIVERIES_PARTITION = 'SYS#WEBHOOKS#DUE';

/**
 * One message to one endpoint: its body, where its delivery stands and its
 * last attempt. Spread over `shard` partition keys per endpoint (the shard
 * is a hash of the message id), because a flash sale sends one endpoint
 * ~20,000 events a second and one partition key takes 1,000 writes a second.
 *
 * While `pending` and written by the in-process dispatcher, it also sits in
 * a sparse index partition per shard, from which that dispatcher resumes its
 * retries after a restart (on AWS the queue holds them instead). Bounded life: `expiresAt` lets TTL
 * clean the log.
 */
export const createWebhookDeliveryEntity = (config: EntityConfig) =>
  new Entity(
    {
      model: { entity: 'webhookDelivery', version: '1', service: SERVICE },
      attributes: {
        tenant: { type: 'string', required: true },
        webhookId: { type: 'string', required: true },
        shard: { type: 'number', required: true },
        messageId: { type: 'string', required: true },
        eventType: { type: 'string', required: true },
        /** Events of one lane (one code, one book, one job) are delivered in `order`. */
        lane: { type: 'string', required: true },
        order: { type: 'string', required: true },
        /** The exact JSON body that is signed and sent. */
        body: { type: 'string', required: true },
        status: { type: DELIVERY_STATUSES, required: true },
        attempts: { type: 'number', required: true },
        /** Epoch ms of the next attempt while pending. */
        nextAttemptAt: { type: 'number' },
        lastAttemptAt: { type: 'number' },
        responseStatus: { type: 'number' },
        lastError: { type: 'string' },
        /** Raised by a resend; the stream turns the raise into a new delivery. */
        resends: { type: 'number', required: true, default: 0 },
        createdAt: { type: 'number', required: true },
        /** Written by the in-process dispatcher, which resumes from the due index; on AWS the queue holds retries instead. */
        resumable: { type: 'boolean' },
        expiresAt: { type: 'number' },
      },
      indexes: {
        byMessage: {
          pk: {
            field: 'pk',
            composite: ['tenant', 'webhookId', 'shard'],
            template: 'T#${tenant}#WH#${webhookId}#DLV#${shard}',
            casing: 'none',
          },
          sk: { field: 'sk', composite: ['messageId'], template: 'MSG#${messageId}', casing: 'none' },
        },
        due: {
          index: INDEX.byOwner,
          condition: (attr) => holds(DUE_FOR_RETRY, attr),
          pk: { field: 'gsi2pk', composite: ['shard'], template: `${DUE_DELIVERIES_PARTITION}#\${shard}`, casing: 'none' },
          sk: {
            field: 'gsi2sk',
            composite: ['tenant', 'webhookId', 'messageId'],
            template: '${tenant}#${webhookId}#${messageId}',
            casing: 'none',
          },
        },
      },
    },
    config,
  );
