import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, sep } from 'node:path';
import {
  CACHE_HASHED,
  CACHE_REVALIDATE,
  HASHED_ASSETS_DIR,
  SECURITY_HEADERS,
  contentSecurityPolicy,
  type ConsoleConfig,
} from '../../packages/console/src/deploy-config.ts';

/** Where the console is served, as users expect it: `/console/`. */
export const CONSOLE_PATH = '/console/';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
  '.woff2': 'font/woff2',
};

export interface ConsoleServer {
  /** e.g. `http://127.0.0.1:3001/console/` */
  url: string;
  close(): Promise<void>;
}

/**
 * The built console (`dist`), served at /console/ on a loopback port of its own: `npm start`
 * and the browser tests. `config.json` is this server's own (which API, which sign-in), never a
 * file of the build. Hashed assets are cached for good; index.html and config.json are asked
 * again each time (ETag, 304); every answer carries the same Content-Security-Policy as on AWS.
 */
export async function startConsoleServer(options: { distDir: string; config: ConsoleConfig; port?: number; host?: string }): Promise<ConsoleServer> {
  const host = options.host ?? '127.0.0.1';
  const root = normalize(options.distDir + sep);
  const configJson = Buffer.from(`${JSON.stringify(options.config, null, 2)}\n`);
  const headers = { ...SECURITY_HEADERS, 'content-security-policy': contentSecurityPolicy(options.config) };

  async function handle(req: IncomingMessage, res: ServerResponse) {
    let path: string;
    try {
      path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    } catch {
      return send(res, 400, 'text/plain; charset=utf-8', Buffer.from('Bad path'));
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'text/plain; charset=utf-8', Buffer.from('GET only'), { allow: 'GET, HEAD' });
    if (path === '/' || path === '/console') return redirect(res, CONSOLE_PATH);
    if (!path.startsWith(CONSOLE_PATH)) return send(res, 404, 'text/plain; charset=utf-8', Buffer.from(`The console is at ${CONSOLE_PATH}`));
    const file = path.slice(CONSOLE_PATH.length) || 'index.html';
    if (file === 'config.json') return sendCached(req, res, '.json', configJson, CACHE_REVALIDATE);
    // Only files of the build: no dotfiles (the build's stamp), nothing outside dist.
    const full = normalize(join(root, file));
    if (!full.startsWith(root) || file.split('/').some((part) => part.startsWith('.'))) return notFound(res);
    const info = await stat(full).catch(() => undefined);
    if (!info?.isFile()) return notFound(res);
    const cache = file.startsWith(`${HASHED_ASSETS_DIR}/`) ? CACHE_HASHED : CACHE_REVALIDATE;
    return sendCached(req, res, extname(full), await readFile(full), cache);
  }

  function sendCached(req: IncomingMessage, res: ServerResponse, ext: string, body: Buffer, cacheControl: string) {
    const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
    if (req.headers['if-none-match'] === etag) return send(res, 304, undefined, undefined, { etag, 'cache-control': cacheControl });
    return send(res, 200, TYPES[ext] ?? 'application/octet-stream', req.method === 'HEAD' ? undefined : body, { etag, 'cache-control': cacheControl }, body.length);
  }

  function send(res: ServerResponse, status: number, type: string | undefined, body?: Buffer, extra: Record<string, string> = {}, length?: number) {
    res.writeHead(status, {
      ...headers,
      ...extra,
      ...(type ? { 'content-type': type } : {}),
      ...(length !== undefined || body ? { 'content-length': String(length ?? body!.length) } : {}),
    });
    res.end(body);
  }
  const redirect = (res: ServerResponse, to: string) => send(res, 302, undefined, undefined, { location: to, 'cache-control': CACHE_REVALIDATE });
  const notFound = (res: ServerResponse) => send(res, 404, 'text/plain; charset=utf-8', Buffer.from('Not found'), { 'cache-control': CACHE_REVALIDATE });

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) send(res, 500, 'text/plain; charset=utf-8', Buffer.from('The console server failed'));
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${port}${CONSOLE_PATH}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
