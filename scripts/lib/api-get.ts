/** GET requests of the CLI against the API, retried where a retry can help. */
import { randomInt } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';

/** An answer the API gave that retrying will not change, or retries that ran out. */
export class HttpError extends Error {}

const RETRYABLE = new Set([429, 500, 502, 503, 504]);

/** One GET, retried with backoff on network errors, 429 and 5xx (honouring Retry-After); other errors end the export. */
export async function getJson<T>(base: string, token: string, path: string, onRetry: (why: string) => void, attempts = 10): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const ceiling = Math.min(30_000, 250 * 2 ** attempt);
    let wait = ceiling / 2 + randomInt(Math.floor(ceiling / 2) + 1);
    let why: string;
    // A timer cleared with the answer (AbortSignal.timeout's would outlive each fast request by two
    // minutes: thousands of live timers at export rates).
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(new Error('no answer in 120 s')), 120_000);
    try {
      const res = await fetch(new URL(path, base), { headers: { authorization: `Bearer ${token}` }, signal: abort.signal });
      const text = await res.text();
      if (res.ok) return JSON.parse(text) as T;
      let error: { code?: string; message?: string } | undefined;
      try {
        error = JSON.parse(text)?.error;
      } catch {
        error = undefined;
      }
      why = `${res.status} ${error?.code ?? ''}`.trim();
      if (!RETRYABLE.has(res.status) || attempt >= attempts) throw new HttpError(`GET ${path.split('?')[0]}: ${why}: ${error?.message ?? text.slice(0, 200)}`);
      const retryAfter = Number(res.headers.get('retry-after'));
      if (Number.isFinite(retryAfter) && retryAfter > 0) wait = Math.max(wait, retryAfter * 1000);
    } catch (e) {
      if (e instanceof HttpError) throw e;
      if (attempt >= attempts) throw new HttpError(`GET ${path.split('?')[0]}: ${(e as Error).message}`);
      why = (e as Error).message;
    } finally {
      clearTimeout(timer);
    }
    onRetry(why);
    await sleep(wait);
  }
}

