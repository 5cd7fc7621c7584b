import { table } from './table';
import { alarmTopic } from './alarms';
import { afterPrepare } from './migrations';
import { traced, tracingEnvironment } from './tracing';

// Webhooks on AWS. The table's stream feeds one function (packages/api/src/change-stream.ts, the
// same consumers the local follower runs); its webhook consumer only enqueues, one message per
// event and endpoint, on a FIFO queue grouped by endpoint and code, so SQS itself keeps a code's
// events in order. The queue's subscriber makes the HTTP attempts; a failed attempt hides its
// message for the retry schedule's next delay (at most 12 hours, SQS's ceiling), and after the
// last one the message is recorded as failed and deleted. See docs/webhooks.md.

/** One attempt waits up to WEBHOOK_TIMEOUT_MS (5 s); a batch of 10 in one group runs in turn. */
export const DELIVERY_WORKER_TIMEOUT_SECONDS = 120;

// Messages whose processing itself keeps failing (not a receiver's 500, which is recorded): parked
// and alarmed on. SQS counts a message handed back behind a failing one of its group as a receive
// too, hence a generous count; the default schedule makes 9 attempts.
export const WEBHOOK_MAX_RECEIVES = 100;

export const webhookDeadLetters = new sst.aws.Queue('WebhookDeliveriesDlq', { fifo: true });

export const webhookQueue = new sst.aws.Queue('WebhookDeliveries', {
  fifo: true,
  visibilityTimeout: `${DELIVERY_WORKER_TIMEOUT_SECONDS + 60} seconds`,
  dlq: { queue: webhookDeadLetters.arn, retry: WEBHOOK_MAX_RECEIVES },
});

// The table and the queue reach both functions as links (runtime.ts reads them with SST's `Resource`).
const environment = { NODE_ENV: 'production', ...tracingEnvironment };
// Only imported for a deployed table (sst.config.ts): under `sst dev` the table is a Linkable.
const dynamo = table as sst.aws.Dynamo;

const lambda = { runtime: 'nodejs24.x', architecture: 'arm64', memory: '512 MB' } as const;

export const webhookWorker = webhookQueue.subscribe(
  {
    handler: 'packages/api/src/webhook-worker.handler',
    ...lambda,
    timeout: `${DELIVERY_WORKER_TIMEOUT_SECONDS} seconds`,
    // The table for endpoints and the delivery log; the queue to hide a message until its retry.
    link: [table, webhookQueue],
    environment,
    ...traced(afterPrepare),
  },
  // Up to 10 messages per invocation; a failed one (and the rest of its group) is all that comes back.
  { batch: { size: 10, partialResponses: true } },
);

export const changeStream = dynamo.subscribe(
  'ChangeStream',
  {
    handler: 'packages/api/src/change-stream.handler',
    ...lambda,
    timeout: '60 seconds',
    link: [table, webhookQueue],
    environment,
    ...traced(afterPrepare),
  },
  {
    transform: {
      eventSourceMapping: (args) => {
        // From the oldest record kept, so a new mapping misses nothing; 24 h retention covers an outage.
        args.startingPosition = 'TRIM_HORIZON';
        args.batchSize = 500;
        args.maximumBatchingWindowInSeconds = 1;
        // Items with one partition key stay in one ordered batch stream; different keys run side by side.
        args.parallelizationFactor = 10;
        // The handler reports a failed batch from its first record: retried, never skipped.
        args.functionResponseTypes = ['ReportBatchItemFailures'];
        args.maximumRetryAttempts = -1;
        args.maximumRecordAgeInSeconds = -1;
      },
    },
  },
);

const prefix = `${$app.name}-${$app.stage}`;
const actions = alarmTopic ? [alarmTopic.arn] : [];

export const webhookDeadLetterAlarm = new aws.cloudwatch.MetricAlarm('WebhookDeadLettersAlarm', {
  name: `${prefix}-webhook-dead-letters`,
  alarmDescription: 'Webhook delivery messages in the dead-letter queue: the worker could not process them (not a receiver failure).',
  namespace: 'AWS/SQS',
  metricName: 'ApproximateNumberOfMessagesVisible',
  dimensions: { QueueName: webhookDeadLetters.nodes.queue.name },
  statistic: 'Maximum',
  period: 60,
  evaluationPeriods: 1,
  datapointsToAlarm: 1,
  threshold: 1,
  comparisonOperator: 'GreaterThanOrEqualToThreshold',
  treatMissingData: 'notBreaching',
  alarmActions: actions,
  okActions: actions,
});

// A batch that keeps failing blocks its shard (it is retried, never skipped): events stop flowing.
export const changeStreamAgeAlarm = new aws.cloudwatch.MetricAlarm('ChangeStreamIteratorAgeAlarm', {
  name: `${prefix}-change-stream-iterator-age`,
  alarmDescription: 'The change stream function is more than 5 minutes behind: history and webhook events are delayed.',
  namespace: 'AWS/Lambda',
  metricName: 'IteratorAge',
  dimensions: { FunctionName: changeStream.apply((s) => s.nodes.function).apply((fn) => fn.name) },
  statistic: 'Maximum',
  period: 60,
  evaluationPeriods: 5,
  datapointsToAlarm: 3,
  threshold: 300_000,
  comparisonOperator: 'GreaterThanOrEqualToThreshold',
  treatMissingData: 'notBreaching',
  alarmActions: actions,
  okActions: actions,
});
