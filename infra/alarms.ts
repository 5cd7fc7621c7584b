import { METRICS, METRIC_NAMESPACE, STAGE_DIMENSION, type MetricName } from '@coupons/core/metrics';
import { api, apiRoute } from './api';
import { globalIndexes, table } from './table';
import { jobDeadLetters } from './jobs';

// One-minute periods: a flash sale goes wrong within minutes. Alarms need the condition on
// most of a short window, so one bad minute pages no one but a sustained problem does.
const PERIOD = 60;
const prefix = `${$app.name}-${$app.stage}`;

const alarmEmail = process.env.ALARM_EMAIL?.trim();

// Without ALARM_EMAIL the alarms still exist and show in the console; they just notify no one.
export const alarmTopic = alarmEmail ? new aws.sns.Topic('Alarms') : undefined;
if (alarmTopic && alarmEmail) {
  // Email subscriptions stay pending until the recipient confirms the message AWS sends.
  new aws.sns.TopicSubscription('AlarmsEmail', {
    topic: alarmTopic.arn,
    protocol: 'email',
    endpoint: alarmEmail,
  });
}
const actions = alarmTopic ? [alarmTopic.arn] : [];

function alarm(
  id: string,
  suffix: string,
  args: Omit<aws.cloudwatch.MetricAlarmArgs, 'name' | 'alarmActions' | 'okActions'>,
) {
  return new aws.cloudwatch.MetricAlarm(id, {
    name: `${prefix}-${suffix}`,
    // No traffic is not an outage: quiet stages must not sit in ALARM.
    treatMissingData: 'notBreaching',
    alarmActions: actions,
    okActions: actions,
    ...args,
  });
}

const apiId = api.nodes.api.id;
const functionName = apiRoute.nodes.function.apply((fn) => fn.name);

export const api5xx = alarm('Api5xxAlarm', 'api-5xx', {
  alarmDescription:
    'HTTP API answers 5xx: Lambda failures, timeouts, or 503s from DynamoDB throttling.',
  namespace: 'AWS/ApiGateway',
  metricName: '5xx',
  dimensions: { ApiId: apiId },
  statistic: 'Sum',
  period: PERIOD,
  evaluationPeriods: 5,
  datapointsToAlarm: 3,
  threshold: 10,
  comparisonOperator: 'GreaterThanOrEqualToThreshold',
});

export const apiLatencyP99 = alarm('ApiLatencyP99Alarm', 'api-latency-p99', {
  alarmDescription:
    'p99 end-to-end latency above 1 s: hot partitions, transaction retries or cold starts.',
  namespace: 'AWS/ApiGateway',
  metricName: 'Latency',
  dimensions: { ApiId: apiId },
  extendedStatistic: 'p99',
  period: PERIOD,
  evaluationPeriods: 5,
  datapointsToAlarm: 3,
  threshold: 1000,
  comparisonOperator: 'GreaterThanOrEqualToThreshold',
});

// The app turns its own errors into responses, so Lambda Errors counts what it cannot
// catch: crashes at init, timeouts, out-of-memory.
export const lambdaErrors = alarm('LambdaErrorsAlarm', 'lambda-errors', {
  alarmDescription: 'API function invocations failing (init crash, timeout, out of memory).',
  namespace: 'AWS/Lambda',
  metricName: 'Errors',
  dimensions: { FunctionName: functionName },
  statistic: 'Sum',
  period: PERIOD,
  evaluationPeriods: 5,
  datapointsToAlarm: 3,
  threshold: 5,
  comparisonOperator: 'GreaterThanOrEqualToThreshold',
});

// A throttled invocation is a request refused outright: the concurrency quota (or the
// reserved concurrency) is too low for the traffic.
export const lambdaThrottles = alarm('LambdaThrottlesAlarm', 'lambda-throttles', {
  alarmDescription: 'API function throttled: raise reserved concurrency or the account quota.',
  namespace: 'AWS/Lambda',
  metricName: 'Throttles',
  dimensions: { FunctionName: functionName },
  statistic: 'Sum',
  period: PERIOD,
  evaluationPeriods: 3,
  datapointsToAlarm: 2,
  threshold: 1,
  comparisonOperator: 'GreaterThanOrEqualToThreshold',
});

// ThrottledRequests is published per (TableName, Operation) only, so the alarm sums the
// operations the service issues.
const DYNAMO_OPERATIONS = [
  'GetItem',
  'BatchGetItem',
  'Query',
  'PutItem',
  'UpdateItem',
  'DeleteItem',
  'BatchWriteItem',
  'TransactGetItems',
  'TransactWriteItems',
];

export const dynamoThrottledRequests = alarm('DynamoThrottledRequestsAlarm', 'dynamo-throttled-requests', {
  alarmDescription:
    'DynamoDB requests throttled on the table (any operation): hot partition or capacity ceiling.',
  metricQueries: [
    ...DYNAMO_OPERATIONS.map((operation, i) => ({
      id: `m${i}`,
      returnData: false,
      metric: {
        namespace: 'AWS/DynamoDB',
        metricName: 'ThrottledRequests',
        dimensions: { TableName: table.name, Operation: operation },
        stat: 'Sum',
        period: PERIOD,
      },
    })),
    {
      id: 'throttled',
      label: 'ThrottledRequests, all operations',
      expression: 'SUM(FILL(METRICS(), 0))',
      returnData: true,
    },
  ],
  evaluationPeriods: 3,
  datapointsToAlarm: 2,
  threshold: 1,
  comparisonOperator: 'GreaterThanOrEqualToThreshold',
});

/** Any throttle event in 2 of 3 minutes: on-demand tables throttle only past their scaling, so one is news. */
const throttleEvents = (metricName: 'WriteThrottleEvents' | 'ReadThrottleEvents', dimensions: Record<string, $util.Input<string>>) => ({
  namespace: 'AWS/DynamoDB',
  metricName,
  dimensions,
  statistic: 'Sum' as const,
  period: PERIOD,
  evaluationPeriods: 3,
  datapointsToAlarm: 2,
  threshold: 1,
  comparisonOperator: 'GreaterThanOrEqualToThreshold',
});

export const dynamoWriteThrottles = alarm('DynamoWriteThrottlesAlarm', 'dynamo-write-throttles', {
  alarmDescription: 'Write throttle events on the table.',
  ...throttleEvents('WriteThrottleEvents', { TableName: table.name }),
});

export const dynamoReadThrottles = alarm('DynamoReadThrottlesAlarm', 'dynamo-read-throttles', {
  alarmDescription: 'Read throttle events on the table.',
  ...throttleEvents('ReadThrottleEvents', { TableName: table.name }),
});

// Every assignment rewrites both indexes (leaves the pool, joins byOwner). A throttled index
// throttles the writes to the table behind it, so each gets its own alarm that names it.
export const indexWriteThrottles = Object.fromEntries(
  Object.keys(globalIndexes).map((index) => [
    index,
    alarm(
      `DynamoIndex${index[0]!.toUpperCase()}${index.slice(1)}WriteThrottlesAlarm`,
      `dynamo-index-${index.toLowerCase()}-write-throttles`,
      {
        alarmDescription: `Write throttle events on the ${index} index; they throttle the table's writes too.`,
        ...throttleEvents('WriteThrottleEvents', { TableName: table.name, GlobalSecondaryIndexName: index }),
      },
    ),
  ]),
);

// A generation job's message that failed five receives is parked in the dead-letter queue; its
// job makes no progress until someone re-drives the message (the job resumes where it stopped).
export const jobDeadLetterAlarm = alarm('JobDeadLettersAlarm', 'job-dead-letters', {
  alarmDescription:
    'Generation job messages in the dead-letter queue: a job is stuck until its message is re-driven.',
  namespace: 'AWS/SQS',
  metricName: 'ApproximateNumberOfMessagesVisible',
  dimensions: { QueueName: jobDeadLetters.nodes.queue.name },
  statistic: 'Maximum',
  period: PERIOD,
  evaluationPeriods: 1,
  datapointsToAlarm: 1,
  threshold: 1,
  comparisonOperator: 'GreaterThanOrEqualToThreshold',
});

// ---------------------------------------------------------------------------------------------
// On the app's own metrics (EMF, namespace CouponBooks; names from the registry the code records
// them by). Each pages for something AWS's metrics cannot see; docs/operations.md#runbook says
// what to do about each.

/** One of the app's metrics for this stage, in total (the stage-only dimension set every EMF line declares). */
const appMetric = (name: MetricName) => ({
  namespace: METRIC_NAMESPACE,
  metricName: name,
  dimensions: { [STAGE_DIMENSION]: $app.stage },
  ...(METRICS[name].stat === 'p99' ? { extendedStatistic: 'p99' } : { statistic: METRICS[name].stat }),
  period: PERIOD,
});

// The stream's consumers (history, webhooks) are a minute behind the writes: webhook receivers and
// the history lag the sale. Earlier than the iterator-age alarm (5 minutes, infra/webhooks.ts), and
// it also sees a consumer that is slow rather than stuck.
export const streamLagAlarm = alarm('StreamLagAlarm', 'stream-lag', {
  alarmDescription: 'Change-stream batches are handled more than a minute after their oldest write: history and webhook events are late.',
  ...appMetric('StreamLag'),
  evaluationPeriods: 5,
  datapointsToAlarm: 3,
  threshold: 60_000,
  comparisonOperator: 'GreaterThanOrEqualToThreshold',
});

// A delivery whose retry schedule is used up (27.6 hours by default) is dead: the receiver never
// got the event. One is news for the tenant whose endpoint it was.
export const webhookDeliveriesFailedAlarm = alarm('WebhookDeliveriesFailedAlarm', 'webhook-deliveries-failed', {
  alarmDescription: 'Webhook deliveries failed for good (retry schedule used up): a receiver missed events; resend them once it is fixed.',
  ...appMetric('WebhookDeliveries'),
  dimensions: { [STAGE_DIMENSION]: $app.stage, outcome: 'failed' },
  evaluationPeriods: 1,
  datapointsToAlarm: 1,
  threshold: 1,
  comparisonOperator: 'GreaterThanOrEqualToThreshold',
});

// Claims answered 503 because DynamoDB throttled: buyers are turned away though codes are left.
export const throttledAlarm = alarm('ThrottledAnswersAlarm', 'throttled-answers', {
  alarmDescription: 'Requests answered 503 because DynamoDB throttled or timed out: a hot partition, or the table past its warm throughput.',
  ...appMetric('Throttled'),
  evaluationPeriods: 3,
  datapointsToAlarm: 2,
  threshold: 10,
  comparisonOperator: 'GreaterThanOrEqualToThreshold',
});

// The share of requests answered 5xx, so a big sale with a few errors pages no one and a quiet
// stage failing half its requests does (api-5xx counts; this is the rate).
export const api5xxRate = alarm('Api5xxRateAlarm', 'api-5xx-rate', {
  alarmDescription: 'More than 1% of API requests answered 5xx.',
  metricQueries: [
    { id: 'errors', returnData: false, metric: { namespace: 'AWS/ApiGateway', metricName: '5xx', dimensions: { ApiId: apiId }, stat: 'Sum', period: PERIOD } },
    { id: 'requests', returnData: false, metric: { namespace: 'AWS/ApiGateway', metricName: 'Count', dimensions: { ApiId: apiId }, stat: 'Sum', period: PERIOD } },
    // Under 100 requests a minute, a few errors are not a rate worth waking anyone for.
    { id: 'rate', label: '5xx, % of requests', expression: 'IF(requests >= 100, 100 * errors / requests, 0)', returnData: true },
  ],
  evaluationPeriods: 5,
  datapointsToAlarm: 3,
  threshold: 1,
  comparisonOperator: 'GreaterThanOrEqualToThreshold',
});
