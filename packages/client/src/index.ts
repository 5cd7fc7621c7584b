/**
 * Typed client for the Coupon Book Service.
 *
 * Why not Hono's `hc<App>`: `createApp` registers its routes with `app.route()` / `app.openapi()`
 * statements whose return values (which carry the route types) are not chained, so
 * `ReturnType<typeof createApp>` has an empty route schema and `hc<App>` is `unknown`. The types
 * here come instead from the same zod schemas the API validates with and documents in
 * /openapi.json (packages/api/src/schemas.ts), imported as types only: nothing of the API is
 * bundled into a program that uses this client.
 *
 *   const client = createCouponClient('https://api.example.com', { token });
 *   const held = await client.claimAndLock(bookId);
 *   await client.redeem(held.code, { lockId: held.lockId, orderId });
 */
import type { z } from '@hono/zod-openapi';
import type * as S from '../../api/src/schemas.ts';

// What the client sends (zod input types: before defaults and transforms) ...
export type CreateBookInput = z.input<typeof S.CreateBookSchema>;
export type UpdateBookInput = z.input<typeof S.UpdateBookSchema>;
export type UploadCodesInput = z.input<typeof S.UploadCodesSchema>;
export type GenerateCodesInput = z.input<typeof S.GenerateCodesSchema>;
export type AssignRandomInput = z.input<typeof S.AssignRandomSchema>;
export type AssignNamedInput = z.input<typeof S.AssignNamedSchema>;
export type LockInput = z.input<typeof S.LockSchema>;
export type UnlockInput = z.input<typeof S.UnlockSchema>;
export type RedeemInput = z.input<typeof S.RedeemSchema>;
/** Query strings are text on the wire; `limit` is coerced by the server. */
export type PageQuery = { limit?: number; cursor?: string };
export type UserCouponsQuery = PageQuery & Omit<z.input<typeof S.UserCouponsQuery>, 'limit' | 'cursor'>;

// ... and what it receives (zod output types).
export type Book = z.output<typeof S.BookSchema>;
export type BookWithStats = z.output<typeof S.BookWithStatsSchema>;
export type BookList = z.output<typeof S.BookListSchema>;
export type UploadResult = z.output<typeof S.UploadResultSchema>;
export type GenerateResult = z.output<typeof S.GenerateResultSchema>;
export type CodeView = z.output<typeof S.CodeViewSchema>;
export type CodeStatus = CodeView['status'];
export type AssignResult = z.output<typeof S.AssignResultSchema>;
export type LockResult = z.output<typeof S.LockResultSchema>;
export type RedeemResult = z.output<typeof S.RedeemResultSchema>;
export type UserCoupons = z.output<typeof S.UserCouponsSchema>;
export type ErrorBody = z.output<typeof S.ErrorSchema>;
/** A claim made with `lock: true` always carries its lock. */
export type ClaimResult = AssignResult & { lockId: string; lockExpiresAt: string };

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
    /** Seconds to wait, from `Retry-After` (429 and 503). */
    readonly retryAfterSeconds: number | undefined,
  ) {
    super(`${status} ${code}: ${message}`);
  }

  /** Worth retrying after `retryAfterSeconds` (rate limited, or the database briefly unavailable). */
  get retryable(): boolean {
    return this.status === 429 || this.status === 503;
  }
}

export interface CouponClientOptions {
  /** Bearer token, or a function returning a fresh one for each request (e.g. from a token cache). */
  token?: string | (() => string | Promise<string>);
  /** Replaces the global fetch (tests, proxies, retries). */
  fetch?: typeof fetch;
  /** Extra headers on every request. */
  headers?: Record<string, string>;
}

export interface RequestOptions {
  /** Sent as `Idempotency-Key`: a retry with the same key and body returns the first answer and changes nothing. */
  idempotencyKey?: string;
  signal?: AbortSignal;
  headers?: Record<string, string>;
}

type Method = 'GET' | 'POST' | 'PATCH';

const segment = (s: string) => encodeURIComponent(s);

function queryString(query: Record<string, string | number | undefined> | undefined): string {
  if (!query) return '';
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined) params.set(k, String(v));
  const s = params.toString();
  return s ? `?${s}` : '';
}

export function createCouponClient(baseUrl: string, options: CouponClientOptions = {}) {
  const base = baseUrl.replace(/\/+$/, '');
  const doFetch = options.fetch ?? globalThis.fetch;

  async function request<T>(method: Method, path: string, body?: unknown, opts: RequestOptions = {}): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json', ...options.headers, ...opts.headers };
    const token = typeof options.token === 'function' ? await options.token() : options.token;
    if (token) headers.authorization = `Bearer ${token}`;
    if (opts.idempotencyKey) headers['idempotency-key'] = opts.idempotencyKey;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await doFetch(`${base}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: opts.signal,
    });
    const text = await res.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    if (res.ok) return json as T;
    const error = (json as Partial<ErrorBody> | undefined)?.error;
    const retryAfter = Number(res.headers.get('retry-after'));
    throw new CouponApiError(
      res.status,
      typeof error?.code === 'string' ? error.code : `HTTP_${res.status}`,
      typeof error?.message === 'string' ? error.message : text.slice(0, 200) || res.statusText,
      error?.details,
      res.headers.get('x-request-id') ?? undefined,
      Number.isFinite(retryAfter) && res.headers.has('retry-after') ? retryAfter : undefined,
    );
  }

  return {
    /** `GET /health`: liveness, no token needed. */
    health: (opts?: RequestOptions) => request<{ status: string }>('GET', '/health', undefined, opts),

    // Books (admin)
    createBook: (body: CreateBookInput, opts?: RequestOptions) => request<Book>('POST', '/coupons', body, opts),
    listBooks: (query?: PageQuery, opts?: RequestOptions) => request<BookList>('GET', `/coupons${queryString(query)}`, undefined, opts),
    getBook: (bookId: string, opts?: RequestOptions) => request<BookWithStats>('GET', `/coupons/${segment(bookId)}`, undefined, opts),
    updateBook: (bookId: string, body: UpdateBookInput, opts?: RequestOptions) =>
      request<Book>('PATCH', `/coupons/${segment(bookId)}`, body, opts),

    // Codes (admin)
    uploadCodes: (body: UploadCodesInput, opts?: RequestOptions) => request<UploadResult>('POST', '/coupons/codes', body, opts),
    generateCodes: (body: GenerateCodesInput, opts?: RequestOptions) =>
      request<GenerateResult>('POST', '/coupons/codes/generate', body, opts),

    // Lifecycle
    /** A random available code of the book; admin and service name `userId`, a user may omit it. */
    assign: (body: AssignRandomInput, opts?: RequestOptions) => request<AssignResult>('POST', '/coupons/assign', body, opts),
    /** Claim a random code and lock it in one atomic step: the mobile checkout's common case. */
    claimAndLock: (bookId: string, body: Omit<AssignRandomInput, 'bookId' | 'lock'> = {}, opts?: RequestOptions) =>
      request<ClaimResult>('POST', '/coupons/assign', { ...body, bookId, lock: true }, opts),
    /** That code (admin, service). */
    assignCode: (code: string, body: AssignNamedInput, opts?: RequestOptions) =>
      request<AssignResult>('POST', `/coupons/assign/${segment(code)}`, body, opts),
    lock: (code: string, body: LockInput = {}, opts?: RequestOptions) =>
      request<LockResult>('POST', `/coupons/lock/${segment(code)}`, body, opts),
    unlock: (code: string, body: UnlockInput = {}, opts?: RequestOptions) =>
      request<CodeView>('POST', `/coupons/unlock/${segment(code)}`, body, opts),
    /** Under an unexpired lock, pass its `lockId`. */
    redeem: (code: string, body: RedeemInput = {}, opts?: RequestOptions) =>
      request<RedeemResult>('POST', `/coupons/redeem/${segment(code)}`, body, opts),

    // Users
    listUserCoupons: (userId: string, query?: UserCouponsQuery, opts?: RequestOptions) =>
      request<UserCoupons>('GET', `/users/${segment(userId)}/coupons${queryString(query)}`, undefined, opts),
  };
}

export type CouponClient = ReturnType<typeof createCouponClient>;
