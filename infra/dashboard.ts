import { METRICS, METRIC_NAMESPACE, STAGE_DIMENSION, WEBHOOK_OUTCOMES, type MetricName } from '@coupons/core/metrics';
import { api, apiRoute } from './api';
import { table } from './table';
import { changeStream, webhookDeadLetters, webhookWorker } from './webhooks';

// The flash-sale view of a stage, one CloudWatch dashboard: claims per second and what refused
// them, p99 by route, throttles from every layer, the change stream's lag, webhook failures.
// The business metrics are the app's EMF metrics, named from the registry the code records them
// by (packages/core/src/telemetry/metric-registry.ts), so a widget cannot name a metric nothing
// emits; test/infra checks it. docs/observability.md says how to read each widget.

const stage = $app.stage;
const region = 'us-east-1';
const PERIOD = 60;

/** One of the app's metrics, in total for the stage (the EMF lines' stage-only dimension set). */
const app = (name: MetricName, options: { label?: string; stat?: string; id?: string; visible?: boolean } = {}) => [
  METRIC_NAMESPACE,
  name,
  STAGE_DIMENSION,
  stage,
  { stat: options.stat ?? METRICS[name].stat, label: options.label ?? METRICS[name].label, ...(options.id ? { id: options.id } : {}), ...(options.visible === false ? { visible: false } : {}) },
];

/** The app's metric for each value of one of its dimensions (every tenant, route or outcome seen). */
const search = (name: MetricName, dimension: string, stat: string, id: string) => ({
  expression: `SEARCH('{${METRIC_NAMESPACE},${STAGE_DIMENSION},${dimension}} MetricName="${name}" ${STAGE_DIMENSION}="${stage}"', '${stat}', ${PERIOD})`,
  id,
  label: '',
});

const graph = (title: string, x: number, y: number, metrics: unknown[], extra: Record<string, unknown> = {}) => ({
  type: 'metric',
  x,
  y,
  width: 12,
  height: 6,
  properties: { title, region, period: PERIOD, view: 'timeSeries', stacked: false, metrics, ...extra },
});

const apiId = api.nodes.api.id;
const apiFunction = apiRoute.nodes.function.apply((fn) => fn.name);
const streamFunction = changeStream.apply((s) => s.nodes.function).apply((fn) => fn.name);
const webhookFunction = webhookWorker.nodes.function.apply((fn) => fn.name);

export const dashboard = new aws.cloudwatch.Dashboard('FlashSaleDashboard', {
  dashboardName: `${$app.name}-${stage}`,
  dashboardBody: $jsonStringify({
    widgets: [
      {
        type: 'text',
        x: 0,
        y: 0,
        width: 24,
        height: 2,
        properties: {
          markdown: `## ${$app.name} · ${stage}\nBusiness metrics are the app's own (namespace \`${METRIC_NAMESPACE}\`, one-minute sums unless said); alarms and their runbook: docs/operations.md. Per tenant: each widget's metric with the \`tenant\` dimension. Failures per webhook endpoint: the log query at the bottom.`,
        },
      },
      graph('Claims per second', 0, 2, [
        [{ expression: `claims / ${PERIOD}`, label: 'claims/s', id: 'rate' }],
        app('Claims', { id: 'claims', visible: false }),
        [{ expression: `redemptions / ${PERIOD}`, label: 'redemptions/s', id: 'rrate' }],
        app('Redemptions', { id: 'redemptions', visible: false }),
      ]),
      graph('Refused and retried claims (per minute)', 12, 2, [
        app('SoldOut'),
        app('LostRaces'),
        app('LockConflicts'),
        app('IdempotentReplays'),
        app('Rollbacks'),
      ]),
      graph('p99 latency by route (ms, in the app)', 0, 8, [search('Latency', 'route', 'p99', 'routes')]),
      graph('p99 latency at the edge (ms)', 12, 8, [
        ['AWS/ApiGateway', 'Latency', 'ApiId', apiId, { stat: 'p99', label: 'API Gateway p99' }],
        app('Latency', { label: 'app p99, every route' }),
      ]),
      graph('Throttles (per minute)', 0, 14, [
        app('Throttled', { label: '503 from DynamoDB throttling' }),
        app('RateLimited', { label: '429 from the per-caller and per-tenant limits' }),
        ['AWS/ApiGateway', '4xx', 'ApiId', apiId, { stat: 'Sum', label: 'API Gateway 4xx (its throttle answers 429)' }],
        ['AWS/Lambda', 'Throttles', 'FunctionName', apiFunction, { stat: 'Sum', label: 'API function throttled' }],
        ['AWS/DynamoDB', 'WriteThrottleEvents', 'TableName', (table as sst.aws.Dynamo).name, { stat: 'Sum', label: 'table write throttle events' }],
      ]),
      graph('Errors (per minute)', 12, 14, [
        ['AWS/ApiGateway', '5xx', 'ApiId', apiId, { stat: 'Sum', label: 'API Gateway 5xx' }],
        app('ServerErrors', { label: '5xx answered by the app' }),
        ['AWS/Lambda', 'Errors', 'FunctionName', apiFunction, { stat: 'Sum', label: 'API function errors' }],
      ]),
      graph('Change stream lag (ms)', 0, 20, [
        app('StreamLag', { label: 'oldest record of a batch, when handled (max)' }),
        ['AWS/Lambda', 'IteratorAge', 'FunctionName', streamFunction, { stat: 'Maximum', label: 'iterator age (max)' }],
      ]),
      graph('Webhook deliveries (per minute)', 12, 20, [
        ...WEBHOOK_OUTCOMES.map((outcome) => [METRIC_NAMESPACE, 'WebhookDeliveries' satisfies MetricName, STAGE_DIMENSION, stage, 'outcome', outcome, { stat: 'Sum', label: outcome }]),
        ['AWS/SQS', 'ApproximateNumberOfMessagesVisible', 'QueueName', webhookDeadLetters.nodes.queue.name, { stat: 'Maximum', label: 'dead letters' }],
      ]),
      graph('Claims by tenant (per minute)', 0, 26, [search('Claims', 'tenant', 'Sum', 'tenants')]),
      {
        type: 'log',
        x: 12,
        y: 26,
        width: 12,
        height: 6,
        properties: {
          title: 'Webhook failures by endpoint (last attempts that did not deliver)',
          region,
          view: 'table',
          query: webhookFunction.apply(
            (fn) =>
              `SOURCE '/aws/lambda/${fn}' | fields webhookId, tenant, outcome | filter message = "webhook attempt" and outcome != "delivered" | stats count(*) as attempts by tenant, webhookId, outcome | sort attempts desc | limit 20`,
          ),
        },
      },
    ],
  }),
});
