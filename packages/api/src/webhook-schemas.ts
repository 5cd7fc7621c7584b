import { z } from '@hono/zod-openapi';
import { DELIVERIES_PAGE, DELIVERY_STATUSES, WEBHOOK_EVENT_TYPES, WEBHOOK_QUOTA, WEBHOOKS_PAGE } from '@coupons/core';

/** Webhook endpoints and their deliveries: requests and answers (routes/webhooks.ts). */

const EventType = z.enum(WEBHOOK_EVENT_TYPES).openapi({ example: 'code.redeemed' });
const DeliveryStatus = z.enum(DELIVERY_STATUSES);

export const CreateWebhookSchema = z
  .object({
    url: z
      .url({ protocol: /^https?$/, error: 'an http or https URL' })
      .max(2048)
      .openapi({ example: 'https://example.com/hooks/coupons' }),
    events: z
      .array(EventType)
      .max(WEBHOOK_EVENT_TYPES.length)
      .optional()
      .openapi({ description: 'Event types to deliver; absent or empty: every type.' }),
  })
  .strict()
  .openapi('CreateWebhook', { example: { url: 'https://example.com/hooks/coupons', events: ['code.redeemed', 'redemption.rolled_back'] } });

export const WebhookSchema = z
  .object({
    id: z.string(),
    url: z.string(),
    events: z.array(EventType),
    createdAt: z.string(),
    previousSecretExpiresAt: z.string().optional().openapi({ description: 'After a rotation: until when the old secret signs too.' }),
  })
  .openapi('Webhook');

export const CreatedWebhookSchema = WebhookSchema.extend({
  secret: z.string().openapi({ description: 'The signing secret (Standard Webhooks). Shown only here.', example: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' }),
}).openapi('CreatedWebhook');

export const WebhookListSchema = z
  .object({
    items: z.array(WebhookSchema),
    nextCursor: z.string().nullable().openapi({ description: 'Null exactly when no endpoint is left.' }),
  })
  .openapi('WebhookList');

export const WebhooksQuery = z.object({
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(WEBHOOKS_PAGE.max)
    .optional()
    .openapi({ example: 25, description: `Default ${WEBHOOKS_PAGE.default}: a tenant has at most ${WEBHOOK_QUOTA.cap} endpoints, so one page holds them all.` }),
  cursor: z.string().min(1).max(2048).optional().openapi({ description: '`nextCursor` of the previous page.' }),
});

export const WebhookIdParam = z.object({ id: z.string().min(1).max(128).openapi({ param: { name: 'id', in: 'path' } }) });

export const RotateSecretSchema = z
  .object({
    overlapSeconds: z
      .number()
      .int()
      .min(0)
      .max(7 * 86_400)
      .optional()
      .openapi({ description: 'How long the old secret keeps signing beside the new one (default 86,400).' }),
  })
  .strict()
  .openapi('RotateSecret', { example: { overlapSeconds: 3600 } });

export const RotatedSecretSchema = z
  .object({ id: z.string(), secret: z.string(), previousSecretExpiresAt: z.string() })
  .openapi('RotatedSecret');

export const DeliveriesQuery = z.object({
  limit: z.coerce.number().int().min(1).max(DELIVERIES_PAGE.max).optional().openapi({ example: 50, description: `Default ${DELIVERIES_PAGE.default}.` }),
  status: DeliveryStatus.optional(),
  cursor: z.string().min(1).max(2048).optional().openapi({ description: '`nextCursor` of the previous page (made for the same `status`).' }),
});

export const DeliverySchema = z
  .object({
    messageId: z.string().openapi({ description: 'The `webhook-id` header; the same for every attempt.' }),
    eventType: EventType,
    status: DeliveryStatus,
    attempts: z.number().int(),
    responseStatus: z.number().int().optional().openapi({ description: "The receiver's HTTP status on the last attempt." }),
    lastError: z.string().optional().openapi({ description: 'Why the last attempt got no answer (timeout, refused target).' }),
    lastAttemptAt: z.string().optional(),
    nextAttemptAt: z.string().optional().openapi({ description: 'While pending: when the next retry goes out.' }),
    createdAt: z.string(),
  })
  .openapi('Delivery');

export const DeliveryListSchema = z
  .object({
    items: z.array(DeliverySchema),
    nextCursor: z
      .string()
      .nullable()
      .openapi({ description: 'Null exactly when nothing older is left; with `status`, a page may hold fewer than `limit` messages, even none, and still have one.' }),
  })
  .openapi('DeliveryList');

export const MessageParam = WebhookIdParam.extend({
  messageId: z.string().min(1).max(128).openapi({ param: { name: 'messageId', in: 'path' } }),
});
