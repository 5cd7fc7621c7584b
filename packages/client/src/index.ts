/**
 * Typed client for the Coupon Book Service: Hono's `hc` over the API's own type, so every route,
 * its parameters, body and answers are inferred from the app (packages/api/src/app.ts), and a
 * route added there is in the client with no change here.
 *
 *   const coupons = createCouponClient('https://api.example.com', { token });   // or { apiKey: 'cbk_…' }
 *   const held = await unwrap(coupons.coupons.assign.$post({ json: { bookId, lock: true } }));
 *   await unwrap(coupons.coupons.redeem[':code'].$post({ param: { code: held.code }, json: { lockId: held.lockId } }));
 *
 * What it adds to `hc`: the bearer token or API key, retries with backoff that honour `Retry-After`
 * (ky), and an `Idempotency-Key` on every POST, made once per call so its retries are replays.
 * It runs in Node and in browsers (the console): nothing here imports a Node module.
 */
import { hc, parseResponse, type ClientResponse } from 'hono/client';
import ky, { HTTPError } from 'ky';
import type { AppType } from '@coupons/api';

export type { InferRequestType, InferResponseType } from 'hono/client';
/** The events a webhook can subscribe to, at run time (for a form's choices); the core's own list, which imports nothing. */
export { WEBHOOK_EVENT_TYPES } from '@coupons/core/webhook-event-types';

/** Any answer other than 2xx, in the documented `{ error: { code, message, details? } }` shape. */
export class CouponApiError extends Error {
  override readonly name = 'CouponApiError';
  constructor(
    readonly status: number,
    /** e.g. `BOOK_EXHAUSTED`, `CODE_LOCKED`; `HTTP_<status>` when the body was not the documented shape. */
    readonly code: string,
    message: string,
    readonly details: unknown,
    /** The server's `x-request-id`: quote it when reporting a problem. */
    readonly requestId: string | undefined,
    /** Seconds to wait, from `Retry-After` (429 and 503), when retries ran out. */
    readonly retryAfterSeconds: number | undefined,
  ) {
    super(`${status} ${code}: ${message}`);
  }

  /** Worth retrying later (rate limited, or the database briefly unavailable). */
  get retryable(): boolean {
    return this.status === 429 || this.status === 503;
  }
}

export interface RetryOptions {
  /** Retries after the first attempt; 0 turns retrying off. Default 3. */
  limit?: number;
  /** Longest wait between attempts, ms, whatever `Retry-After` says. Default 30 s. */
  maxDelayMs?: number;
  /** How long one attempt may wait for its answer, ms; a timed-out attempt is retried. Default: no limit. */
  timeoutMs?: number;
  /** Told before each retry why the last attempt failed (`503 UNAVAILABLE`, a network error), e.g. for progress output. */
  onRetry?: (why: string, retry: number) => void;
}

export interface CouponClientOptions {
  /** Bearer token, or a function returning a fresh one for each request (e.g. from a token cache). */
  token?: string | (() => string | Promise<string>);
  /** An API key (`cbk_…`, from `POST /api-keys`): a backend's or script's credential. Sent as the bearer; give `token` or `apiKey`, not both. */
  apiKey?: string;
  /** Replaces the global fetch (tests, proxies). Retries wrap it. */
  fetch?: typeof fetch;
  /** Extra headers on every request. */
  headers?: Record<string, string>;
  retry?: RetryOptions;
  /**
   * `false`: a POST carries only the `Idempotency-Key` its call passes. Default `true`: every POST
   * without one gets a fresh key, so retries replay (each keyed success also writes its record).
   */
  idempotencyKeys?: boolean;
}

/**
 * Answers worth another attempt: rate limited, the database busy, a gateway in the way. Never a
 * 4xx about the request itself, and never 500 (the same request would fail the same way).
 */
export const RETRY_STATUSES = [408, 429, 502, 503, 504];

/**
 * `fetch` with retries. Every POST gets an `Idempotency-Key` (the caller's, or a new one) before
 * the first attempt, so a retry after a lost answer replays the first outcome instead of doing
 * the work twice. Backoff is exponential with full jitter; a `Retry-After` is waited as given.
 */
export function retryingFetch(options: { fetch?: typeof fetch; retry?: RetryOptions; idempotencyKeys?: boolean } = {}): typeof fetch {
  const keyEveryPost = options.idempotencyKeys ?? true;
  const maxDelayMs = options.retry?.maxDelayMs ?? 30_000;
  const onRetry = options.retry?.onRetry;
  const http = ky.create({
    fetch: options.fetch,
    timeout: options.retry?.timeoutMs ?? false,
    throwHttpErrors: (status) => RETRY_STATUSES.includes(status),
    hooks: onRetry ? { beforeRetry: [({ error, retryCount }) => onRetry(describeFailure(error), retryCount)] } : {},
    retry: {
      limit: options.retry?.limit ?? 3,
      methods: ['get', 'head', 'post', 'patch', 'put', 'delete'],
      statusCodes: RETRY_STATUSES,
      afterStatusCodes: [429, 503],
      maxRetryAfter: maxDelayMs,
      backoffLimit: maxDelayMs,
      jitter: true,
      retryOnTimeout: true,
    },
  });
  return async (input, init) => {
    const request = new Request(input, init);
    if (keyEveryPost && request.method === 'POST' && !request.headers.has('idempotency-key')) request.headers.set('idempotency-key', globalThis.crypto.randomUUID());
    try {
      return await http(request);
    } catch (e) {
      // Retries ran out on a retryable status: hand back the last answer as a plain response.
      if (!(e instanceof HTTPError)) throw e;
      const body = e.data === undefined ? null : typeof e.data === 'string' ? e.data : JSON.stringify(e.data);
      return new Response(body, { status: e.response.status, statusText: e.response.statusText, headers: e.response.headers });
    }
  };
}

function describeFailure(error: Error): string {
  if (!(error instanceof HTTPError)) return error.message;
  const code = (error.data as { error?: { code?: unknown } } | undefined)?.error?.code;
  return `${error.response.status}${typeof code === 'string' ? ` ${code}` : ''}`;
}

export function createCouponClient(baseUrl: string, options: CouponClientOptions = {}) {
  if (options.token !== undefined && options.apiKey !== undefined) throw new TypeError('createCouponClient: give token or apiKey, not both');
  const client = hc<AppType>(baseUrl.replace(/\/+$/, ''), {
    fetch: retryingFetch(options),
    headers: async () => {
      const token = options.apiKey ?? (typeof options.token === 'function' ? await options.token() : options.token);
      return { ...options.headers, ...(token ? { authorization: `Bearer ${token}` } : {}) };
    },
  });
  return encodingPathParams(client);
}

/**
 * `hc` puts path parameters into the URL as they are, so a code typed as `ABC?x` would lock
 * `ABC`. Every `$get`/`$post`/`$url`... call here percent-encodes its `param` values first; the
 * server decodes them, and an invalid value gets its 400 instead of reaching another resource.
 */
function encodingPathParams<T>(node: T): T {
  return new Proxy(node as object, {
    get(target, key) {
      const next = Reflect.get(target, key) as unknown;
      if (typeof key !== 'string' || (typeof next !== 'function' && (typeof next !== 'object' || next === null))) return next;
      if (!key.startsWith('$')) return encodingPathParams(next);
      return (args?: { param?: Record<string, string> }, ...rest: unknown[]) =>
        (next as (...a: unknown[]) => unknown)(
          args?.param
            ? { ...args, param: Object.fromEntries(Object.entries(args.param).map(([k, v]) => [k, encodeURIComponent(v)])) }
            : args,
          ...rest,
        );
    },
  }) as T;
}

export type CouponClient = ReturnType<typeof createCouponClient>;

/** What `unwrap` resolves to for a call: the body of its 2xx answers. */
export type Success<R extends ClientResponse<any, any, any>> = Awaited<ReturnType<typeof parseResponse<R>>>;

/**
 * The body of a 2xx answer, typed from the route; anything else throws `CouponApiError` with the
 * documented error code.
 *
 *   const book = await unwrap(client.coupons[':bookId'].$get({ param: { bookId } }));
 */
export async function unwrap<R extends ClientResponse<any, any, any>>(call: R | Promise<R>): Promise<Success<R>> {
  const res = await call;
  if (res.ok) return parseResponse(res) as Promise<Success<R>>;
  throw await apiError(res);
}

async function apiError(res: Pick<Response, 'status' | 'statusText' | 'headers' | 'text'>): Promise<CouponApiError> {
  const text = await res.text();
  let error: { code?: unknown; message?: unknown; details?: unknown } | undefined;
  try {
    error = (JSON.parse(text) as { error?: typeof error }).error;
  } catch {
    error = undefined;
  }
  const retryAfter = Number(res.headers.get('retry-after'));
  return new CouponApiError(
    res.status,
    typeof error?.code === 'string' ? error.code : `HTTP_${res.status}`,
    typeof error?.message === 'string' ? error.message : text.slice(0, 200) || res.statusText,
    error?.details,
    res.headers.get('x-request-id') ?? undefined,
    res.headers.has('retry-after') && Number.isFinite(retryAfter) ? retryAfter : undefined,
  );
}
