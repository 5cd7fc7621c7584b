/**
 * The logger the core writes through. The processes' edge (packages/api/src/telemetry) implements
 * it with Powertools Logger; the core never imports a logging library. Every line a use case logs
 * during a request, a stream batch, a job or a delivery also carries that unit of work's fields
 * (request id, tenant, book, job id...), which the edge scopes around the work (`scope`).
 */
export type LogFields = Record<string, unknown>;

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface Log {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  /** `fields.error` may be an Error: it is logged as its name, message and stack. */
  error(message: string, fields?: LogFields): void;
  /** A logger whose every line also carries `fields`. */
  child(fields: LogFields): Log;
  /** Runs `work` with `fields` on every line logged inside it, through any logger of this family. */
  scope<T>(fields: LogFields, work: () => T): T;
}

/** Logs nothing (scripts, or a context built by hand). */
export const silentLog: Log = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child: () => silentLog,
  scope: (_fields, work) => work(),
};

// What must never reach a log line, whatever a field or an error message holds: API keys, webhook
// signing secrets, JWTs and bearer credentials. Field names that carry them are dropped whole.
const SECRET_PATTERNS = [
  /cbk_[A-Za-z0-9_-]{8,}/g,
  /whsec_[A-Za-z0-9+/=_-]{8,}/g,
  /eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/g,
  /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}/gi,
];
const SECRET_KEYS = /^(authorization|cookie|set-cookie|token|secret|secrets|password|key|apikey|api_key|body|rawbody)$/i;

export const REDACTED = '[redacted]';

/** A string with every credential-shaped piece replaced. */
export function redactText(text: string): string {
  let out = text;
  for (const p of SECRET_PATTERNS) out = out.replace(p, REDACTED);
  return out;
}

/**
 * A copy of `value` safe to log: credential-shaped text replaced, fields named like a secret or a
 * body dropped, errors reduced to name, message and stack (and their cause), depth bounded.
 */
export function redact(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return redactText(value);
  if (value === null || typeof value !== 'object') return value;
  if (depth > 5) return '[deep]';
  if (value instanceof Error) {
    const e = value as Error & { code?: unknown };
    return {
      name: e.name,
      message: redactText(e.message),
      ...(typeof e.code === 'string' ? { code: e.code } : {}),
      ...(e.stack ? { stack: redactText(e.stack) } : {}),
      ...(e.cause !== undefined ? { cause: redact(e.cause, depth + 1) } : {}),
    };
  }
  if (Array.isArray(value)) return value.slice(0, 50).map((v) => redact(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (SECRET_KEYS.test(k)) continue;
    out[k] = redact(v, depth + 1);
  }
  return out;
}
