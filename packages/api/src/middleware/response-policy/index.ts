import type { MiddlewareHandler } from 'hono';

/**
 * What an API answer may load and who may frame it: nothing, and no one. An API answer is JSON,
 * never a page, so a browser that is tricked into rendering one gets no script, style or frame.
 */
export const API_CSP = "default-src 'none'; frame-ancestors 'none'";

/**
 * How every answer may be cached, and its Content-Security-Policy, unless its route says
 * otherwise (the docs page and its files, /openapi.json). The default is `no-store`: most
 * answers are one caller's (a user's coupons, a tenant's books), and a shared cache between an
 * app and the API (a carrier's proxy, a CDN in front of API Gateway) must never keep one and
 * give it to someone else. Errors are no-store too: a 401 or 404 is about this request only.
 */
export function responsePolicy(): MiddlewareHandler {
  return async (c, next) => {
    await next();
    if (!c.res.headers.has('Cache-Control')) c.res.headers.set('Cache-Control', 'no-store');
    if (!c.res.headers.has('Content-Security-Policy')) c.res.headers.set('Content-Security-Policy', API_CSP);
  };
}
