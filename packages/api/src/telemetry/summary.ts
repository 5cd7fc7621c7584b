import { METRICS, WEBHOOK_OUTCOMES, percentile, type CoreContext, type MetricName, type MetricSeries } from '@coupons/core';
import { telemetryOf } from './telemetry.ts';

const COUNTS: MetricName[] = ['Claims', 'SoldOut', 'LostRaces', 'LockConflicts', 'Redemptions', 'Rollbacks', 'IdempotentReplays', 'RateLimited', 'Throttled', 'ServerErrors'];
/** Routes whose p99 the line shows: the busiest few. */
const ROUTES_SHOWN = 3;

const round = (x: number) => (x >= 100 ? Math.round(x) : Math.round(x * 10) / 10);

/**
 * One line of what the dashboard shows (infra/dashboard.ts), over the last
 * `seconds`: every count summed over tenants, claims per second, p99 of the
 * busiest routes, the stream's worst lag and webhook outcomes.
 */
export function summaryLine(series: MetricSeries[], seconds: number): string {
  const of = (name: MetricName) => series.filter((s) => s.name === name);
  const sum = (name: MetricName) => of(name).reduce((n, s) => n + s.sum, 0);
  const parts = COUNTS.map((name) => `${METRICS[name].label} ${sum(name)}`);
  parts[0] += ` (${round(sum('Claims') / seconds)}/s)`;
  const routes = of('Latency').sort((a, b) => b.count - a.count).slice(0, ROUTES_SHOWN);
  if (routes.length) parts.push(`p99 ${routes.map((s) => `${s.dimensions.route} ${round(percentile(s.values, 99)!)} ms`).join(', ')}`);
  const lag = of('StreamLag');
  if (lag.length) parts.push(`stream lag max ${round(Math.max(...lag.map((s) => s.max)))} ms (${sum('StreamRecords')} records)`);
  const hooks = of('WebhookDeliveries');
  if (hooks.length) {
    const by = (o: string) => hooks.filter((s) => s.dimensions.outcome === o).reduce((n, s) => n + s.sum, 0);
    parts.push(`webhooks ${WEBHOOK_OUTCOMES.map((o) => `${o} ${by(o)}`).join(' ')}`);
  }
  return `metrics, last ${seconds} s: ${parts.join(' · ')}`;
}

/** `npm start` with METRICS_SUMMARY_SECONDS: prints the line every `seconds`, from its own window of the metrics. */
export function startMetricsSummary(core: CoreContext, seconds: number, print: (line: string) => void = (l) => console.log(l)): { stop(): void } {
  const window = telemetryOf(core).metrics.window();
  const timer = setInterval(() => print(summaryLine(window.drain(), seconds)), seconds * 1000);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
