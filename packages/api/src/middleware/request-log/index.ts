import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from '../../env.ts';

export type LogSink = (line: Record<string, unknown>) => void;

export const jsonLogSink: LogSink = (line) => process.stdout.write(JSON.stringify(line) + '\n');

/**
 * One structured line per request, with the request id the client also
 * sees in `X-Request-Id`, so a 500's id finds its cause here.
 */
export function requestLog(sink: LogSink): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const started = performance.now();
    await next();
    const actor = c.get('actor');
    const cause = c.get('errorCause') as Error | undefined;
    sink({
      level: c.res.status >= 500 ? 'error' : 'info',
      time: new Date().toISOString(),
      requestId: c.get('requestId'),
      method: c.req.method,
      path: c.req.path,
      status: c.res.status,
      ms: Math.round((performance.now() - started) * 10) / 10,
      ...(actor ? { tenant: actor.tenant, sub: actor.sub, role: actor.role } : {}),
      ...(c.get('errorCode') ? { errorCode: c.get('errorCode') } : {}),
      ...(cause ? { error: { name: cause.name, message: cause.message, stack: cause.stack } } : {}),
    });
  };
}
