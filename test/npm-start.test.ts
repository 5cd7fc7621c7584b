import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../scripts/lib/dynamodb-local.ts';
import { consoleBuildForTests, ensureConsoleBuilt } from '../scripts/lib/console-build.ts';
import { startTestApi } from './support/harness.ts';

// `npm start` (scripts/dev.ts) as a new user meets it: its own DynamoDB Local, the printed
// tokens pasted into a shell, a restart, a port already taken.

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

interface Started {
  child: ChildProcess;
  output: () => { stdout: string; stderr: string };
  exited: Promise<number | null>;
}

/** The console is served from the tests' shared build (outside the tree) unless a test names another CONSOLE_DIST. */
async function start(env: Record<string, string>): Promise<Started> {
  const { DYNAMODB_ENDPOINT: _endpoint, TABLE_NAME: _table, JWT_SECRET: _secret, DATA_DIR: _data, ...inherited } = process.env;
  const consoleEnv = { CONSOLE_DIST: env.CONSOLE_DIST ?? (await consoleBuildForTests()), CONSOLE_PORT: env.CONSOLE_PORT ?? String(await freePort()) };
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/dev.ts'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...inherited, ...consoleEnv, ...env } });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((res) => child.once('close', (code) => res(code)));
  return { child, output: () => ({ stdout, stderr }), exited };
}

async function ready(s: Started): Promise<Record<string, string>> {
  const deadline = Date.now() + 90_000;
  while (!/export USER_TOKEN=\S+/.test(s.output().stdout)) {
    if (s.child.exitCode !== null) throw new Error(`npm start exited: ${s.output().stderr}`);
    if (Date.now() > deadline) throw new Error('npm start did not print its tokens in 90 s');
    await new Promise((r) => setTimeout(r, 100));
  }
  return Object.fromEntries([...s.output().stdout.matchAll(/^ {2}export ([A-Z_]+)=(\S+)$/gm)].map((m) => [m[1]!, m[2]!]));
}

async function stop(s: Started) {
  s.child.kill('SIGTERM');
  return s.exited;
}

const listBooks = (port: number, token: string) => fetch(`http://127.0.0.1:${port}/coupons`, { headers: { authorization: `Bearer ${token}` } }).then((r) => r.status);
const userCoupons = (port: number, token: string) =>
  fetch(`http://127.0.0.1:${port}/users/user-1/coupons`, { headers: { authorization: `Bearer ${token}` } }).then((r) => r.status);

describe('npm start', () => {
  it('prints paste-ready exports (COUPONS_API, and USER_TOKEN, never USER) and a console link; with DATA_DIR the secret is kept, so the tokens survive a restart', async () => {
    const data = mkdtempSync(join(tmpdir(), 'npm-start-'));
    dirs.push(data);
    const dist = mkdtempSync(join(tmpdir(), 'npm-start-console-'));
    dirs.push(dist);
    const [port, consolePort] = [await freePort(), await freePort()];
    const first = await start({ PORT: String(port), DATA_DIR: data, CONSOLE_PORT: String(consolePort), CONSOLE_DIST: dist });
    const tokens = await ready(first);
    const { stdout } = first.output();
    expect(Object.keys(tokens)).toEqual(['COUPONS_API', 'ADMIN', 'SERVICE', 'SERVICE_KEY', 'USER_TOKEN']);
    // The CLI and the client's examples read COUPONS_API: pasted, it names this server.
    expect(tokens.COUPONS_API).toBe(`http://localhost:${port}`);
    expect((await fetch(`${tokens.COUPONS_API}/health`)).status).toBe(200);
    expect(tokens.SERVICE_KEY).toMatch(/^cbk_demo_[0-9a-f]{24}_[A-Za-z0-9_-]{43}$/);
    // The service key signs a backend's requests, and is no admin.
    expect(await userCoupons(port, tokens.SERVICE_KEY!)).toBe(200);
    expect(await listBooks(port, tokens.SERVICE_KEY!)).toBe(403);
    // Pasting the output must never overwrite the shell's own $USER.
    expect(stdout).not.toMatch(/^\s*(export\s+)?USER=/m);
    // The user token's subject is named, since it is the user id the user routes take.
    expect(stdout).toMatch(/user "user-1"/);
    const payload = JSON.parse(Buffer.from(tokens.USER_TOKEN!.split('.')[1]!, 'base64url').toString());
    expect(payload).toMatchObject({ sub: 'user-1', role: 'user', tenant: 'demo' });
    expect(await listBooks(port, tokens.ADMIN!)).toBe(200);
    // The secret sits beside the data, readable by its owner only.
    expect(statSync(join(data, 'dev-jwt-secret')).mode & 0o077).toBe(0);

    // The console: built on this first start (saying so), served on its own loopback port, and a
    // link that signs in as the printed admin, its token in the fragment, which no server receives.
    expect(stdout).toContain(`Building the console into ${dist} (no build yet)…`);
    const link = /^ {2}Console {10}(\S+)$/m.exec(stdout)?.[1];
    expect(link).toBe(`http://127.0.0.1:${consolePort}/console/#token=${tokens.ADMIN}`);
    const page = await fetch(link!.split('#')[0]!);
    expect(page.status).toBe(200);
    expect(page.headers.get('cache-control')).toBe('no-cache');
    expect(page.headers.get('content-security-policy')).toContain(`connect-src 'self' http://localhost:${port};`);
    expect(await page.text()).toContain('<div id="app">');
    const config = await (await fetch(`http://127.0.0.1:${consolePort}/console/config.json`)).json();
    expect(config).toEqual({ apiUrl: `http://localhost:${port}`, devSignIn: true });
    // The API answers the console's origin, an optimistic edit's headers included.
    const preflight = await fetch(`http://127.0.0.1:${port}/coupons/some-book`, {
      method: 'OPTIONS',
      headers: { origin: `http://127.0.0.1:${consolePort}`, 'access-control-request-method': 'PATCH', 'access-control-request-headers': 'authorization,if-match' },
    });
    expect(preflight.headers.get('access-control-allow-origin')).toBe(`http://127.0.0.1:${consolePort}`);
    expect(preflight.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('if-match');
    expect(await stop(first)).toBe(0);

    const port2 = await freePort();
    const second = await start({ PORT: String(port2), DATA_DIR: data, CONSOLE_DIST: dist });
    const again = await ready(second);
    expect(second.output().stdout).toMatch(/development secret kept in/);
    // Built already, from these sources: served as it is.
    expect(second.output().stdout).not.toContain('Building the console');
    // The token and the key printed by the first run still work against the restarted server.
    expect(await listBooks(port2, tokens.ADMIN!)).toBe(200);
    expect(again.ADMIN).toBeDefined();
    expect(again.SERVICE_KEY).toBe(tokens.SERVICE_KEY);
    expect(await userCoupons(port2, tokens.SERVICE_KEY!)).toBe(200);
    expect(await stop(second)).toBe(0);
  });

  it('a busy port is one clear line, before DynamoDB Local is started', async () => {
    const busy: Server = createServer();
    const port = await new Promise<number>((res) => busy.listen(0, '0.0.0.0', () => res((busy.address() as { port: number }).port)));
    try {
      const started = Date.now();
      const s = await start({ PORT: String(port), CONSOLE_PORT: String(port + 7) });
      expect(await s.exited).toBe(1);
      const { stdout, stderr } = s.output();
      expect(stderr.trim().split('\n')).toEqual([`npm start: PORT=${port}: already in use. Stop what uses it, or choose another: PORT=${port + 1} npm start`]);
      expect(stderr).not.toMatch(/EADDRINUSE|\n\s+at /);
      // Nothing was started: no banner, no DynamoDB Local (whose start alone takes seconds).
      expect(stdout).toBe('');
      expect(Date.now() - started).toBeLessThan(15_000);
    } finally {
      busy.close();
    }
  });
});

describe('npm start: the console', () => {
  it('rebuilds a console built from other sources', async () => {
    const dist = mkdtempSync(join(tmpdir(), 'npm-start-console-'));
    dirs.push(dist);
    rmSync(dist, { recursive: true });
    const said: string[] = [];
    await ensureConsoleBuilt(dist, (line) => said.push(line));
    const stamp = join(dist, '.source-hash');
    const current = readFileSync(stamp, 'utf8');
    writeFileSync(stamp, 'an older version\n');
    const again = await ensureConsoleBuilt(dist, (line) => said.push(line));
    expect(again.built).toBe('sources changed since the last build');
    expect(said).toEqual([`Building the console into ${dist} (no build yet)…`, `Building the console into ${dist} (sources changed since the last build)…`]);
    expect(readFileSync(stamp, 'utf8')).toBe(current);
    expect((await ensureConsoleBuilt(dist)).built).toBeUndefined();
  });
});

describe('GET /favicon.ico', () => {
  it('is public and empty, so /docs leaves no 401 in the browser console', async () => {
    const api = await startTestApi('favicon');
    try {
      const res = await api.call('GET', '/favicon.ico');
      expect(res.status).toBe(204);
      expect(res.text).toBe('');
    } finally {
      await api.close();
    }
  });
});
