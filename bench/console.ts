/**
 * The console's weight and speed, as a person meets it locally:
 *   - the JavaScript (and CSS) a browser loads before the first page, raw and gzipped: the files
 *     index.html names (entry script, module preloads, stylesheet) of the production build;
 *   - the time to a usable books page: from navigation start in Chromium to the books table
 *     showing every row with its counts (the list, then each book's stats), over a real API on
 *     DynamoDB Local. Cold = a fresh browser profile each time (nothing cached), warm = a reload.
 *
 *   npm run bench:console [-- --books 25 --runs 10]     (BENCH_TRACE=1: each cold load's requests on stderr)
 *
 * Prints JSON. Budgets: first-load JavaScript under 200 KB gzipped; a usable books page under 1 s.
 */
import { readFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { createApp, createCoreContext, startServer } from '@coupons/api';
import { createCouponClient, unwrap } from '@coupons/client';
import { createDynamoDbClient, ensureTable } from '@coupons/core';
import { consoleBuildForTests } from '../scripts/lib/console-build.ts';
import { startConsoleServer } from '../scripts/lib/console-server.ts';
import { freePort, startDynamoDbLocal } from '../scripts/lib/dynamodb-local.ts';
import { mintToken } from '../scripts/lib/tokens.ts';
import { option } from './lib/options.ts';

const BOOKS = option('books', 'BENCH_BOOKS', 25);
const RUNS = option('runs', 'BENCH_RUNS', 10);
const BUDGET = { firstLoadJsGzipBytes: 200 * 1024, usableMs: 1000 };
const SECRET = 'bench-console-secret-0123456789';

const dist = await consoleBuildForTests();

// --- weight -------------------------------------------------------------------------------------
const html = await readFile(join(dist, 'index.html'), 'utf8');
const named = [...html.matchAll(/<(script|link)\b[^>]*?(?:src|href)="\.\/([^"]+)"[^>]*>/g)].map((m) => ({ tag: m[0], file: m[2]! }));
const firstLoad = await Promise.all(
  named
    .filter(({ tag, file }) => file.endsWith('.js') || (file.endsWith('.css') && /rel="stylesheet"/.test(tag)))
    .map(async ({ file }) => {
      const bytes = await readFile(join(dist, file));
      return { file, bytes: bytes.length, gzipBytes: gzipSync(bytes).length };
    }),
);
const sum = (files: typeof firstLoad, ext: string, key: 'bytes' | 'gzipBytes') => files.filter((f) => f.file.endsWith(ext)).reduce((n, f) => n + f[key], 0);

// --- speed --------------------------------------------------------------------------------------
const ddb = await startDynamoDbLocal();
const env = { DYNAMODB_ENDPOINT: ddb.endpoint, TABLE_NAME: 'bench-console', AWS_REGION: 'us-east-1' };
const core = createCoreContext(env, {}, { logLines: { push: () => undefined }, writeEmf: () => undefined });
await ensureTable(createDynamoDbClient(core.config), env.TABLE_NAME);
const consolePort = await freePort();
const server = await startServer(createApp({ core, auth: { hs256Secret: SECRET }, corsOrigins: [`http://127.0.0.1:${consolePort}`] }), 0, '127.0.0.1');
const apiUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
const token = await mintToken(SECRET, { sub: 'bench-admin', tenant: 'bench', role: 'admin' });
const client = createCouponClient(apiUrl, { token });
for (let i = 0; i < BOOKS; i++) {
  const book = await unwrap(client.coupons.$post({ json: { name: `Bench book ${i + 1}` } }));
  await unwrap(client.coupons.codes.generate.$post({ json: { bookId: book.id, count: 100, pattern: 'BN-******' } }));
}
const site = await startConsoleServer({ distDir: dist, port: consolePort, config: { apiUrl, devSignIn: true } });

const { chromium } = await import('playwright-core');
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });

/**
 * ms from navigation start until the books table lists every book of the page (names, links,
 * actions: the page can be used), and until every row shows its counts too (each book's stats
 * are a request of their own, since the list carries none).
 */
async function usable(page: import('playwright-core').Page): Promise<{ listed: number; counted: number }> {
  const when = (counted: boolean) =>
    page
      .waitForFunction(
        ([books, counted]) => {
          const doc = (globalThis as unknown as { document: { querySelectorAll(s: string): ArrayLike<{ textContent: string | null }> } }).document;
          const cells = Array.from(doc.querySelectorAll('table[aria-label="Books"] tbody tr td:nth-of-type(1)'));
          return cells.length === books && (!counted || cells.every((c) => /^\d+$/.test(c.textContent?.trim() ?? ''))) ? performance.now() : false;
        },
        [Math.min(BOOKS, 25), counted] as const,
        { polling: 'raf', timeout: 30_000 },
      )
      .then((h) => h.jsonValue() as Promise<number>);
  const [listed, counted] = await Promise.all([when(false), when(true)]);
  return { listed, counted };
}

const cold: { listed: number; counted: number }[] = [];
const warm: { listed: number; counted: number }[] = [];
for (let i = 0; i < RUNS; i++) {
  // A fresh profile: nothing cached. Signed in as the link would (the token kept for the tab).
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  await page.addInitScript((t) => sessionStorage.setItem('coupons.console.token', t), token);
  await page.goto(`${site.url}#/`);
  cold.push(await usable(page));
  if (process.env.BENCH_TRACE) console.error(JSON.stringify(await page.evaluate(() => performance.getEntriesByType('resource').map((e) => [e.name.replace(/^https?:\/\/[^/]+/, '').slice(0, 40), Math.round(e.startTime), Math.round((e as PerformanceResourceTiming).responseEnd)]))));
  await page.reload();
  warm.push(await usable(page));
  await context.close();
}

await browser.close();
await site.close();
server.close();
await ddb.stop();

const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const at = (q: number) => Math.round(s[Math.min(s.length - 1, Math.floor(q * s.length))]!);
  return { median: at(0.5), p90: at(0.9), min: Math.round(s[0]!), max: Math.round(s[s.length - 1]!) };
};
const jsGzip = sum(firstLoad, '.js', 'gzipBytes');
const result = {
  bench: 'console',
  node: process.version,
  firstLoad: {
    files: firstLoad,
    jsBytes: sum(firstLoad, '.js', 'bytes'),
    jsGzipBytes: jsGzip,
    cssBytes: sum(firstLoad, '.css', 'bytes'),
    cssGzipBytes: sum(firstLoad, '.css', 'gzipBytes'),
  },
  booksPage: {
    books: BOOKS,
    runs: RUNS,
    listedMs: { cold: stats(cold.map((r) => r.listed)), warm: stats(warm.map((r) => r.listed)) },
    countedMs: { cold: stats(cold.map((r) => r.counted)), warm: stats(warm.map((r) => r.counted)) },
  },
  loadAverage: loadavg().map((l) => Math.round(l * 10) / 10),
  budget: BUDGET,
  withinBudget: { firstLoadJs: jsGzip < BUDGET.firstLoadJsGzipBytes, usableCold: stats(cold.map((r) => r.listed)).median < BUDGET.usableMs },
};
console.log(JSON.stringify(result, null, 2));
