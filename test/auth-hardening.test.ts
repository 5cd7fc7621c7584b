import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSign, generateKeyPairSync, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sign } from 'hono/jwt';
import { answer, expectError, SECRET, startTestApi, type TestApi } from './support/harness.ts';

// RS256 from a JWKS URL, as production uses with Cognito: the key set is
// generated here and served from 127.0.0.1, so the real fetch and the real
// signature check run.
const now = () => Math.floor(Date.now() / 1000);
const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const kid = randomUUID();
const jwk = { ...publicKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' };
const privateJwk = { ...privateKey.export({ format: 'jwk' }), kid, alg: 'RS256' };
let jwksServer: Server;
let jwksHits = 0;
let api: TestApi;

const rs256 = (claims: Record<string, unknown>) => sign({ exp: now() + 300, ...claims }, privateJwk as any, 'RS256');
const hs256 = (claims: Record<string, unknown>) => sign(claims, SECRET, 'HS256');
const claims = { sub: 'a-1', tenant: 't1', role: 'admin' };
/** RS256 with a header of our choosing (hono/jwt's sign always writes `typ: JWT`). */
function rs256WithHeader(header: Record<string, unknown>, payload: Record<string, unknown>) {
  const part = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const input = `${part({ alg: 'RS256', kid, ...header })}.${part({ exp: now() + 300, ...payload })}`;
  return `${input}.${createSign('RSA-SHA256').update(input).sign(privateKey).toString('base64url')}`;
}

beforeAll(async () => {
  jwksServer = createServer((_req, res) => {
    jwksHits++;
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] }));
  });
  await new Promise<void>((r) => jwksServer.listen(0, '127.0.0.1', () => r()));
  const jwksUrl = `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/.well-known/jwks.json`;
  api = await startTestApi('auth-hardening', {}, { auth: { hs256Secret: SECRET, jwksUrl }, corsOrigins: ['https://app.example.com'] });
});
afterAll(async () => {
  await api.close();
  jwksServer.close();
});

describe('RS256 tokens from a JWKS URL', () => {
  it('a token signed with the published key is accepted, and the key set is cached', async () => {
    const first = await answer(api.client(await rs256(claims)).coupons.$get({ query: {} }));
    const second = await answer(api.client(await rs256(claims)).coupons.$get({ query: {} }));
    expect([first.status, second.status]).toEqual([200, 200]);
    expect(jwksHits).toBe(1);
  });

  it("an identity provider's JWT access token (RFC 9068, typ at+jwt) is accepted; another typ is not", async () => {
    const ok = await api.call('GET', '/coupons', { token: rs256WithHeader({ typ: 'at+jwt' }, claims) });
    expect(ok.status).toBe(200);
    expect((await api.call('GET', '/coupons', { token: rs256WithHeader({}, claims) })).status).toBe(200);
    expectError(await api.call('GET', '/coupons', { token: rs256WithHeader({ typ: 'dpop+jwt' }, claims) }), 401, 'UNAUTHENTICATED');
  });

  it('a token signed with another RSA key, or naming an unknown kid, is refused', async () => {
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });
    const forged = await sign({ ...claims, exp: now() + 300 }, { ...other, kid, alg: 'RS256' } as any, 'RS256');
    expectError(await answer(api.client(forged).coupons.$get({ query: {} })), 401, 'UNAUTHENTICATED');
    const unknownKid = await sign({ ...claims, exp: now() + 300 }, { ...privateJwk, kid: 'nope' } as any, 'RS256');
    expectError(await answer(api.client(unknownKid).coupons.$get({ query: {} })), 401, 'UNAUTHENTICATED');
  });

  it('the public key cannot be used as an HS256 secret (algorithm confusion)', async () => {
    const pem = publicKey.export({ format: 'pem', type: 'spki' }).toString();
    const confused = await sign({ ...claims, exp: now() + 300 }, pem, 'HS256');
    expectError(await answer(api.client(confused).coupons.$get({ query: {} })), 401, 'UNAUTHENTICATED');
  });
});

describe('time claims', () => {
  it('exp is required', async () => {
    expectError(await answer(api.client(await hs256(claims)).coupons.$get({ query: {} })), 401, 'UNAUTHENTICATED');
  });

  it('up to 60 s of clock skew is tolerated on exp, not more', async () => {
    expect((await answer(api.client(await hs256({ ...claims, exp: now() - 30 })).coupons.$get({ query: {} }))).status).toBe(200);
    expectError(await answer(api.client(await hs256({ ...claims, exp: now() - 90 })).coupons.$get({ query: {} })), 401, 'UNAUTHENTICATED');
  });

  it('a token not valid before a time beyond the skew is refused', async () => {
    expect((await answer(api.client(await hs256({ ...claims, exp: now() + 300, nbf: now() + 30 })).coupons.$get({ query: {} }))).status).toBe(200);
    expectError(await answer(api.client(await hs256({ ...claims, exp: now() + 300, nbf: now() + 120 })).coupons.$get({ query: {} })), 401, 'UNAUTHENTICATED');
  });
});

describe('headers', () => {
  it('secure headers are set on every response', async () => {
    const r = await answer(api.client().health.$get());
    expect(r.headers.get('x-content-type-options')).toBe('nosniff');
    expect(r.headers.get('x-frame-options')).toBeTruthy();
    expect(r.headers.get('strict-transport-security')).toBeTruthy();
  });

  it('CORS answers configured app origins only', async () => {
    const allowed = await api.call('OPTIONS', '/coupons/assign', {
      headers: { origin: 'https://app.example.com', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,idempotency-key' },
    });
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
    expect(allowed.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('idempotency-key');
    // A browser app edits books with If-Match and must be able to read the ETag it answers.
    const patch = await api.call('OPTIONS', '/coupons/b1', {
      headers: { origin: 'https://app.example.com', 'access-control-request-method': 'PATCH', 'access-control-request-headers': 'authorization,if-match' },
    });
    expect(patch.headers.get('access-control-allow-methods')).toContain('PATCH');
    expect(patch.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('if-match');
    const read = await api.call('GET', '/coupons', { token: await rs256(claims), headers: { origin: 'https://app.example.com' } });
    expect(read.headers.get('access-control-expose-headers')?.toLowerCase().split(',')).toContain('etag');
    const other = await api.call('OPTIONS', '/coupons/assign', {
      headers: { origin: 'https://evil.example.com', 'access-control-request-method': 'POST' },
    });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });
});
