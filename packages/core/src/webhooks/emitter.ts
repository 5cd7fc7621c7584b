import type { CoreContext } from '../context.ts';
import type { ChangeConsumer, TableChange } from '../stream/change.ts';
import type { DeliveryJob, WebhookEvent } from './event-types.ts';
import { bodyOf } from './event-types.ts';
import type { EndpointDirectory } from './endpoint-directory.ts';
import type { DeliverySink } from './delivery.ts';
import { jobOfRecord } from './deliveries.ts';
import { eventsOf, type CodeEventsOf } from './events.ts';

const entityOf = (change: TableChange): string | undefined => (change.newImage ?? change.oldImage)?.__edb_e__;

/** A resend: the delivery record went back to pending with its `resends` raised (deliveries.ts). */
function resendOf(change: TableChange): DeliveryJob | undefined {
  if (change.eventName !== 'MODIFY' || entityOf(change) !== 'webhookDelivery') return undefined;
  const next = change.newImage!;
  if (next.status !== 'pending' || (next.resends ?? 0) <= (change.oldImage?.resends ?? 0)) return undefined;
  return jobOfRecord(next);
}

/**
 * The table's changes as webhook deliveries: each committed change that is
 * an event goes to every endpoint of its tenant subscribed to its type, in
 * the order the stream hands them over. Idempotent: a change read again
 * yields the same message ids.
 */
export function createWebhookEmitter(
  ctx: CoreContext,
  deps: { directory: EndpointDirectory; sink: DeliverySink; codeEventsOf: CodeEventsOf },
): ChangeConsumer {
  return {
    name: 'webhooks',
    async handle(changes: TableChange[]) {
      const found: { event: WebhookEvent; at: number }[] = [];
      const jobs: DeliveryJob[] = [];
      for (const change of changes) {
        if (entityOf(change) === 'webhook') {
          deps.directory.invalidate((change.newImage ?? change.oldImage)!.tenant);
          continue;
        }
        const resend = resendOf(change);
        if (resend) {
          jobs.push(resend);
          continue;
        }
        for (const event of await eventsOf(ctx, change, deps.codeEventsOf)) found.push({ event, at: change.at });
      }
      // One endpoint list per tenant for the whole batch, read after its newest event committed.
      const newest = new Map<string, number>();
      for (const { event, at } of found) newest.set(event.tenant, Math.max(at, newest.get(event.tenant) ?? 0));
      const endpoints = new Map(
        await Promise.all([...newest].map(async ([tenant, at]) => [tenant, await deps.directory.forEvent(tenant, at)] as const)),
      );
      for (const { event } of found) {
        for (const endpoint of endpoints.get(event.tenant)!) {
          if (endpoint.events.length > 0 && !endpoint.events.includes(event.type)) continue;
          jobs.push({
            tenant: event.tenant,
            webhookId: endpoint.webhookId,
            messageId: event.id,
            eventType: event.type,
            lane: event.lane,
            order: event.order,
            body: bodyOf(event),
          });
        }
      }
      if (jobs.length) await deps.sink.enqueue(jobs);
    },
  };
}
