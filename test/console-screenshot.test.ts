import { writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { unwrap } from '@coupons/client';
import type { ChangeFollower } from '@coupons/core';
import { followChanges } from '@coupons/api';
import { freePort } from '../scripts/lib/dynamodb-local.ts';
import type { ConsoleServer } from '../scripts/lib/console-server.ts';
import { admin, createBook, service, startTestApi, type TestApi } from './support/harness.ts';
import { hasChromium, launchChromium, openTab, serveConsole, signInWithLink } from './support/console.ts';

// The README's picture of a book's page, made on request only (it takes a few minutes, to spread
// real claims over several minutes of the chart):
//
//   UPDATE_SCREENSHOT=1 npx vitest run test/console-screenshot.test.ts
//
// The chart is the API's own answer (GET /coupons/{bookId}/activity), counted from the stream by
// the follower this test runs, as `npm start` runs it.

const SCREENSHOT = join(dirname(fileURLToPath(import.meta.url)), '..', 'docs', 'console-book.png');
const UPDATE = process.env.UPDATE_SCREENSHOT === '1';
const TENANT = 'console-shot';
let api: TestApi;
let follower: ChangeFollower;
let site: ConsoleServer;
let browser: Browser;

beforeAll(async () => {
  if (!UPDATE || !hasChromium) return;
  const port = await freePort();
  api = await startTestApi('console-shot', {}, { stream: true, corsOrigins: [`http://127.0.0.1:${port}`] });
  follower = followChanges(api.core, { name: 'console-shot', idleMs: 20 });
  [site, browser] = await Promise.all([serveConsole(port, { apiUrl: api.base, devSignIn: true }), launchChromium()]);
});
afterAll(async () => {
  await browser?.close();
  await site?.close();
  await follower?.stop();
  await api?.close();
});

describe.skipIf(!UPDATE || !hasChromium)('docs/console-book.png', () => {
  it('a book in the middle of a sale', { timeout: 600_000 }, async () => {
    const asAdmin = api.client(await admin(TENANT));
    const svc = api.client(await service(TENANT));
    const book = await createBook(
      api,
      { name: 'Black Friday 2026', description: '30% off everything, one code per customer', codePattern: 'BF-****-****', maxCodesPerUser: 1, discount: { type: 'percentage', value: 30 }, lowStockThreshold: 50, validUntil: '2026-12-31T23:59:59.000Z' },
      TENANT,
    );
    await unwrap(asAdmin.coupons.codes.generate.$post({ json: { bookId: book.id, count: 400 } }));
    for (let round = 0; round < 5; round++) {
      for (let i = 0; i < 6 + round * 3; i++) {
        const userId = `shopper-${round}-${i}`;
        const held = await unwrap(svc.coupons.assign.$post({ json: { bookId: book.id, userId, lock: i % 2 === 0 } }));
        if (i % 3 === 0) continue;
        const redeemed = await unwrap(svc.coupons.redeem[':code'].$post({ param: { code: held.code }, json: { userId, lockId: held.lockId, orderId: `order-${round}-${i}` } }));
        if (i % 7 === 1) await unwrap(asAdmin.redemptions[':redemptionId'].rollback.$post({ param: { redemptionId: redeemed.redemptionId }, json: { reason: 'order cancelled' } }));
      }
      if (round < 4) await new Promise((r) => setTimeout(r, 60_000));
    }

    const tab = await openTab(browser);
    const { page } = tab;
    await signInWithLink(tab, site.url, await admin(TENANT));
    await page.goto(`${site.url}#/books/${book.id}`);
    await page.getByRole('heading', { level: 1, name: 'Black Friday 2026' }).waitFor();
    await page.locator('fieldset.segmented label', { hasText: 'Minute' }).click();
    await page.getByRole('img', { name: /Activity per minute/ }).waitFor();
    await page.waitForTimeout(500);
    const png = await page.screenshot({ fullPage: false, type: 'png' });
    expect(png.byteLength).toBeLessThan(400 * 1024);
    await writeFile(SCREENSHOT, png);
  });
});
