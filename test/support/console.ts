import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { expect } from 'vitest';
import type { Browser, Locator, Page, Request } from 'playwright-core';
import { followChanges } from '@coupons/api';
import type { ConsoleConfig } from '../../packages/console/src/deploy-config.ts';
import { consoleBuildForTests } from '../../scripts/lib/console-build.ts';
import { startConsoleServer, type ConsoleServer } from '../../scripts/lib/console-server.ts';
import { freePort } from '../../scripts/lib/dynamodb-local.ts';
import { admin, startTestApi, type TestApi } from './harness.ts';

// The console as a person uses it: the real build, served as `npm start` serves it, in the
// machine's Chromium, found by role and accessible name. Each browser test file starts one
// browser, one console server and one API; the build is shared by every file and run.

export const CHROMIUM = '/usr/bin/chromium';
export const hasChromium = existsSync(CHROMIUM);

export async function launchChromium(args: string[] = []): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', ...args],
  });
}

/** The console, built once for these sources, served on `port` against the API at `apiUrl`. */
export async function serveConsole(port: number, config: ConsoleConfig): Promise<ConsoleServer> {
  return startConsoleServer({ distDir: await consoleBuildForTests(), port, config });
}

/** A tab, with what it asked for and what went wrong in it. */
export interface Tab {
  page: Page;
  requests: Request[];
  /** Errors the page logged (CSP refusals, exceptions), except the browser's own line for each 4xx/5xx answer. */
  errors: string[];
  /** Answers of 400 and above, as `METHOD url status`: the API's refusals a test provoked, nothing else. */
  refusals: string[];
}

export async function openTab(browser: Browser): Promise<Tab> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const tab: Tab = { page, requests: [], errors: [], refusals: [] };
  page.on('request', (r) => tab.requests.push(r));
  page.on('response', (r) => {
    if (r.status() >= 400) tab.refusals.push(`${r.request().method()} ${r.url()} ${r.status()}`);
  });
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) tab.errors.push(m.text());
  });
  page.on('pageerror', (e) => tab.errors.push(e.message));
  return tab;
}

/** `npm start`'s link: the token in the fragment, then the books page. */
export async function signInWithLink(tab: Tab, consoleUrl: string, token: string) {
  await tab.page.goto(`${consoleUrl}#token=${token}`);
  await tab.page.getByRole('navigation', { name: 'Main' }).waitFor();
}

/** What a browser test file drives: the API, the console served for it, and a signed-in tab. */
export interface ConsoleSession {
  api: TestApi;
  site: ConsoleServer;
  tab: Tab;
  /** Stops what it started, the browser first. */
  close(): Promise<void>;
}

/**
 * A test file's console, named after its tenant: the API on DynamoDB Local (with `follow`, its
 * change stream followed in-process, so histories and webhooks fill in as under `npm start`), the
 * console served for it on a free port, and a Chromium tab signed in with `npm start`'s link as the
 * tenant's admin. `env` is the API's settings.
 */
export async function startConsoleSession(tenant: string, options: { env?: Record<string, string>; follow?: boolean } = {}): Promise<ConsoleSession> {
  const stops: (() => Promise<unknown>)[] = [];
  const close = async () => {
    for (const stop of [...stops].reverse()) await stop();
  };
  try {
    const port = await freePort();
    const api = await startTestApi(tenant, options.env ?? {}, { ...(options.follow ? { stream: true } : {}), corsOrigins: [`http://127.0.0.1:${port}`] });
    stops.push(() => api.close());
    if (options.follow) {
      const follower = followChanges(api.core, { name: tenant, idleMs: 20 });
      stops.push(() => follower.stop());
    }
    const [site, browser] = await Promise.all([serveConsole(port, { apiUrl: api.base, devSignIn: true }), launchChromium()]);
    stops.push(() => site.close(), () => browser.close());
    const tab = await openTab(browser);
    await signInWithLink(tab, site.url, await admin(tenant));
    return { api, site, tab, close };
  } catch (e) {
    await close();
    throw e;
  }
}

/** Goes to a route of the console (its fragment), as a click on a link would. */
export async function goTo(tab: Tab, consoleUrl: string, route: string) {
  await tab.page.goto(`${consoleUrl}#${route}`);
}

const require = createRequire(import.meta.url);
const AXE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

/**
 * axe-core's WCAG 2.1 A/AA and best-practice rules on the page as it is now: no serious or
 * critical violation. Evaluated through the DevTools protocol, which the page's CSP does not
 * govern, so the page is checked with its real policy in force.
 */
export async function expectAccessible(page: Page, what: string) {
  await page.evaluate(AXE);
  const violations = await page.evaluate(async () => {
    const page = globalThis as unknown as {
      document: unknown;
      axe: { run: (context: unknown, o: object) => Promise<{ violations: { id: string; impact: string; help: string; nodes: { target: string[] }[] }[] }> };
    };
    const result = await page.axe.run(page.document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] } });
    return result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, targets: v.nodes.slice(0, 3).map((n) => n.target.join(' ')) }));
  });
  const serious = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  expect(serious, `axe on ${what}`).toEqual([]);
}

/** A table as a person reads it: one object per body row, keyed by the column headers. */
export async function readTable(table: Locator): Promise<Record<string, string>[]> {
  return table.evaluate((el) => {
    const headers = [...el.querySelectorAll('thead th')].map((th) => th.textContent?.trim() ?? '');
    return [...el.querySelectorAll('tbody tr')].map((tr) =>
      Object.fromEntries([...tr.querySelectorAll('th, td')].map((cell, i) => [headers[i] ?? String(i), cell.textContent?.trim() ?? ''])),
    );
  });
}

/** The origins a tab asked anything of. */
export const originsOf = (requests: Request[]) => [...new Set(requests.map((r) => new URL(r.url()).origin))].sort();

/** `expect.poll` with room for a busy machine: pages refresh every few seconds, and DynamoDB Local shares two cores. */
export const poll = <T>(fn: () => T | Promise<T>, timeout = 15_000) => expect.poll(fn, { timeout, interval: 100 });
