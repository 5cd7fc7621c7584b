import { WEBHOOK_EVENT_TYPES } from '@coupons/client';
import type { DeliveryStatus, WebhookEventType } from '../api/types.ts';

/**
 * The values the API's types allow, for checkboxes and filters. The event types are the core's
 * own list, through the client; the delivery statuses are written out (they live beside their
 * entity, which the browser must not load). The checks below fail the type check if the API's
 * types and these lists part.
 */
export const EVENT_TYPES = WEBHOOK_EVENT_TYPES satisfies readonly WebhookEventType[];

export const DELIVERY_STATUSES = ['pending', 'delivered', 'failed', 'cancelled'] as const satisfies readonly DeliveryStatus[];

type Exhaustive<All, Listed> = [Exclude<All, Listed>] extends [never] ? true : { missing: Exclude<All, Listed> };
export const eventTypesListed: Exhaustive<WebhookEventType, (typeof EVENT_TYPES)[number]> = true;
export const deliveryStatusesListed: Exhaustive<DeliveryStatus, (typeof DELIVERY_STATUSES)[number]> = true;
