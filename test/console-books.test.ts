import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unwrap } from '@coupons/client';
import type { ConsoleServer } from '../scripts/lib/console-server.ts';
import { admin, bookWithCodes, service, type TestApi } from './support/harness.ts';
import { expectAccessible, goTo, hasChromium, poll, readTable, startConsoleSession, type ConsoleSession, type Tab } from './support/console.ts';

// The books, a book and a code in the console, driven in Chromium as a person would (by role
// and accessible name), against the real API on DynamoDB Local with its change stream followed,
// so histories fill in as they do under `npm start`.

const TENANT = 'console-books';
let session: ConsoleSession | undefined;
let api: TestApi;
let site: ConsoleServer;
let tab: Tab;

beforeAll(async () => {
  if (!hasChromium) return;
  session = await startConsoleSession(TENANT, { follow: true });
  ({ api, site, tab } = session);
});
afterAll(() => session?.close());

const asAdmin = async () => api.client(await admin(TENANT));
const asService = async () => api.client(await service(TENANT));

describe.skipIf(!hasChromium)('the console: books, a book, a code', () => {
  it("signs in with npm start's link, keeps the token out of every URL, and shows the main navigation", async () => {
    const { page } = tab;
    const token = await admin(TENANT);
    expect(page.url()).not.toContain(token);
    expect(tab.requests.filter((r) => r.url().includes(token))).toEqual([]);
    const nav = page.getByRole('navigation', { name: 'Main' });
    for (const name of ['Books', 'Webhooks', 'API keys']) await expect(nav.getByRole('link', { name, exact: true }).isVisible()).resolves.toBe(true);
    await expect(page.getByText('admin-1').first().isVisible()).resolves.toBe(true);
  });

  it('creates a book from the books page, lists it with its counts as plain numbers, and links to its page', async () => {
    const { page } = tab;
    await goTo(tab, site.url, '/');
    await page.getByRole('button', { name: 'Create book' }).click();
    const dialog = page.getByRole('dialog', { name: 'Create a book' });
    await dialog.getByRole('textbox', { name: 'Name' }).fill('Console winter sale');
    await dialog.getByRole('spinbutton', { name: 'Codes per user' }).fill('2');
    await dialog.getByRole('button', { name: 'Create book' }).click();
    await page.getByRole('heading', { level: 1, name: 'Console winter sale' }).waitFor();
    const created = (await unwrap((await asAdmin()).coupons.$get({ query: { limit: '100' } }))).items.find((b) => b.name === 'Console winter sale');
    expect(created).toMatchObject({ maxCodesPerUser: 2, status: 'active' });

    // A second book with codes, two of them claimed and one redeemed, then the list.
    const { book } = await bookWithCodes(api, 5, { name: 'Console spring sale' }, TENANT);
    const svc = await asService();
    const claimed = await unwrap(svc.coupons.assign.$post({ json: { bookId: book.id, userId: 'list-u1' } }));
    await unwrap(svc.coupons.assign.$post({ json: { bookId: book.id, userId: 'list-u2' } }));
    await unwrap(svc.coupons.redeem[':code'].$post({ param: { code: claimed.code }, json: { userId: 'list-u1' } }));
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Books' }).click();
    const table = page.getByRole('table', { name: 'Books' });
    for (const header of ['Name', 'Available', 'Assigned', 'Redeemed', 'Status']) await table.getByRole('columnheader', { name: header }).waitFor();
    await poll(async () => (await readTable(table)).find((r) => r.Name === 'Console spring sale')).toEqual({
      Name: 'Console spring sale',
      Available: '3',
      Assigned: '2',
      Redeemed: '1',
      Status: 'active',
    });
    await expectAccessible(page, 'the books page');
    await table.getByRole('link', { name: 'Console spring sale' }).click();
    await page.getByRole('heading', { level: 1, name: 'Console spring sale' }).waitFor();
  });

  it("shows the API's own message, field by field, when a book is refused", async () => {
    const { page } = tab;
    await goTo(tab, site.url, '/');
    await page.getByRole('button', { name: 'Create book' }).click();
    const dialog = page.getByRole('dialog', { name: 'Create a book' });
    await dialog.getByRole('textbox', { name: 'Name' }).fill('Refused book');
    await dialog.getByRole('textbox', { name: 'Code pattern' }).fill('AB');
    await dialog.getByRole('button', { name: 'Create book' }).click();
    const alert = dialog.getByRole('alert');
    await alert.waitFor();
    expect(await alert.textContent()).toMatch(/The book was not created\. Invalid codePattern\..*VALIDATION_FAILED.*codePattern: Too small/);
    await expectAccessible(page, 'the create-book dialog with an error');
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await expect(dialog.count()).resolves.toBe(0);
  });

  it("a book's stock updates by itself; Pause and Resume send If-Match; a 412 says what changed and shows the current book", async () => {
    const { page } = tab;
    const { book } = await bookWithCodes(api, 4, { name: 'Console flash sale' }, TENANT);
    await goTo(tab, site.url, `/books/${book.id}`);
    await page.getByRole('heading', { level: 1, name: 'Console flash sale' }).waitFor();
    const stock = page.getByRole('table', { name: 'Stock' });
    await poll(async () => (await readTable(stock))[0]).toEqual({ Codes: '4', Available: '4', Assigned: '0', Redeemed: '0' });
    await page.getByRole('img', { name: /Activity/ }).waitFor();

    // A claim elsewhere: the page shows it without being reloaded.
    await unwrap((await asService()).coupons.assign.$post({ json: { bookId: book.id, userId: 'stock-u1' } }));
    await poll(async () => (await readTable(stock))[0]).toEqual({ Codes: '4', Available: '3', Assigned: '1', Redeemed: '0' });

    await page.getByRole('button', { name: 'Pause' }).click();
    await page.getByRole('button', { name: 'Resume' }).waitFor();
    const patch = tab.requests.filter((r) => r.method() === 'PATCH' && r.url().endsWith(`/coupons/${book.id}`)).at(-1)!;
    expect(patch.headers()['if-match']).toMatch(/^"\d+"$/);
    expect((await unwrap((await asAdmin()).coupons[':bookId'].$get({ param: { bookId: book.id } }))).status).toBe('paused');
    await expectAccessible(page, "a book's page");

    // Someone renames the book just before this page's Resume arrives: the API refuses it (412).
    await page.route(`**/coupons/${book.id}`, async (route) => {
      if (route.request().method() !== 'PATCH') return route.fallback();
      await unwrap((await asAdmin()).coupons[':bookId'].$patch({ param: { bookId: book.id }, header: {}, json: { name: 'Console flash sale, renamed' } }));
      await route.continue();
    });
    await page.getByRole('button', { name: 'Resume' }).click();
    const alert = page.getByRole('alert').filter({ hasText: 'Nothing was changed' });
    await alert.waitFor();
    expect(await alert.getByRole('list', { name: 'What changed' }).textContent()).toContain('Name: Console flash sale → Console flash sale, renamed');
    await page.unroute(`**/coupons/${book.id}`);
    await page.getByRole('heading', { level: 1, name: 'Console flash sale, renamed' }).waitFor();
    expect(tab.refusals.some((r) => r.startsWith(`PATCH ${api.base}/coupons/${book.id} 412`))).toBe(true);
    expect((await unwrap((await asAdmin()).coupons[':bookId'].$get({ param: { bookId: book.id } }))).status).toBe('paused');
    // Decided again on the current book, the Resume goes through.
    await page.getByRole('button', { name: 'Resume' }).click();
    await page.getByRole('button', { name: 'Pause' }).waitFor();
    expect((await unwrap((await asAdmin()).coupons[':bookId'].$get({ param: { bookId: book.id } }))).status).toBe('active');
  });

  it("a book's activity chart shows the stream's counts as plain numbers, reads them again by itself, per minute, hour and day", async () => {
    const { page } = tab;
    const { book } = await bookWithCodes(api, 6, { name: 'Console activity' }, TENANT);
    await goTo(tab, site.url, `/books/${book.id}`);
    await page.getByRole('heading', { level: 1, name: 'Console activity' }).waitFor();
    const chart = page.getByRole('region', { name: 'Activity' });
    await chart.getByRole('img', { name: /^Activity per hour/ }).waitFor();
    await chart.getByRole('radio', { name: 'Minute' }).check();
    await chart.getByRole('img', { name: /^Activity per minute/ }).waitFor();
    // The totals under the drawing, "Assigned 3", as numbers by series.
    const totals = async () =>
      Object.fromEntries(
        (await chart.getByRole('list', { name: 'Totals' }).getByRole('listitem').allTextContents())
          .map((t) => /^(.+) (\d+)$/.exec(t))
          .filter((m) => m !== null)
          .map((m) => [m[1], Number(m[2])]),
      );
    expect(await totals()).toEqual({ Assigned: 0, Locked: 0, Unlocked: 0, Redeemed: 0, 'Rolled back': 0 });

    // With the page open: three claims (one holding a lock), a lock and its release, two
    // redemptions, one of them rolled back. The chart reads them again without being told to.
    const svc = await asService();
    const [first, held, third] = [
      await unwrap(svc.coupons.assign.$post({ json: { bookId: book.id, userId: 'act-u1' } })),
      await unwrap(svc.coupons.assign.$post({ json: { bookId: book.id, userId: 'act-u2', lock: true } })),
      await unwrap(svc.coupons.assign.$post({ json: { bookId: book.id, userId: 'act-u3' } })),
    ];
    await unwrap(svc.coupons.lock[':code'].$post({ param: { code: first.code }, json: { userId: 'act-u1' } }));
    await unwrap(svc.coupons.unlock[':code'].$post({ param: { code: first.code }, json: { userId: 'act-u1' } }));
    await unwrap(svc.coupons.redeem[':code'].$post({ param: { code: held.code }, json: { userId: 'act-u2', lockId: held.lockId } }));
    const redeemed = await unwrap(svc.coupons.redeem[':code'].$post({ param: { code: third.code }, json: { userId: 'act-u3' } }));
    await unwrap((await asAdmin()).redemptions[':redemptionId'].rollback.$post({ param: { redemptionId: redeemed.redemptionId }, json: { reason: 'cancelled' } }));
    // The claim with a lock is two changes, assigned then locked: two locks in all.
    const expected = { Assigned: 3, Locked: 2, Unlocked: 1, Redeemed: 2, 'Rolled back': 1 };
    await poll(totals).toEqual(expected);
    await expect(chart.getByRole('img', { name: /^Activity/ }).getAttribute('aria-label')).resolves.toMatch(
      /^Activity per minute, .* UTC: 3 assigned, 2 locked, 1 unlocked, 2 redeemed, 1 rolled back\.$/,
    );

    // The same numbers bucket by bucket in the table, and for every interval: all of it happened in this minute, hour and day.
    const buckets = { minute: 60, hour: 48, day: 30 };
    for (const [interval, label] of [['minute', 'Minute'], ['hour', 'Hour'], ['day', 'Day']] as const) {
      await chart.getByRole('radio', { name: label }).check();
      await chart.getByRole('img', { name: new RegExp(`^Activity per ${interval}`) }).waitFor();
      expect(await totals(), interval).toEqual(expected);
      const asked = tab.requests.filter((r) => r.url().startsWith(`${api.base}/coupons/${book.id}/activity?`)).at(-1)!;
      expect(new URL(asked.url()).searchParams.get('interval')).toBe(interval);
      const details = chart.getByRole('group').filter({ hasText: 'Activity as a table' });
      if (!(await details.evaluate((d) => (d as unknown as { open: boolean }).open))) await chart.getByText('Activity as a table').click();
      const rows = await readTable(chart.getByRole('table', { name: `Activity per ${interval}` }));
      expect(rows, interval).toHaveLength(buckets[interval]);
      const busy = rows.filter((r) => r.Assigned !== '0' || r.Redeemed !== '0' || r['Rolled back'] !== '0');
      expect(busy.length, interval).toBeGreaterThanOrEqual(1);
      const sum = (series: string) => rows.reduce((n, r) => n + Number(r[series]), 0);
      expect(Object.fromEntries(Object.keys(expected).map((s) => [s, sum(s)])), interval).toEqual(expected);
    }
    await expectAccessible(page, "a book's page with its activity");
    expect(tab.refusals.filter((r) => r.includes('/activity'))).toEqual([]);
  });

  it("finds a code by search, shows its history with the events' names, and rolls a redemption back with a reason", async () => {
    const { page } = tab;
    const { book, codes } = await bookWithCodes(api, 3, { name: 'Console returns' }, TENANT);
    const svc = await asService();
    const code = codes[1]!;
    await unwrap(svc.coupons.assign[':code'].$post({ param: { code }, json: { userId: 'returns-u1' } }));
    await unwrap(svc.coupons.redeem[':code'].$post({ param: { code }, json: { userId: 'returns-u1', orderId: 'order-77' } }));

    await goTo(tab, site.url, `/books/${book.id}`);
    const search = page.getByRole('searchbox', { name: 'Search codes' });
    await search.fill('NO-SUCH-CODE-1');
    await search.press('Enter');
    const notFound = page.getByRole('search').getByRole('alert');
    await notFound.waitFor();
    expect(await notFound.textContent()).toContain('No code NO-SUCH-CODE-1.');
    expect(await notFound.textContent()).toContain('CODE_NOT_FOUND');

    await search.fill(code.toLowerCase());
    await search.press('Enter');
    await page.getByRole('heading', { level: 1, name: code }).waitFor();
    const history = page.getByRole('table', { name: 'History' });
    await poll(async () => (await readTable(history)).map((r) => r.Event)).toEqual(['Assigned', 'Redeemed']);
    expect((await readTable(history))[1]).toMatchObject({ By: 'svc-1', User: 'returns-u1', Order: 'order-77' });

    await page.getByRole('button', { name: 'Roll back' }).click();
    const dialog = page.getByRole('dialog', { name: 'Roll back this redemption?' });
    await dialog.getByRole('textbox', { name: 'Reason' }).fill('order-77 cancelled');
    await expectAccessible(page, 'the roll-back dialog');
    await dialog.getByRole('button', { name: 'Confirm' }).click();
    await page.getByRole('status').filter({ hasText: 'rolled back: 0 of 1 redemptions used now' }).waitFor();
    await poll(async () => (await readTable(history)).map((r) => r.Event)).toEqual(['Assigned', 'Redeemed', 'Rolled back']);
    expect((await readTable(history))[2]).toMatchObject({ Reason: 'order-77 cancelled', By: 'admin-1' });
    // Rolled back once: no second button for that redemption.
    await expect(page.getByRole('button', { name: 'Roll back' }).count()).resolves.toBe(0);
    const view = await unwrap((await asAdmin()).coupons.codes[':code'].$get({ param: { code }, query: {} }));
    expect(view).toMatchObject({ status: 'active', redemptionCount: 0 });
    await expectAccessible(page, "a code's page");
  });

  it('raised no error in the page and asked nothing of any other origin', () => {
    expect(tab.errors).toEqual([]);
    const origins = new Set(tab.requests.map((r) => new URL(r.url()).origin));
    expect([...origins].sort()).toEqual([api.base, new URL(site.url).origin].sort());
  });
});
