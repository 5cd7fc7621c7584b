import { AsyncLocalStorage } from 'node:async_hooks';
import { Logger } from '@aws-lambda-powertools/logger';
import { redact, type Log, type LogFields, type LogLevel } from '@coupons/core';

/** The fields of the unit of work in progress (a request, a stream batch, a job, a delivery). */
const scoped = new AsyncLocalStorage<LogFields>();

type Level = Exclude<LogLevel, 'silent'>;
const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 99 };

/** Where a line goes: Powertools Logger (every process), or a test's array. */
export type LogWriter = (level: Level, message: string, fields: LogFields) => void;

/** Powertools Logger: JSON lines on stdout with `level`, `message`, `timestamp`, `service` (and the X-Ray trace id on Lambda). */
export function powertoolsWriter(level: LogLevel, serviceName: string, persistentKeys: LogFields): LogWriter {
  const logger = new Logger({ serviceName, logLevel: level.toUpperCase() as 'INFO', persistentKeys: persistentKeys as never });
  return (lvl, message, fields) => logger[lvl](message, fields as never);
}

/** Keeps lines as objects (tests read them). */
export function memoryWriter(lines: { push(line: Record<string, unknown>): unknown }): LogWriter {
  return (level, message, fields) => lines.push({ level, message, timestamp: new Date().toISOString(), ...fields });
}

/**
 * The core's Log over a writer: below-level lines cost one comparison; every
 * line carries the scoped unit of work's fields, then the logger's own, then
 * its call's; and everything is redacted (core/telemetry/log.ts) before it
 * reaches the writer, so no token, API key or webhook secret is written
 * whatever a caller passes.
 */
export function createLog(level: LogLevel, write: LogWriter, bound: LogFields = {}): Log {
  const threshold = RANK[level];
  const emit = (lvl: Level, message: string, fields?: LogFields) => {
    if (RANK[lvl] < threshold) return;
    write(lvl, message, redact({ ...scoped.getStore(), ...bound, ...fields }) as LogFields);
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: (fields) => createLog(level, write, { ...bound, ...fields }),
    scope: (fields, work) => scoped.run({ ...scoped.getStore(), ...fields }, work),
  };
}

/** Adds fields to the unit of work in progress (the tenant, once the caller is known). */
export function annotateScope(fields: LogFields): void {
  const store = scoped.getStore();
  if (store) Object.assign(store, fields);
}
