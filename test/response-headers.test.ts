import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectError, startTestApi, type TestApi } from './support/harness.ts';

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
