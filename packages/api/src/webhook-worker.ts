import { EndpointDirectory, createSqsClient, processDeliveryMessage, type CoreContext, type DeliveryJob } from '@coupons/core';
import { flushingMetrics } from './telemetry/telemetry.ts';
import { createTracedCoreContext } from './telemetry/tracing.ts';
import { tracedHandler, type Tracer } from './telemetry/trace-segments.ts';

/** The slice of an SQS FIFO event the webhook worker reads. */
export interface SqsFifoEvent {
  Records: {
    messageId: string;
    receiptHandle: string;
    body: string;
    attributes: { MessageGroupId?: string; ApproximateReceiveCount?: string };
  }[];
}

type ChangeVisibility = (receiptHandle: string, seconds: number) => Promise<void>;

/**
 * The webhook delivery queue's subscriber (infra/webhooks.ts): one attempt
 * per message. A failed attempt hides its message for the schedule's next
 * delay and reports it failed; the rest of its message group in the batch is
 * handed back untried, so a code's events still go out in order (the queue
 * is FIFO, grouped by endpoint and code). Groups run side by side.
 */
export function createWebhookWorker(core: CoreContext, changeVisibility: ChangeVisibility) {
  const directory = new EndpointDirectory(core);
  return async (event: SqsFifoEvent) => {
    const failures: { itemIdentifier: string }[] = [];
    const groups = new Map<string, SqsFifoEvent['Records']>();
    for (const r of event.Records) {
      const g = r.attributes.MessageGroupId ?? r.messageId;
      groups.set(g, [...(groups.get(g) ?? []), r]);
    }
    await Promise.all(
      [...groups.values()].map(async (records) => {
        for (const [i, record] of records.entries()) {
          let job: DeliveryJob;
          try {
            job = JSON.parse(record.body) as DeliveryJob;
          } catch {
            core.log.error('webhook message is not JSON; dropped', { sqsMessageId: record.messageId });
            continue;
          }
          // Every line about this delivery names it: the endpoint, the event's message id, the tenant.
          const fields = { tenant: job.tenant, webhookId: job.webhookId, messageId: job.messageId, sqsMessageId: record.messageId };
          const settled = await core.log.scope(fields, async () => {
            try {
              const receives = Number(record.attributes.ApproximateReceiveCount ?? '1');
              const { retryAfterSeconds } = await processDeliveryMessage(core, directory, job, receives);
              if (retryAfterSeconds === undefined) return true;
              await changeVisibility(record.receiptHandle, retryAfterSeconds);
            } catch (e) {
              core.log.error('webhook delivery failed to run', { error: e });
            }
            return false;
          });
          if (settled) continue;
          // This one waits (retry or error): it and everything after it in its group come back later, in order.
          for (const later of records.slice(i)) failures.push({ itemIdentifier: later.messageId });
          return;
        }
      }),
    );
    return { batchItemFailures: failures };
  };
}

let core: CoreContext | undefined;
let tracer: Tracer | undefined;
let worker: ReturnType<typeof createWebhookWorker> | undefined;

/** Lambda entry point: `packages/api/src/webhook-worker.handler`; each invocation is traced, and its metrics flushed when it ends. */
export const handler = flushingMetrics(
  () => core,
  async (event: SqsFifoEvent, context?: unknown) => {
    if (!worker) {
      ({ core, tracer } = await createTracedCoreContext());
      const sqs = createSqsClient();
      const queueUrl = core.config.WEBHOOK_QUEUE_URL;
      if (!queueUrl) throw new Error('WEBHOOK_QUEUE_URL is not set');
      worker = createWebhookWorker(core, async (receiptHandle, seconds) => {
        const { ChangeMessageVisibilityCommand } = await import('@aws-sdk/client-sqs');
        await (await sqs()).send(new ChangeMessageVisibilityCommand({ QueueUrl: queueUrl, ReceiptHandle: receiptHandle, VisibilityTimeout: seconds }));
      });
    }
    return tracedHandler(() => tracer, 'webhook deliveries', worker)(event, context);
  },
);
