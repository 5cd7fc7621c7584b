import { Agent, request } from 'node:http';
import { createCouponClient, unwrap } from '@coupons/client';

export { unwrap };

/**
 * The typed client (packages/client) as a benchmark drives the API: every route, body and answer
 * as a user's program has them. No automatic Idempotency-Key (a keyed request also writes its
 * record, which would change what is measured) and no retries (a refusal is counted, not hidden).
 */
export const apiClient = (base: string, token: string) => createCouponClient(base, { token, idempotencyKeys: false, retry: { limit: 0 } });

/**
 * A typed-client call's answer as a Reply: the status (0 when there was no answer at all, as on a
 * loaded machine that resets a socket now and then) and the body.
 */
export async function replyOf(call: Promise<Pick<Response, 'status' | 'text'>>): Promise<Reply> {
  const started = performance.now();
  try {
    const res = await call;
    const text = await res.text();
    let json: any;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: res.status, json, ms: performance.now() - started };
  } catch (e) {
    return { status: 0, json: undefined, ms: performance.now() - started, error: (e as Error).message };
  }
}

export interface Reply {
  /** 0 when the request got no answer (a reset socket on a loaded machine). */
  status: number;
  json: any;
  /** Client-side latency. */
  ms: number;
  error?: string;
}

/**
 * A lean keep-alive client for measured loops, where the typed client's own work (a Request, the
 * retry layer) would be counted against the service sharing this process's CPU. One agent per
 * phase: a socket idle longer than the server's keepAliveTimeout (5 s) can be closed just as it is
 * reused ("socket hang up"). Answers status 0 instead of throwing on a network error.
 */
export function keepAliveClient(base: string, maxSockets: number) {
  const { hostname, port } = new URL(base);
  const agent = new Agent({ keepAlive: true, maxSockets });
  function send(method: string, path: string, token: string, body?: unknown): Promise<Reply> {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const started = performance.now();
    return new Promise((resolve) => {
      const headers: Record<string, string | number> = { authorization: `Bearer ${token}` };
      if (payload) Object.assign(headers, { 'content-type': 'application/json', 'content-length': payload.length });
      const req = request({ host: hostname, port, path, method, agent, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          let json: any;
          try {
            json = JSON.parse(Buffer.concat(chunks).toString('utf8'));
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, json, ms: performance.now() - started });
        });
        res.on('error', (e) => resolve({ status: 0, json: undefined, ms: performance.now() - started, error: e.message }));
      });
      req.setTimeout(30_000, () => req.destroy(new Error('request timed out after 30 s')));
      req.on('error', (e) => resolve({ status: 0, json: undefined, ms: performance.now() - started, error: e.message }));
      req.end(payload);
    });
  }
  return {
    post: (path: string, token: string, body: unknown) => send('POST', path, token, body),
    get: (path: string, token: string) => send('GET', path, token),
    close: () => agent.destroy(),
  };
}
