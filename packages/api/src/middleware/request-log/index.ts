import type { Context, MiddlewareHandler } from 'hono';
import { matchedRoutes } from 'hono/route';
import { isDatabaseUnavailable, type CoreContext, type ErrorCode, type MetricName } from '@coupons/core';
import type { AppEnv } from '../../env.ts';

/** Refusals the dashboard counts, by the error code that answers them. */
const COUNTED_REFUSALS: Partial<Record<ErrorCode, MetricName>> = {
  BOOK_EXHAUSTED: 'SoldOut',
  CODE_LOCKED: 'LockConflicts',
  RATE_LIMITED: 'RateLimited',
};

/** Path parameters worth a log field (never a dimension: a code or a book is unbounded). */
const LOGGED_PARAMS = new Set(['code', 'bookId', 'jobId', 'webhookId', 'keyId', 'redemptionId', 'userId']);

/** A path segment as the route saw it; a malformed escape (`%`) as it came. */
function decoded(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** The route the request matched, as its template ("POST /coupons/redeem/{code}"), and its logged parameters. */
function routeOf(c: Context): { route: string; params: Record<string, string> } {
  const route = matchedRoutes(c).findLast((r) => r.method !== 'ALL');
  if (!route) return { route: 'unmatched', params: {} };
  const params: Record<string, string> = {};
  const actual = c.req.path.split('/');
  route.path.split('/').forEach((segment, i) => {
    const name = segment.startsWith(':') ? segment.slice(1) : undefined;
    if (name && LOGGED_PARAMS.has(name) && actual[i] !== undefined) params[name] = decoded(actual[i]!).slice(0, 200);
  });
  return { route: `${route.method} ${route.path.replace(/:(\w+)/g, '{$1}')}`, params };
}

/** A claim names its book in the body: the validated field, never the body itself. */
function bookOf(c: Context): string | undefined {
  try {
    const body = (c.req as unknown as { valid(t: 'json'): unknown }).valid('json') as { bookId?: unknown } | undefined;
    return typeof body?.bookId === 'string' ? body.bookId : undefined;
  } catch {
    return undefined;
  }
}

/**
 * One structured line per request, with the request id the client also sees
 * in `X-Request-Id` (so a 500's id finds its cause here), and the request's
 * metrics: latency by route, refusals the dashboard counts, replays. Every
 * line the core logs while the request runs carries the request id too (and
 * the tenant, once known: app.ts), through the log's scope.
 */
export function requestLog(core: CoreContext): MiddlewareHandler<AppEnv> {
  return (c, next) =>
    core.log.scope({ requestId: c.get('requestId') }, async () => {
      const started = performance.now();
      await next();
      try {
        observe(core, c, Math.round((performance.now() - started) * 10) / 10);
      } catch (e) {
        // The answer is made: what it is observed with must never turn it into a 500.
        core.log.error('request log failed', { error: e });
      }
    });
}

function observe(core: CoreContext, c: Context<AppEnv>, ms: number) {
  const { route, params } = routeOf(c);
  const actor = c.get('actor');
  const tenant = actor?.tenant;
  const errorCode = c.get('errorCode') as ErrorCode | undefined;
  const cause = c.get('errorCause');
  const status = c.res.status;

  core.metrics.add('Latency', ms, { route });
  const refusal = errorCode && COUNTED_REFUSALS[errorCode];
  if (refusal) core.metrics.add(refusal, 1, { tenant });
  if (errorCode === 'UNAVAILABLE' && isDatabaseUnavailable(cause)) core.metrics.add('Throttled', 1, { tenant });
  if (status >= 500) core.metrics.add('ServerErrors');
  if (c.res.headers.get('idempotent-replayed') === 'true') core.metrics.add('IdempotentReplays', 1, { tenant });

  const bookId = params.bookId ?? bookOf(c);
  core.log[status >= 500 ? 'error' : 'info']('request', {
    method: c.req.method,
    path: c.req.path,
    route,
    status,
    ms,
    ...(actor ? { tenant, sub: actor.sub, role: actor.role } : {}),
    ...params,
    ...(bookId ? { bookId } : {}),
    ...(errorCode ? { errorCode } : {}),
    ...(cause ? { error: cause } : {}),
  });
}
