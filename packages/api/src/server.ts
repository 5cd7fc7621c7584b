import { serve, type ServerType } from '@hono/node-server';
import type { App } from './app.ts';

/** Serves the app on Node; resolves once listening. */
export function startServer(app: App, port: number, hostname = '0.0.0.0'): Promise<ServerType> {
  return new Promise((res) => {
    const server = serve({ fetch: app.fetch, port, hostname }, () => res(server));
  });
}
