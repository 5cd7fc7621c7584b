import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { admin, createBook, expectError, startTestApi, user, type TestApi } from './support/harness.ts';

// What the public pages answer for names they do not serve, and (below) how every kind of answer
// may be cached and framed.
let api: TestApi;
beforeAll(async () => {
  api = await startTestApi('response-headers');
});
afterAll(() => api.close());

describe('/docs/assets', () => {
  it.each(['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf', 'nope.js'])(
    'answers 404 ROUTE_NOT_FOUND for %s, a name it does not serve (never a 500 anyone could use to set off the 5xx alarm)',
    async (name) => {
      const r = await api.call('GET', `/docs/assets/${name}`);
      expectError(r, 404, 'ROUTE_NOT_FOUND');
    },
  );

  it('serves the files it does serve', async () => {
    const r = await api.call('GET', '/docs/assets/swagger-ui.css');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('text/css; charset=utf-8');
  });
});

describe('caching and framing', () => {
  const never = (r: { headers: Headers }) => {
    expect(r.headers.get('cache-control')).toBe('no-store');
  };

  it('authenticated answers are never stored by any cache, success or error', async () => {
    const token = await admin();
    const book = await createBook(api);
    const answers = [
      await api.call('GET', '/coupons', { token }),
      await api.call('GET', `/coupons/${book.id}`, { token }),
      await api.call('POST', '/coupons', { token, body: { name: 'cached?' } }),
      await api.call('GET', '/users/u-1/coupons', { token: await user('u-1') }),
      await api.call('GET', '/webhooks', { token }),
      await api.call('GET', '/api-keys', { token }),
      await api.call('GET', `/coupons/codes/NO-SUCH-CODE`, { token }),
      await api.call('GET', '/coupons'),
      await api.call('GET', '/nowhere', { token }),
      await api.call('POST', '/coupons', { token, body: { name: '' } }),
    ];
    expect(answers.map((r) => r.status)).toEqual([200, 200, 201, 200, 200, 200, 404, 401, 404, 400]);
    for (const r of answers) never(r);
    // The book's ETag is for If-Match, not for caches: it names the editable state, not the live stats beside it.
    expect(answers[1]!.headers.get('etag')).toBe('"0"');
  });

  it('API answers may not be framed or load anything', async () => {
    const r = await api.call('GET', '/coupons', { token: await admin() });
    expect(r.headers.get('content-security-policy')).toBe("default-src 'none'; frame-ancestors 'none'");
    expect(r.headers.get('x-frame-options')).toBe('DENY');
  });

  it('public answers: /health never stored, /openapi.json and /docs revalidated, nothing immutable', async () => {
    never(await api.call('GET', '/health'));
    expect((await api.call('GET', '/openapi.json')).headers.get('cache-control')).toBe('no-cache');
    const page = await api.call('GET', '/docs');
    expect(page.headers.get('cache-control')).toBe('no-cache');
    const asset = await api.call('GET', '/docs/assets/swagger-ui-bundle.js');
    expect(asset.headers.get('cache-control')).toBe('public, max-age=86400');
    for (const r of [page, asset]) expect(r.headers.get('cache-control')).not.toMatch(/immutable/);
  });

  it('/docs and its assets allow only their own origin, and may not be framed', async () => {
    for (const path of ['/docs', '/docs/assets/swagger-ui.css', '/docs/assets/init.js']) {
      const csp = (await api.call('GET', path)).headers.get('content-security-policy') ?? '';
      const directives = Object.fromEntries(csp.split(';').map((d) => d.trim().split(/\s+/)).map(([name, ...values]) => [name, values]));
      expect(directives['default-src'], path).toEqual(["'self'"]);
      expect(directives['frame-ancestors'], path).toEqual(["'none'"]);
      expect(directives['object-src'], path).toEqual(["'none'"]);
      // Nothing from another origin, and no script that is not a file of this origin; the one inline
      // style swagger-ui inserts is allowed by its hash, never 'unsafe-inline'.
      for (const [name, values] of Object.entries(directives) as [string, string[]][]) {
        for (const v of values) {
          if (name === 'style-src' && /^'sha256-[A-Za-z0-9+/]+=*'$/.test(v)) continue;
          expect(["'self'", "'none'", 'data:'], `${path}: ${name} ${v}`).toContain(v);
        }
      }
    }
  });
});
