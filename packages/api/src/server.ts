import { serve, type ServerType } from '@hono/node-server';
import type { App } from './app.ts';

/** Serves the app on Node; resolves once listening, rejects if it cannot listen (e.g. EADDRINUSE). */
export function startServer(app: App, port: number, hostname = '0.0.0.0'): Promise<ServerType> {
  return new Promise((res, rej) => {
    const server = serve({ fetch: app.fetch, port, hostname }, () => {
      server.off('error', rej);
      res(server);
    });
    server.once('error', rej);
  });
}
