import { createHash } from 'node:crypto';
import type { CoreContext } from '../context.ts';
import type { LazySqsClient } from '../aws/sqs.ts';
import type { DeliveryJob } from './event-types.ts';
import type { EndpointDirectory } from './endpoint-directory.ts';
import { attemptAndRecord, type DeliverySink } from './delivery.ts';
import { deliveryShard } from './deliveries.ts';

/** SQS takes at most 10 messages per batch. */
const BATCH = 10;

/**
 * On AWS the stream's function only enqueues; a queue subscriber delivers.
 * The queue is FIFO with one message group per endpoint and lane, so SQS
 * itself keeps a code's events in order: it hands out no later message of a
 * group while an earlier one waits for its retry. The deduplication id makes
 * a re-read stream batch a no-op within SQS's five-minute window.
 */
export function sqsDeliverySink(sqs: LazySqsClient, queueUrl: string): DeliverySink {
  return {
    async enqueue(jobs) {
      const { SendMessageBatchCommand } = await import('@aws-sdk/client-sqs');
      for (let i = 0; i < jobs.length; i += BATCH) {
        const entries = jobs.slice(i, i + BATCH).map((job, n) => ({
          Id: String(n),
          MessageBody: JSON.stringify(job),
          MessageGroupId: messageGroupOf(job),
          MessageDeduplicationId: createHash('sha256').update(`${job.webhookId}\u0000${job.messageId}\u0000${job.resends ?? 0}`).digest('hex'),
        }));
        const out = await (await sqs()).send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries }));
        // The stream function fails its batch and is retried by its event source: nothing is lost.
        if (out.Failed?.length) throw new Error(`SQS refused ${out.Failed.length} webhook deliveries: ${out.Failed[0]!.Code}`);
      }
    },
  };
}

/** At most 128 characters: the endpoint id and a hash of the lane. */
export const messageGroupOf = (job: DeliveryJob) =>
  `${job.webhookId}:${createHash('sha256').update(job.lane).digest('base64url').slice(0, 32)}`;

/**
 * One received delivery message (the queue subscriber's work). Answers
 * whether to retry, and after how many seconds: the subscriber hides the
 * message that long (`ChangeMessageVisibility`), so SQS's receive count is
 * the attempt number and the schedule needs no timer of ours.
 */
export async function processDeliveryMessage(
  ctx: CoreContext,
  directory: EndpointDirectory,
  job: DeliveryJob,
  receiveCount: number,
): Promise<{ retryAfterSeconds?: number }> {
  // SQS's receive count is not the attempt number: a message received behind a failing one of
  // its group is handed back untried, and counted all the same. A message seen before reads
  // its attempts from its record; a first receive (nearly all) costs no read.
  let attempts = 1;
  if (receiveCount > 1) {
    const key = { tenant: job.tenant, webhookId: job.webhookId, shard: deliveryShard(job.messageId, ctx.config.WEBHOOK_DELIVERY_SHARDS), messageId: job.messageId };
    const { data } = await ctx.store.webhookDelivery.get(key).go({ consistent: true });
    if (data && data.status !== 'pending' && (data.resends ?? 0) === (job.resends ?? 0)) return {}; // settled already (a duplicate)
    attempts = (data && (data.resends ?? 0) === (job.resends ?? 0) ? data.attempts : 0) + 1;
  }
  const { state, superseded } = await attemptAndRecord(ctx, directory, job, attempts);
  if (state.status !== 'pending' || superseded) return {};
  return { retryAfterSeconds: Math.ceil((state.nextAttemptAt! - ctx.now()) / 1000) };
}
