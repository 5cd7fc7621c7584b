import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { startTestApi, type TestApi } from './support/harness.ts';

// GET /docs in a real browser: the page renders every operation from /openapi.json using only
// files the service itself serves (no CDN, no online validator: it must work offline, behind a
// firewall, and tell no third party where the API is). CI installs Debian's chromium; without it
// this file is skipped, and says so.

const CHROMIUM = '/usr/bin/chromium';
/** The README's picture. Rewritten only on request (UPDATE_SCREENSHOT=1), so `npm test` leaves the working tree clean. */
const SCREENSHOT = join(dirname(fileURLToPath(import.meta.url)), '..', 'docs', 'api-reference.png');
const UPDATE_SCREENSHOT = process.env.UPDATE_SCREENSHOT === '1';
/** A name that is not loopback-looking, as in production: swagger-ui only skips its online validator for localhost and 127.0.0.1. */
const PUBLIC_NAME = 'coupons.example.test';
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) console.warn(`test/docs-page.test.ts SKIPPED: ${CHROMIUM} is not installed (apt-get install chromium).`);

let api: TestApi;
let browser: Browser;

beforeAll(async () => {
  if (!hasChromium) return;
  api = await startTestApi('docs-page');
  const { chromium } = await import('playwright-core');
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      // PUBLIC_NAME is this server; every other name fails to resolve, so nothing can leave the machine.
      `--host-resolver-rules=MAP ${PUBLIC_NAME} 127.0.0.1, MAP * ~NOTFOUND, EXCLUDE 127.0.0.1`,
      // Production serves HTTPS; over plain HTTP only a trustworthy origin gets the secure headers honoured.
      `--unsafely-treat-insecure-origin-as-secure=${api.base.replace('127.0.0.1', PUBLIC_NAME)}`,
    ],
  });
});
afterAll(async () => {
  await browser?.close();
  await api?.close();
});

interface Visit {
  page: Page;
  requests: string[];
  failures: string[];
  consoleErrors: string[];
}

async function openDocs(base: string): Promise<Visit> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const visit: Visit = { page, requests: [], failures: [], consoleErrors: [] };
  page.on('request', (r) => visit.requests.push(r.url()));
  page.on('requestfailed', (r) => visit.failures.push(`${r.url()}: ${r.failure()?.errorText}`));
  page.on('response', (r) => {
    if (r.status() >= 400) visit.failures.push(`${r.url()}: ${r.status()}`);
  });
  page.on('console', (m) => {
    // The browser's own /favicon.ico probe is not the page's doing (and, like any unknown path, needs a token).
    if (m.type() === 'error' && !m.location().url.endsWith('/favicon.ico')) visit.consoleErrors.push(`${m.text()} (${m.location().url})`);
  });
  page.on('pageerror', (e) => visit.consoleErrors.push(e.message));
  // A Content-Security-Policy violation is reported here as well as in the console: none may happen.
  await page.exposeFunction('reportViolation', (v: string) => visit.consoleErrors.push(`CSP violation: ${v}`));
  await page.addInitScript(
    "document.addEventListener('securitypolicyviolation', (e) => window.reportViolation(e.violatedDirective + ' ' + e.blockedURI))",
  );
  const res = await page.goto(`${base}/docs`, { waitUntil: 'networkidle' });
  expect(res?.status()).toBe(200);
  // The page runs under its own policy (only its own origin), which the checks below prove is enough.
  expect(res?.headers()['content-security-policy']).toMatch(/default-src 'self'/);
  await page.locator('.opblock').first().waitFor({ timeout: 20_000 });
  // Give late, lazily rendered parts (the validator badge is one) the chance to ask for something.
  await page.waitForLoadState('networkidle');
  return visit;
}

const title = hasChromium ? 'GET /docs in headless Chromium' : `GET /docs in headless Chromium: SKIPPED, ${CHROMIUM} is not installed`;
describe.skipIf(!hasChromium)(title, () => {
  it('renders every operation of /openapi.json from the service alone, in a screenshot small enough for the README', async () => {
    const { page, requests, failures, consoleErrors } = await openDocs(api.base);

    // Every path of the document is on the page, with its method.
    const doc = (await api.call('GET', '/openapi.json')).json as { info: { title: string }; paths: Record<string, Record<string, unknown>> };
    const shown = await page.locator('.opblock-summary').evaluateAll((els) =>
      els.map((el) => ({
        method: el.querySelector('.opblock-summary-method')?.textContent?.trim().toLowerCase(),
        path: el.querySelector('.opblock-summary-path')?.getAttribute('data-path') ?? el.querySelector('.opblock-summary-path')?.textContent?.trim(),
      })),
    );
    const expected = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((method) => ({ method, path })));
    expect(expected.length).toBeGreaterThan(5);
    expect(shown).toEqual(expect.arrayContaining(expected));
    for (const path of ['/coupons', '/coupons/assign', '/coupons/lock/{code}', '/coupons/redeem/{code}', '/users/{userId}/coupons']) {
      await expect(page.locator(`.opblock-summary-path[data-path="${path}"]`).first().isVisible(), path).resolves.toBe(true);
    }
    await expect(page.getByText(doc.info.title).first().isVisible()).resolves.toBe(true);

    // Only the service itself was contacted, and everything it was asked for it served.
    expect([...new Set(requests.map((u) => new URL(u).hostname))]).toEqual(['127.0.0.1']);
    expect(requests).toEqual(expect.arrayContaining([`${api.base}/openapi.json`, `${api.base}/docs/assets/swagger-ui-bundle.js`]));
    expect(failures).toEqual([]);
    expect(consoleErrors).toEqual([]);

    const png = await page.screenshot({ fullPage: false, type: 'png' });
    expect(png.byteLength).toBeLessThan(300 * 1024);
    if (UPDATE_SCREENSHOT) await writeFile(SCREENSHOT, png);
    await page.close();
  });

  it('served under a public host name, still asks no other host for anything (no online validator badge)', async () => {
    const base = api.base.replace('127.0.0.1', PUBLIC_NAME);
    const { page, requests, failures, consoleErrors } = await openDocs(base);
    expect([...new Set(requests.map((u) => new URL(u).hostname))]).toEqual([PUBLIC_NAME]);
    expect(failures).toEqual([]);
    expect(consoleErrors).toEqual([]);
    await expect(page.locator('img[alt="Online validator badge"]').count()).resolves.toBe(0);
    await page.close();
  });
});
