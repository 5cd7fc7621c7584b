import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../scripts/lib/dynamodb-local.ts';
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

function start(env: Record<string, string>): Started {
  const { DYNAMODB_ENDPOINT: _endpoint, TABLE_NAME: _table, JWT_SECRET: _secret, DATA_DIR: _data, ...inherited } = process.env;
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/dev.ts'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...inherited, ...env } });
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

describe('npm start', () => {
  it('prints paste-ready exports (COUPONS_API, and USER_TOKEN, never USER); with DATA_DIR the secret is kept, so the tokens survive a restart', async () => {
    const data = mkdtempSync(join(tmpdir(), 'npm-start-'));
    dirs.push(data);
    const port = await freePort();
    const first = start({ PORT: String(port), DATA_DIR: data });
    const tokens = await ready(first);
    const { stdout } = first.output();
    expect(Object.keys(tokens)).toEqual(['COUPONS_API', 'ADMIN', 'SERVICE', 'USER_TOKEN']);
    // The CLI and the client's examples read COUPONS_API: pasted, it names this server.
    expect(tokens.COUPONS_API).toBe(`http://localhost:${port}`);
    expect((await fetch(`${tokens.COUPONS_API}/health`)).status).toBe(200);
    // Pasting the output must never overwrite the shell's own $USER.
    expect(stdout).not.toMatch(/^\s*(export\s+)?USER=/m);
    // The user token's subject is named, since it is the user id the user routes take.
    expect(stdout).toMatch(/user "user-1"/);
    const payload = JSON.parse(Buffer.from(tokens.USER_TOKEN!.split('.')[1]!, 'base64url').toString());
    expect(payload).toMatchObject({ sub: 'user-1', role: 'user', tenant: 'demo' });
    expect(await listBooks(port, tokens.ADMIN!)).toBe(200);
    // The secret sits beside the data, readable by its owner only.
    expect(statSync(join(data, 'dev-jwt-secret')).mode & 0o077).toBe(0);
    expect(await stop(first)).toBe(0);

    const port2 = await freePort();
    const second = start({ PORT: String(port2), DATA_DIR: data });
    const again = await ready(second);
    expect(second.output().stdout).toMatch(/development secret kept in/);
    // The token printed by the first run still works against the restarted server.
    expect(await listBooks(port2, tokens.ADMIN!)).toBe(200);
    expect(again.ADMIN).toBeDefined();
    expect(await stop(second)).toBe(0);
  });

  it('a busy port is one clear line, before DynamoDB Local is started', async () => {
    const busy: Server = createServer();
    const port = await new Promise<number>((res) => busy.listen(0, '0.0.0.0', () => res((busy.address() as { port: number }).port)));
    try {
      const started = Date.now();
      const s = start({ PORT: String(port) });
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
