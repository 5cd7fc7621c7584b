import { emfLines, MetricsRecorder, type Config, type CoreContext, type Log, type MetricsWindow } from '@coupons/core';
import { createLog, memoryWriter, powertoolsWriter } from './log.ts';

/** The service name on every log line. */
export const SERVICE_NAME = 'coupon-books';

/** A process's log and metrics, and where its EMF lines go. */
export interface Telemetry {
  log: Log;
  metrics: MetricsRecorder;
  /** What the EMF flush has not written yet. */
  emf: MetricsWindow;
  stage: string;
  writeEmf: (line: string) => void;
}

export interface TelemetryOptions {
  /** Keep log lines here instead of writing them (tests, benchmarks). */
  logLines?: { push(line: Record<string, unknown>): unknown };
  /** Where EMF lines go; stdout by default, raw (Lambda's console.log would prefix them and CloudWatch would not parse them). */
  writeEmf?: (line: string) => void;
}

const telemetryByContext = new WeakMap<CoreContext, Telemetry>();

export function createTelemetry(config: Config, options: TelemetryOptions = {}): Telemetry {
  const write = options.logLines ? memoryWriter(options.logLines) : powertoolsWriter(config.LOG_LEVEL, SERVICE_NAME, { stage: config.STAGE });
  const metrics = new MetricsRecorder();
  return {
    log: createLog(config.LOG_LEVEL, write),
    metrics,
    emf: metrics.window(),
    stage: config.STAGE,
    writeEmf: options.writeEmf ?? ((line) => process.stdout.write(`${line}\n`)),
  };
}

export function attachTelemetry(core: CoreContext, telemetry: Telemetry): void {
  telemetryByContext.set(core, telemetry);
}

export function telemetryOf(core: CoreContext): Telemetry {
  const t = telemetryByContext.get(core);
  if (!t) throw new Error('this context has no telemetry: build it with createCoreContext');
  return t;
}

/** Writes what was recorded since the last flush as EMF lines; answers them (tests). */
export function flushMetrics(core: CoreContext): string[] {
  const t = telemetryOf(core);
  const lines = emfLines(t.emf.drain(), t.stage, Date.now());
  for (const line of lines) t.writeEmf(line);
  return lines;
}

/**
 * A Lambda handler that flushes the metrics once per invocation, after its
 * work, however it ends: CloudWatch Logs turns the lines into metrics. Its
 * lines carry the invocation's `awsRequestId`.
 */
export function flushingMetrics<E, C, R>(core: () => CoreContext | undefined, handler: (event: E, context: C) => Promise<R>) {
  return async (event: E, context: C): Promise<R> => {
    try {
      // Lambda's own request id on every line of the invocation: it joins them to Lambda's REPORT line.
      const awsRequestId = (context as { awsRequestId?: unknown } | undefined)?.awsRequestId;
      const c = core();
      return await (c && typeof awsRequestId === 'string' ? c.log.scope({ awsRequestId }, () => handler(event, context)) : handler(event, context));
    } finally {
      const c = core(); // undefined only if the context could not be built (its error is thrown as is)
      if (c) flushMetrics(c);
    }
  };
}

/** Outside Lambda: flushes every `seconds`; `stop()` flushes what is left. */
export function startMetricsFlusher(core: CoreContext, seconds: number): { stop(): void } {
  const timer = setInterval(() => flushMetrics(core), seconds * 1000);
  timer.unref();
  return {
    stop() {
      clearInterval(timer);
      flushMetrics(core);
    },
  };
}
