/**
 * Every HTTP call the codes CLI makes, and nothing else: the three operations it needs, each
 * retried (same body, same Idempotency-Key) on network errors, 429 and 5xx with backoff that
 * honours Retry-After. Commands import the operations, never fetch, so this one module is what
 * changes when the CLI moves to another client.
 */
import { randomInt } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';

/** An answer the CLI cannot retry past (4xx, or retries exhausted). `status` 0: no answer at all. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface UploadAnswer {
  inserted: number;
  duplicates: string[];
  invalid: { code: string; reason: string }[];
  /** The server answered from its Idempotency-Key record: the work was done by an earlier request. */
  replayed: boolean;
}

export interface Job {
  id: string;
  bookId: string;
  status: 'queued' | 'running' | 'succeeded' | 'failed';
  generated: number;
  total: number;
  pattern?: string;
  checkChar?: boolean;
  createdAt?: string;
  startedAt?: string | null;
  finishedAt?: string;
  error?: string;
}

export type GenerateAnswer = { status: 201; generated: number; requested: number; codes: string[] } | { status: 202; jobId: string };

export interface GenerateRequest {
  bookId: string;
  count: number;
  pattern?: string;
  checkChar?: boolean;
}

export function createCodesApi(base: string, token: string) {
  const call = (method: string, path: string, options: CallOptions = {}) => request(base, token, method, path, options);
  return {
    async uploadCodes(bookId: string, codes: string[], key: string, onRetry?: (why: string) => void): Promise<UploadAnswer> {
      const res = await call('POST', '/coupons/codes', { body: { bookId, codes }, key, onRetry });
      return { ...(res.json as Omit<UploadAnswer, 'replayed'>), replayed: res.replayed };
    },
    async generateCodes(body: GenerateRequest, key: string): Promise<GenerateAnswer> {
      const res = await call('POST', '/coupons/codes/generate', { body, key });
      return { status: res.status, ...res.json } as GenerateAnswer;
    },
    async getJob(jobId: string): Promise<Job> {
      return (await call('GET', `/jobs/${encodeURIComponent(jobId)}`)).json as Job;
    },
  };
}
export type CodesApi = ReturnType<typeof createCodesApi>;

const RETRYABLE = new Set([429, 500, 502, 503, 504]);

interface CallOptions {
  body?: unknown;
  key?: string;
  attempts?: number;
  onRetry?: (why: string) => void;
}

async function request(base: string, token: string, method: string, path: string, options: CallOptions) {
  const attempts = options.attempts ?? 10;
  for (let attempt = 1; ; attempt++) {
    const ceiling = Math.min(30_000, 250 * 2 ** attempt);
    let wait = ceiling / 2 + randomInt(Math.floor(ceiling / 2) + 1);
    let why: string;
    // A timer cleared with the answer (AbortSignal.timeout's would outlive fast requests by minutes).
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(new Error('no answer in 120 s')), 120_000);
    try {
      const res = await fetch(new URL(path, base), {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
          ...(options.key ? { 'idempotency-key': options.key } : {}),
        },
        body: options.body !== undefined ? JSON.stringify(options.body) : undefined,
        signal: abort.signal,
      });
      const text = await res.text();
      let json: any;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
      if (res.ok) return { status: res.status, json, replayed: res.headers.get('idempotent-replayed') === 'true' };
      const code = json?.error?.code ?? `HTTP_${res.status}`;
      const message = json?.error?.message ?? text.slice(0, 200);
      if (!RETRYABLE.has(res.status) || attempt >= attempts) throw new ApiError(res.status, code, `${method} ${path}: ${res.status} ${code}: ${message}`);
      const retryAfter = Number(res.headers.get('retry-after'));
      if (Number.isFinite(retryAfter) && retryAfter > 0) wait = Math.max(wait, retryAfter * 1000);
      why = `${res.status} ${code}`;
    } catch (e) {
      if (e instanceof ApiError) throw e;
      if (attempt >= attempts) throw new ApiError(0, 'NETWORK', `${method} ${path}: ${(e as Error).message}`);
      why = (e as Error).message;
    } finally {
      clearTimeout(timer);
    }
    options.onRetry?.(why);
    await sleep(wait);
  }
}
