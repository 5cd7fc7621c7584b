import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import { guardedLookup, refusedAddress, RefusedTarget } from './ssrf-guard.ts';

export interface AttemptOutcome {
  ok: boolean;
  /** The receiver's HTTP status, when it answered. */
  status?: number;
  /** Why it failed without an answer (timeout, refused target, connection error). */
  error?: string;
}

/**
 * What a tenant reads (`lastError`) when the target was refused by the SSRF
 * guard or its name did not resolve: one text for all of them, so a delivery
 * log cannot tell how the service's network resolves names or which of its
 * ranges is private.
 */
export const TARGET_REFUSED = 'refused target: the host is not a public address, or does not resolve';

export interface SendOptions {
  timeoutMs: number;
  allowLoopback: boolean;
  now: () => number;
}

/**
 * Standard Webhooks headers, signed with every secret that signs now (space-separated during a
 * rotation). The library is loaded on the first delivery: the API's functions never sign, so
 * their cold start does not load it.
 */
export async function signedHeaders(messageId: string, body: string, secrets: string[], at: Date): Promise<Record<string, string>> {
  const { Webhook } = await import('standardwebhooks');
  const signature = secrets.map((s) => new Webhook(s).sign(messageId, at, body)).join(' ');
  return {
    'content-type': 'application/json',
    'user-agent': 'coupon-books-webhooks/1',
    'webhook-id': messageId,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': signature,
  };
}

/**
 * One attempt: sign, POST, wait at most `timeoutMs`. 2xx is success;
 * anything else (other statuses, redirects, timeouts, refused targets) is a
 * failure the caller retries on its schedule.
 */
export async function sendOnce(
  target: { url: string; secrets: string[] },
  message: { messageId: string; body: string },
  options: SendOptions,
): Promise<AttemptOutcome> {
  let url: URL;
  try {
    url = new URL(target.url);
  } catch {
    return { ok: false, error: 'the URL does not parse' };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return { ok: false, error: 'only http and https are delivered to' };
  // An IP literal never goes through lookup: check it here.
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (isIP(host)) {
    if (refusedAddress(host, options)) return { ok: false, error: TARGET_REFUSED };
  }
  const headers = await signedHeaders(message.messageId, message.body, target.secrets, new Date(options.now()));
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise<AttemptOutcome>((resolve) => {
    const req = request(
      url,
      {
        method: 'POST',
        headers: { ...headers, 'content-length': String(Buffer.byteLength(message.body)) },
        lookup: guardedLookup(options) as never,
        signal: AbortSignal.timeout(options.timeoutMs),
      },
      (res) => {
        // The body is not needed; drain it so the socket is freed.
        res.resume();
        res.on('end', () => resolve({ ok: res.statusCode! >= 200 && res.statusCode! < 300, status: res.statusCode }));
        res.on('error', () => resolve({ ok: false, status: res.statusCode, error: 'the response broke off' }));
      },
    );
    req.on('error', (e: Error & { code?: string }) => {
      if (e instanceof RefusedTarget || e.code === 'EREFUSEDTARGET') resolve({ ok: false, error: TARGET_REFUSED });
      else if (e.name === 'AbortError' || e.name === 'TimeoutError') resolve({ ok: false, error: `no answer within ${options.timeoutMs} ms` });
      else resolve({ ok: false, error: e.code ?? e.message });
    });
    req.end(message.body);
  });
}
