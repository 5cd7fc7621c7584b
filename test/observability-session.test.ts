import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../scripts/lib/dynamodb-local.ts';
import { startReceiver, waitFor, type Receiver } from './support/webhook-receiver.ts';

// A whole realistic session against `npm start` (scripts/dev.ts, its own DynamoDB Local), and
// then ALL that the process wrote, stdout and stderr, searched: requests signed with tokens and
// API keys (good and bogus), a key and two webhook endpoints created (their secrets answered once),
// claims, a redemption, deliveries (one endpoint failing until its schedule is used up), a
// generation job. No token, key, webhook secret or request body may be in the output, only the
// banner's own paste-ready exports; every log line names its unit of work; the metrics come out
// as EMF lines and as the summary line METRICS_SUMMARY_SECONDS asks for.

let stdout = '';
let stderr = '';
let exitCode: number | null = null;
const secrets: string[] = [];
const markers = { bookName: `BODY-MARKER-${randomUUID()}`, orderId: `ORDER-MARKER-${randomUUID().slice(0, 8)}` };
let ok: Receiver;
let failing: Receiver;
let jobId = '';

// Powertools writes warnings and errors to stderr, the rest to stdout: both are read.
const jsonLines = () =>
  `${stdout}\n${stderr}`
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, any>);
const logLines = () => jsonLines().filter((l) => typeof l.level === 'string' && !('_aws' in l));
const emfLines = () => jsonLines().filter((l) => '_aws' in l);

beforeAll(async () => {
  ok = await startReceiver();
  failing = await startReceiver({ answer: () => 500 });
  const port = await freePort();
  const { DYNAMODB_ENDPOINT: _e, TABLE_NAME: _t, JWT_SECRET: _s, DATA_DIR: _d, ...inherited } = process.env;
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/dev.ts'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...inherited,
      PORT: String(port),
      LOG_LEVEL: 'debug',
      METRICS_SUMMARY_SECONDS: '1',
      METRICS_FLUSH_SECONDS: '1',
      WEBHOOK_RETRY_SCHEDULE: '1',
      WEBHOOK_POLL_MS: '100',
    },
  });
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((res) => child.once('close', (code) => res(code)));
  try {
    await waitFor('npm start to print its tokens', () => /export USER_TOKEN=\S+/.test(stdout), 90_000, 50);
    const tokens = Object.fromEntries([...stdout.matchAll(/^ {2}export ([A-Z_]+)=(\S+)$/gm)].map((m) => [m[1]!, m[2]!]));
    // Every export but COUPONS_API (the API's address, printed everywhere) is a credential.
    const { COUPONS_API: _address, ...credentials } = tokens;
    secrets.push(...Object.values(credentials));
    const base = `http://127.0.0.1:${port}`;
    const call = async (method: string, path: string, token: string, body?: unknown, headers: Record<string, string> = {}) => {
      const res = await fetch(base + path, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}), ...headers },
        body: body ? JSON.stringify(body) : undefined,
      });
      return { status: res.status, json: (await res.json().catch(() => undefined)) as any };
    };
    const { ADMIN: adminToken, USER_TOKEN: userToken, SERVICE_KEY: serviceKey } = tokens as Record<string, string>;

    const hook = await call('POST', '/webhooks', adminToken!, { url: ok.url, events: ['code.assigned', 'code.redeemed'] });
    expect(hook.status).toBe(201);
    ok.trust(hook.json.secret);
    const bad = await call('POST', '/webhooks', adminToken!, { url: failing.url, events: ['code.redeemed'] });
    failing.trust(bad.json.secret);
    const key = await call('POST', '/api-keys', adminToken!, { name: 'session script', role: 'service' });
    expect(key.status).toBe(201);
    secrets.push(hook.json.secret, bad.json.secret, key.json.key);

    const book = await call('POST', '/coupons', adminToken!, { name: markers.bookName, codePattern: 'SS-****-****' });
    expect(book.status).toBe(201);
    const job = await call('POST', '/coupons/codes/generate', adminToken!, { bookId: book.json.id, count: 10_050 });
    expect(job.status).toBe(202);
    jobId = job.json.jobId;
    const upload = await call('POST', '/coupons/codes', adminToken!, { bookId: book.json.id, codes: ['SS-AAAA-0001', 'SS-AAAA-0002', 'SS-AAAA-0003'] });
    expect(upload.status).toBe(200);

    const mine = await call('POST', '/coupons/assign', userToken!, { bookId: book.json.id }, { 'Idempotency-Key': randomUUID() });
    expect(mine.status).toBe(201);
    expect((await call('POST', '/coupons/assign', serviceKey!, { bookId: book.json.id, userId: 'user-2' })).status).toBe(201);
    expect((await call('POST', '/coupons/assign', key.json.key, { bookId: book.json.id, userId: 'user-3' })).status).toBe(201);
    expect((await call('POST', `/coupons/redeem/${mine.json.code}`, userToken!, { orderId: markers.orderId })).status).toBe(200);
    // Credentials that fail are not logged either.
    const bogusKey = `cbk_demo_${'0'.repeat(24)}_${'x'.repeat(43)}`;
    const bogusJwt = `${userToken!.split('.').slice(0, 2).join('.')}.c2lnbmF0dXJlLXRoYXQtaXMtd3Jvbmc`;
    secrets.push(bogusKey, bogusJwt);
    expect((await call('GET', '/coupons', bogusKey)).status).toBe(401);
    expect((await call('GET', '/coupons', bogusJwt)).status).toBe(401);

    await waitFor('the deliveries', () => ok.delivered().length >= 4 && failing.received.length >= 2, 60_000, 50);
    await waitFor('the job', async () => (await call('GET', `/jobs/${jobId}`, adminToken!)).json?.status === 'succeeded', 120_000, 500);
    await waitFor('a summary line with the deliveries', () => /webhooks delivered [1-9]/.test(stdout) && /failed [1-9]/.test(stdout), 10_000, 50);
  } finally {
    child.kill('SIGTERM');
    exitCode = await exited;
  }
}, 240_000);
afterAll(async () => {
  await ok?.close();
  await failing?.close();
});

describe('a whole session under npm start', () => {
  it('writes no token, API key, webhook secret or request body anywhere but the banner\'s exports', () => {
    expect(exitCode).toBe(0);
    // The banner prints the development credentials on purpose, once (the exports, and the admin
    // token in the console link's fragment): everything else is searched.
    const output = stdout.replace(/^ {2}export [A-Z_]+=\S+$/gm, '').replace(/^ {2}Console {10}\S+#token=\S+$/m, '') + stderr;
    expect(secrets.length).toBeGreaterThanOrEqual(9);
    for (const secret of secrets) {
      expect(output.includes(secret), `the output holds a credential ending ${secret.slice(-6)}`).toBe(false);
      // Nor a telling piece of one (a JWT's signature, a key's secret part).
      expect(output.includes(secret.slice(-20)), `the output holds the end of a credential ending ${secret.slice(-6)}`).toBe(false);
    }
    expect(output).not.toMatch(/cbk_[A-Za-z0-9_-]{8}|whsec_[A-Za-z0-9+/=_-]{8}|eyJ[A-Za-z0-9_-]{5,}\./);
    expect(output).not.toContain(markers.bookName);
    expect(output).not.toContain(markers.orderId);
  });

  it('logs JSON lines through one logger, each naming its unit of work', () => {
    const lines = logLines();
    expect(lines.length).toBeGreaterThan(10);
    for (const l of lines) {
      expect(l, JSON.stringify(l)).toMatchObject({ service: 'coupon-books', level: expect.any(String), message: expect.any(String), timestamp: expect.any(String) });
    }
    const requests = lines.filter((l) => l.message === 'request');
    for (const r of requests) expect(r.requestId, JSON.stringify(r)).toBeTypeOf('string');
    const claims = requests.filter((r) => r.route === 'POST /coupons/assign');
    expect(claims).toHaveLength(3);
    for (const c of claims) expect(c).toMatchObject({ tenant: 'demo', bookId: expect.any(String), status: 201 });
    expect(requests.find((r) => r.route === 'POST /coupons/redeem/{code}')).toMatchObject({ code: expect.stringMatching(/^SS-/), tenant: 'demo' });
    const attempts = lines.filter((l) => l.message === 'webhook attempt');
    expect(attempts.map((a) => a.outcome)).toEqual(expect.arrayContaining(['delivered', 'retry', 'failed']));
    for (const a of attempts) expect(a).toMatchObject({ tenant: 'demo', webhookId: expect.any(String), messageId: expect.any(String) });
    const batches = lines.filter((l) => l.message === 'stream batch');
    expect(batches.length).toBeGreaterThan(0);
    for (const b of batches) expect(b).toMatchObject({ follower: expect.stringMatching(/^npm-start(-history)?$/), streamRecord: expect.any(String), lagMs: expect.any(Number) });
    expect(lines.find((l) => l.message === 'job ran')).toMatchObject({ jobId, tenant: 'demo', outcome: 'succeeded' });
  });

  it('writes the metrics as EMF lines, and the summary line says what the dashboard would', () => {
    const emf = emfLines();
    const total = (name: string) => emf.filter((l) => name in l && l.tenant === undefined && l.outcome === undefined).reduce((n, l) => n + (l[name] as number), 0);
    const byTenant = (name: string) => emf.filter((l) => l.tenant === 'demo' && name in l).reduce((n, l) => n + (l[name] as number), 0);
    expect(byTenant('Claims')).toBe(3);
    expect(byTenant('Redemptions')).toBe(1);
    expect(emf.filter((l) => l.outcome === 'delivered').reduce((n, l) => n + l.WebhookDeliveries, 0)).toBeGreaterThanOrEqual(4);
    expect(emf.filter((l) => l.outcome === 'failed').reduce((n, l) => n + l.WebhookDeliveries, 0)).toBe(1);
    expect(total('StreamRecords')).toBeGreaterThan(0);
    const summaries = stdout.split('\n').filter((l) => l.startsWith('metrics, last 1 s: '));
    expect(summaries.length).toBeGreaterThan(1);
    const claimed = summaries.reduce((n, l) => n + Number(/claims (\d+)/.exec(l)![1]), 0);
    expect(claimed).toBe(3);
    expect(summaries.some((l) => /p99 POST \/coupons\/assign [\d.]+ ms/.test(l))).toBe(true);
    expect(summaries.some((l) => /stream lag max [\d.]+ ms \(\d+ records\)/.test(l))).toBe(true);
  });
});
