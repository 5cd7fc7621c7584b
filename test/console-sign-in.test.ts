import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Request } from 'playwright-core';
import { unwrap } from '@coupons/client';
import { freePort } from '../scripts/lib/dynamodb-local.ts';
import type { ConsoleServer } from '../scripts/lib/console-server.ts';
import { admin, createBook, SECRET, startTestApi, type TestApi } from './support/harness.ts';
import { startOidcProvider } from './support/oidc-provider.ts';
import { expectAccessible, hasChromium, launchChromium, openTab, originsOf, poll, readTable, serveConsole } from './support/console.ts';

// Signing in to the console as people do on a deployed stage: OpenID Connect, authorization code
// with PKCE, through a real provider (oidc-provider) on 127.0.0.1 whose JWKS the API trusts
// (JWT_JWKS_URL), then using the console with the access token it issued. Also how the console
// is served: caching, Content-Security-Policy, nothing from another origin.

const TENANT = 'console-oidc';
const CLIENT_ID = 'coupons-console';
let api: TestApi;
let idp: Awaited<ReturnType<typeof startOidcProvider>>;
let site: ConsoleServer;
let browser: Browser;

beforeAll(async () => {
  if (!hasChromium) return;
  const [consolePort, idpPort] = [await freePort(), await freePort()];
  const consoleUrl = `http://127.0.0.1:${consolePort}/console/`;
  const issuer = `http://127.0.0.1:${idpPort}`;
  api = await startTestApi('console-oidc', {}, { auth: { hs256Secret: SECRET, jwksUrl: `${issuer}/jwks` }, corsOrigins: [`http://127.0.0.1:${consolePort}`] });
  idp = await startOidcProvider({
    port: idpPort,
    clientId: CLIENT_ID,
    redirectUri: consoleUrl,
    resource: api.base,
    accounts: { 'ops-1': { tenant: TENANT, role: 'admin' } },
  });
  [site, browser] = await Promise.all([
    serveConsole(consolePort, { apiUrl: api.base, oidc: { issuer: idp.issuer, clientId: CLIENT_ID, resource: api.base } }),
    // Only this machine: the provider's own login page asks for a web font, which must go nowhere.
    launchChromium(['--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1']),
  ]);
});
afterAll(async () => {
  await browser?.close();
  await site?.close();
  await idp?.close();
  await api?.close();
});

/** A raw GET (no URL normalisation, unlike fetch): status and headers. */
function rawGet(url: string, path: string): Promise<{ status: number; headers: Record<string, string | string[] | undefined> }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    httpRequest({ hostname, port, path, method: 'GET' }, (res) => {
      res.resume();
      resolve({ status: res.statusCode!, headers: res.headers });
    })
      .on('error', reject)
      .end();
  });
}

const decode = (part: string) => JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as Record<string, unknown>;

describe.skipIf(!hasChromium)('signing in to the console', () => {
  it('signs in through the identity provider with PKCE, and the API accepts the access token it issued', async () => {
    await createBook(api, { name: 'Signed-in book' }, TENANT);
    const tab = await openTab(browser);
    const { page } = tab;
    // Which document asked: the console's, or the provider's login and consent pages.
    const askedBy = new Map<Request, string>();
    page.on('request', (r) => askedBy.set(r, new URL(page.url()).origin));
    await page.goto(site.url);
    await page.getByRole('heading', { level: 1, name: 'Coupon console' }).waitFor();
    await expectAccessible(page, 'the sign-in page');
    await page.getByRole('button', { name: 'Sign in' }).click();

    // The provider's own pages: who, then consent.
    await page.waitForURL((u) => u.origin === idp.issuer);
    await page.getByPlaceholder('Enter any login').fill('ops-1');
    await page.getByPlaceholder('and password').fill('any password');
    await page.getByRole('button', { name: 'Sign-in' }).click();
    await page.getByRole('button', { name: 'Continue' }).click();

    // Back in the console, signed in, the code and state gone from the address bar.
    await page.getByRole('navigation', { name: 'Main' }).waitFor();
    expect(page.url()).toBe(`${site.url}#/`);
    await expect(page.getByText('ops-1').first().isVisible()).resolves.toBe(true);
    const books = page.getByRole('table', { name: 'Books' });
    await poll(async () => (await books.count()) && (await readTable(books)).map((r) => r.Name)).toEqual(['Signed-in book']);

    const authorize = tab.requests.find((r) => r.url().startsWith(`${idp.issuer}/auth?`))!;
    const query = new URL(authorize.url()).searchParams;
    expect(Object.fromEntries(['response_type', 'client_id', 'code_challenge_method', 'resource'].map((k) => [k, query.get(k)]))).toEqual({
      response_type: 'code',
      client_id: CLIENT_ID,
      code_challenge_method: 'S256',
      resource: api.base,
    });
    expect(query.get('code_challenge')).toMatch(/^[\w-]{43}$/);
    expect(tab.requests.some((r) => r.method() === 'POST' && r.url() === `${idp.issuer}/token`)).toBe(true);

    // What the API was sent: the provider's RS256 access token for the API, with tenant and role.
    const call = tab.requests.find((r) => r.url().startsWith(`${api.base}/coupons`) && r.method() === 'GET')!;
    const token = (await call.allHeaders()).authorization!.replace(/^Bearer /, '');
    const [header, payload] = token.split('.').slice(0, 2).map(decode) as [Record<string, unknown>, Record<string, unknown>];
    expect(header).toMatchObject({ alg: 'RS256', kid: 'console-test' });
    expect(payload).toMatchObject({ sub: 'ops-1', tenant: TENANT, role: 'admin', aud: api.base, iss: idp.issuer, client_id: CLIENT_ID });
    expect(tab.refusals).toEqual([]);
    // The console's own pages asked only its origin, the provider and the API (the provider's
    // login and consent pages are the provider's business: they ask for a web font, which the
    // browser here cannot resolve).
    const consoleOrigin = new URL(site.url).origin;
    const consoleRequests = tab.requests.filter((r) => askedBy.get(r) === consoleOrigin || r.url().startsWith(`${site.url}?`));
    expect(originsOf(consoleRequests)).toEqual([consoleOrigin, idp.issuer, api.base].sort());
    expect(tab.errors.filter((e) => !e.includes('fonts.googleapis.com'))).toEqual([]);

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    await tab.page.context().close();
  });

  it('ignores a token in the link when an identity provider is configured', async () => {
    const tab = await openTab(browser);
    await tab.page.goto(`${site.url}#token=${await admin(TENANT)}`);
    await tab.page.getByRole('button', { name: 'Sign in' }).waitFor();
    await expect(tab.page.getByRole('navigation', { name: 'Main' }).count()).resolves.toBe(0);
    expect(tab.requests.filter((r) => r.url().startsWith(api.base))).toEqual([]);
    await tab.page.context().close();
  });

  it('serves hashed assets for good, index.html and config.json revalidated, all under one Content-Security-Policy', async () => {
    const index = await fetch(site.url);
    expect(index.status).toBe(200);
    expect(index.headers.get('cache-control')).toBe('no-cache');
    const csp = index.headers.get('content-security-policy')!;
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain(`connect-src 'self' ${api.base} ${idp.issuer}`);
    expect(index.headers.get('x-content-type-options')).toBe('nosniff');
    const html = await index.text();
    const assets = [...html.matchAll(/(?:src|href)="\.\/(assets\/[^"]+)"/g)].map((m) => m[1]!);
    expect(assets.length).toBeGreaterThanOrEqual(2);
    for (const asset of assets) {
      const res = await fetch(new URL(asset, site.url));
      expect(res.status, asset).toBe(200);
      expect(res.headers.get('cache-control'), asset).toBe('public, max-age=31536000, immutable');
      expect(res.headers.get('content-security-policy'), asset).toBe(csp);
    }
    // Nothing the page loads names another origin.
    expect(html).not.toMatch(/(?:src|href)="(?:https?:)?\/\//);

    const config = await fetch(new URL('config.json', site.url));
    expect(config.headers.get('cache-control')).toBe('no-cache');
    expect(await config.json()).toEqual({ apiUrl: api.base, oidc: { issuer: idp.issuer, clientId: CLIENT_ID, resource: api.base } });
    const etag = config.headers.get('etag')!;
    expect((await fetch(new URL('config.json', site.url), { headers: { 'if-none-match': etag } })).status).toBe(304);

    expect((await rawGet(site.url, '/')).headers.location).toBe('/console/');
    expect((await rawGet(site.url, '/console/.source-hash')).status).toBe(404);
    expect((await rawGet(site.url, '/console/../package.json')).status).toBe(404);
    expect((await rawGet(site.url, '/console/%2e%2e/%2e%2e/package.json')).status).toBe(404);
    expect((await rawGet(site.url, '/console/%E0%A4%A')).status).toBe(400);
  });

  it('the API still refuses a token the provider did not sign', async () => {
    const forged = `${Buffer.from(JSON.stringify({ alg: 'RS256', kid: 'console-test' })).toString('base64url')}.${Buffer.from(
      JSON.stringify({ sub: 'ops-1', tenant: TENANT, role: 'admin', exp: Math.floor(Date.now() / 1000) + 60 }),
    ).toString('base64url')}.${Buffer.from('not a signature').toString('base64url')}`;
    await expect(unwrap(api.client(forged).coupons.$get({ query: {} }))).rejects.toMatchObject({ status: 401, code: 'UNAUTHENTICATED' });
  });
});
