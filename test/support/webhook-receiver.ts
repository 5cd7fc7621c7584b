import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
export { waitFor } from './wait-for.ts';

export interface Received {
  id: string;
  timestamp: string;
  signature: string;
  body: any;
  raw: string;
  /** The status the receiver answered. */
  answered: number;
  /** Whether the signature verified with the library, and with which secret. */
  verifiedWith?: string;
}

/**
 * A webhook receiver on 127.0.0.1 that verifies every request with the
 * `standardwebhooks` library against the secrets it is given, records it,
 * and answers what `answer` says (200 by default).
 */
export async function startReceiver(options: { answer?: (req: Received, n: number) => number } = {}) {
  const secrets: string[] = [];
  const received: Received[] = [];
  const unverified: { headers: IncomingHttpHeaders; raw: string }[] = [];
  let answer = options.answer ?? (() => 200);
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const headers = {
        'webhook-id': String(req.headers['webhook-id']),
        'webhook-timestamp': String(req.headers['webhook-timestamp']),
        'webhook-signature': String(req.headers['webhook-signature']),
      };
      const verifiedWith = secrets.find((s) => {
        try {
          new Webhook(s).verify(raw, headers);
          return true;
        } catch {
          return false;
        }
      });
      if (!verifiedWith) {
        unverified.push({ headers: req.headers, raw });
        res.writeHead(400).end();
        return;
      }
      const entry: Received = {
        id: headers['webhook-id'],
        timestamp: headers['webhook-timestamp'],
        signature: headers['webhook-signature'],
        body: JSON.parse(raw),
        raw,
        answered: 0,
        verifiedWith,
      };
      entry.answered = answer(entry, received.filter((r) => r.id === entry.id).length);
      received.push(entry);
      res.writeHead(entry.answered, { 'content-type': 'text/plain' }).end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    received,
    unverified,
    /** Secrets whose signatures this receiver accepts. */
    trust: (secret: string) => void secrets.push(secret),
    answerWith: (fn: (req: Received, n: number) => number) => {
      answer = fn;
    },
    /** Requests answered 2xx, by message id, first one only. */
    delivered: () => {
      const seen = new Map<string, Received>();
      for (const r of received) if (r.answered >= 200 && r.answered < 300 && !seen.has(r.id)) seen.set(r.id, r);
      return [...seen.values()];
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

export type Receiver = Awaited<ReturnType<typeof startReceiver>>;

