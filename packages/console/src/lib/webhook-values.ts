import type { DeliveryStatus, WebhookEventType } from '../api/types.ts';

/**
 * The values the API's types allow, listed for checkboxes and filters. Written out because types
 * do not exist at run time; the checks below fail the type check if the API adds or drops one.
 */
export const EVENT_TYPES = [
  'code.assigned',
  'code.locked',
  'code.unlocked',
  'code.redeemed',
  'redemption.rolled_back',
  'book.low_stock',
  'book.exhausted',
  'job.succeeded',
  'job.failed',
] as const satisfies readonly WebhookEventType[];

export const DELIVERY_STATUSES = ['pending', 'delivered', 'failed', 'cancelled'] as const satisfies readonly DeliveryStatus[];

type Exhaustive<All, Listed> = [Exclude<All, Listed>] extends [never] ? true : { missing: Exclude<All, Listed> };
export const eventTypesListed: Exhaustive<WebhookEventType, (typeof EVENT_TYPES)[number]> = true;
export const deliveryStatusesListed: Exhaustive<DeliveryStatus, (typeof DELIVERY_STATUSES)[number]> = true;
