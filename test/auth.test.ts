import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sign } from 'hono/jwt';
import { admin, answer, expectError, SECRET, startTestApi, type TestApi } from './support/harness.ts';

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi('auth');
});
afterAll(() => api.close());

const now = () => Math.floor(Date.now() / 1000);

describe('authentication', () => {
  it('public routes need no token', async () => {
    expect((await answer(api.client().health.$get())).status).toBe(200);
    const doc = await api.call('GET', '/openapi.json');
    expect(doc.status).toBe(200);
    expect(doc.json.openapi).toBe('3.1.0');
    expect((await api.call('GET', '/docs')).status).toBe(200);
  });

  it.each([
    ['no header', undefined],
    ['not a bearer', 'Basic abc'],
    ['garbage token', 'Bearer abc.def.ghi'],
  ])('%s → 401 UNAUTHENTICATED', async (_n, header) => {
    // Raw: malformed Authorization headers are what this sends.
    const r = await api.call('GET', '/coupons', { headers: header ? { authorization: header } : {} });
    expectError(r, 401, 'UNAUTHENTICATED');
  });

  it('an expired token → 401', async () => {
    const token = await sign({ sub: 'a', tenant: 't1', role: 'admin', exp: now() - 120 }, SECRET, 'HS256');
    expectError(await answer(api.client(token).coupons.$get({ query: {} })), 401, 'UNAUTHENTICATED');
  });

  it('a token signed with another secret → 401', async () => {
    const token = await sign({ sub: 'a', tenant: 't1', role: 'admin', exp: now() + 60 }, 'another-secret-0123456789', 'HS256');
    expectError(await answer(api.client(token).coupons.$get({ query: {} })), 401, 'UNAUTHENTICATED');
  });

  it('a token without exp, with an unknown role, or with a tenant that could forge a key → 401', async () => {
    for (const claims of [
      { sub: 'a', tenant: 't1', role: 'admin' },
      { sub: 'a', tenant: 't1', role: 'root', exp: now() + 60 },
      { sub: 'a', tenant: 't1#BOOK#x', role: 'admin', exp: now() + 60 },
    ]) {
      const token = await sign(claims, SECRET, 'HS256');
      expectError(await answer(api.client(token).coupons.$get({ query: {} })), 401, 'UNAUTHENTICATED');
    }
  });

  it('an alg:none token is refused (the algorithm is pinned)', async () => {
    const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const token = `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ sub: 'a', tenant: 't1', role: 'admin', exp: now() + 60 })}.`;
    expectError(await answer(api.client(token).coupons.$get({ query: {} })), 401, 'UNAUTHENTICATED');
  });

  it('every response carries a request id, also in the structured log line', async () => {
    const r = await answer(api.client(await admin()).coupons.$get({ query: {} }));
    const id = r.headers.get('x-request-id');
    expect(id).toBeTruthy();
    const line = api.logs.find((l) => l.requestId === id);
    expect(line).toMatchObject({ method: 'GET', path: '/coupons', status: 200, tenant: 't1', role: 'admin' });
  });

  it('an unknown route answers in the error shape', async () => {
    const r = await api.call('GET', '/nope', { token: await admin() });
    expect(r.status).toBe(404);
    expect(r.json.error.code).toBeTypeOf('string');
  });
});
