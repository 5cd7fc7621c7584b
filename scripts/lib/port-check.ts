import { createServer } from 'node:net';

/** Why `port` cannot be listened on (in use, not allowed), or null when it is free. Checked on all interfaces, as the API listens. */
export function portProblem(port: number): Promise<string | null> {
  if (!Number.isInteger(port) || port < 1 || port > 65535) return Promise.resolve('not a port number (1-65535)');
  return new Promise((res) => {
    const probe = createServer();
    probe.once('error', (e: NodeJS.ErrnoException) =>
      res(e.code === 'EADDRINUSE' ? 'already in use' : e.code === 'EACCES' ? 'not allowed for this user' : e.message),
    );
    probe.listen(port, '0.0.0.0', () => probe.close(() => res(null)));
  });
}
