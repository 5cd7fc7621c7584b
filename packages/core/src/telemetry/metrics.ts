import { randomInt } from 'node:crypto';
import { METRICS, METRIC_NAMESPACE, STAGE_DIMENSION, type MetricDimension, type MetricName } from './metric-registry.ts';

export type MetricDimensions = Partial<Record<MetricDimension, string>>;

/**
 * Where code records a business metric: one call, a name from the registry
 * (metric-registry.ts). Dimensions the registry does not declare for that
 * metric are dropped, so a user id or a code can never become a dimension.
 */
export interface Metrics {
  add(name: MetricName, value?: number, dimensions?: MetricDimensions): void;
}

/** Records nothing: a context that nobody reads metrics from (scripts). */
export const noMetrics: Metrics = { add() {} };

/** One metric's figures over a window, for one set of dimension values. */
export interface MetricSeries {
  name: MetricName;
  dimensions: MetricDimensions;
  /** Observations (a count's additions, a timing's samples). */
  count: number;
  sum: number;
  max: number;
  /** A timing's samples (all of them up to SAMPLES_KEPT, then a uniform sample); empty for counts. */
  values: number[];
}

/** Samples a window keeps per series; past it, a reservoir keeps a uniform sample for percentiles. */
const SAMPLES_KEPT = 10_000;

/** A reader's own accumulation: what happened since it last drained. */
export class MetricsWindow {
  private series = new Map<string, MetricSeries>();

  record(name: MetricName, value: number, dimensions: MetricDimensions, key: string): void {
    let s = this.series.get(key);
    if (!s) {
      s = { name, dimensions, count: 0, sum: 0, max: -Infinity, values: [] };
      this.series.set(key, s);
    }
    s.count++;
    s.sum += value;
    if (value > s.max) s.max = value;
    if (METRICS[name].unit === 'Count') return;
    if (s.values.length < SAMPLES_KEPT) s.values.push(value);
    else {
      // Reservoir sampling: each value so far has SAMPLES_KEPT / count odds of being kept.
      const i = randomInt(s.count);
      if (i < SAMPLES_KEPT) s.values[i] = value;
    }
  }

  /** Everything since the last drain, and a fresh start. */
  drain(): MetricSeries[] {
    const out = [...this.series.values()];
    this.series = new Map();
    return out;
  }
}

/**
 * The process's metrics: each `add` goes to every window (the EMF flusher's,
 * the local summary's), so each reader drains on its own schedule.
 */
export class MetricsRecorder implements Metrics {
  private readonly windows: MetricsWindow[] = [];

  window(): MetricsWindow {
    const w = new MetricsWindow();
    this.windows.push(w);
    return w;
  }

  add(name: MetricName, value = 1, dimensions: MetricDimensions = {}): void {
    const definition = METRICS[name];
    if (!definition || !Number.isFinite(value)) return;
    const kept: MetricDimensions = {};
    for (const d of definition.dimensions) {
      const v = dimensions[d];
      if (typeof v === 'string' && v !== '') kept[d] = v.slice(0, 250);
    }
    const key = `${name}\u0000${definition.dimensions.map((d) => kept[d] ?? '').join('\u0000')}`;
    for (const w of this.windows) w.record(name, value, kept, key);
  }
}

/** EMF allows at most 100 values per metric in one line. */
const MAX_VALUES_PER_LINE = 100;

/**
 * The series as CloudWatch embedded-metric-format lines (JSON, one per line,
 * no API call: CloudWatch Logs extracts the metrics). Series with the same
 * dimension values share a line; each line declares its dimension set and the
 * stage alone, so the dashboard reads a metric both per tenant (or route,
 * outcome) and in total. A count is its sum; a timing is its samples, so
 * CloudWatch computes the percentiles.
 */
export function emfLines(series: MetricSeries[], stage: string, timestamp: number): string[] {
  const groups = new Map<string, MetricSeries[]>();
  for (const s of series) {
    const key = JSON.stringify(Object.entries(s.dimensions).sort());
    groups.set(key, [...(groups.get(key) ?? []), s]);
  }
  const lines: string[] = [];
  for (const group of groups.values()) {
    const dims = group[0]!.dimensions;
    const keys = Object.keys(dims).sort();
    const dimensionSets = keys.length ? [[STAGE_DIMENSION], [STAGE_DIMENSION, ...keys]] : [[STAGE_DIMENSION]];
    const valuesOf = (s: MetricSeries) => (METRICS[s.name].unit === 'Count' ? [s.sum] : s.values);
    const chunks = Math.max(1, ...group.map((s) => Math.ceil(valuesOf(s).length / MAX_VALUES_PER_LINE)));
    for (let c = 0; c < chunks; c++) {
      const inLine = group
        .map((s) => ({ s, values: valuesOf(s).slice(c * MAX_VALUES_PER_LINE, (c + 1) * MAX_VALUES_PER_LINE) }))
        .filter((x) => x.values.length);
      if (!inLine.length) continue;
      const line: Record<string, unknown> = {
        _aws: {
          Timestamp: timestamp,
          CloudWatchMetrics: [
            {
              Namespace: METRIC_NAMESPACE,
              Dimensions: dimensionSets,
              Metrics: inLine.map(({ s }) => ({ Name: s.name, Unit: METRICS[s.name].unit })),
            },
          ],
        },
        [STAGE_DIMENSION]: stage,
        ...dims,
      };
      for (const { s, values } of inLine) line[s.name] = values.length === 1 ? values[0] : values;
      lines.push(JSON.stringify(line));
    }
  }
  return lines;
}

/** The p-th percentile (0–100) of samples, nearest rank; undefined when there are none. */
export function percentile(values: readonly number[], p: number): number | undefined {
  if (!values.length) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}
