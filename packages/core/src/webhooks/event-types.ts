/**
 * Every event a webhook can subscribe to. This file imports nothing: the client re-exports it as
 * `@coupons/core/webhook-event-types`, for the console's choices, without loading the rest of the core.
 */
export const WEBHOOK_EVENT_TYPES = [
  'code.assigned',
  'code.locked',
  'code.unlocked',
  'code.redeemed',
  'redemption.rolled_back',
  'book.low_stock',
  'book.exhausted',
  'job.succeeded',
  'job.failed',
] as const;

export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

/** What is signed and sent: Standard Webhooks' `{ type, timestamp, data }`. */
export interface WebhookEvent {
  /** The message id (`webhook-id`): the same for every attempt and every endpoint, so receivers can de-duplicate. */
  id: string;
  tenant: string;
  type: WebhookEventType;
  /** ISO time the change committed. */
  timestamp: string;
  data: Record<string, unknown>;
  /** Events of one lane (a code, a book, a job) reach an endpoint in `order`. */
  lane: string;
  order: string;
}

/** One event for one endpoint. */
export interface DeliveryJob {
  tenant: string;
  webhookId: string;
  messageId: string;
  eventType: WebhookEventType;
  lane: string;
  order: string;
  /** The exact JSON that is signed and sent. */
  body: string;
  /** How many times an admin sent it again (a resend is a new delivery of the same message). */
  resends?: number;
}

export const bodyOf = (event: WebhookEvent) => JSON.stringify({ type: event.type, timestamp: event.timestamp, data: event.data });
