import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unwrap } from '@coupons/client';
import type { ConsoleServer } from '../scripts/lib/console-server.ts';
import { bookWithCodes, createBook, service, uniqueCode, type TestApi } from './support/harness.ts';
import { expectAccessible, goTo, hasChromium, poll, readTable, startConsoleSession, type ConsoleSession, type Tab } from './support/console.ts';

// A book's codes in the console: a file uploaded in requests of at most 5,000 codes, codes
// generated in the request and as a job, and the list filtered by status and paged. Chromium
// against the real API on DynamoDB Local (no change stream: nothing here reads histories).

const TENANT = 'console-codes';
let session: ConsoleSession | undefined;
let api: TestApi;
let site: ConsoleServer;
let tab: Tab;

beforeAll(async () => {
  if (!hasChromium) return;
  session = await startConsoleSession(TENANT);
  ({ api, site, tab } = session);
});
afterAll(() => session?.close());

const stockOf = async () => (await readTable(tab.page.getByRole('table', { name: 'Stock' })))[0];

describe.skipIf(!hasChromium)("the console: a book's codes", () => {
  let bookId: string;
  let codes: string[];

  it('uploads a CSV file in requests of at most 5,000 codes, with progress, and says which codes were not added', async () => {
    const { page } = tab;
    bookId = (await createBook(api, { name: 'Console uploads', codePattern: 'UP-****-****' }, TENANT)).id;
    codes = Array.from({ length: 5000 }, () => uniqueCode('UP'));
    // A header, 5,000 new codes, one that is not a code, and one the file already had.
    const csv = ['code,note', ...codes.map((c, i) => `${c},row ${i}`), 'no!,bad', `${codes[0]},again`].join('\r\n');
    await goTo(tab, site.url, `/books/${bookId}`);
    await page.getByRole('heading', { level: 1, name: 'Console uploads' }).waitFor();
    await page.getByLabel('File of codes').setInputFiles({ name: 'codes.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
    await page.getByRole('button', { name: 'Upload' }).click();
    const done = page.getByText(/^Uploaded: /);
    await done.waitFor({ timeout: 60_000 });
    expect(await done.textContent()).toBe('Uploaded: 5002 of 5002 codes sent, request 2 of 2; added 5000, duplicates 1, invalid 1.');
    await expect(page.getByRole('progressbar', { name: 'Upload progress' }).getAttribute('value')).resolves.toBe('5002');

    // Each request's answer accounts for every code it carried: 5,000, then 2.
    const uploads = tab.requests.filter((r) => r.method() === 'POST' && r.url() === `${api.base}/coupons/codes`);
    const answers = await Promise.all(uploads.map(async (r) => (await (await r.response())!.json()) as { inserted: number; duplicates: string[]; invalid: unknown[] }));
    expect(answers.map((a) => a.inserted + a.duplicates.length + a.invalid.length)).toEqual([5000, 2]);
    // The typed client, in the browser, gives every POST its own idempotency key.
    const keys = uploads.map((r) => r.headers()['idempotency-key']);
    expect(new Set(keys).size).toBe(2);
    for (const k of keys) expect(k).toMatch(/^[0-9a-f-]{36}$/);

    await page.getByText('Codes not added').click();
    await expect(page.getByText(`${codes[0]}: already exists`).isVisible()).resolves.toBe(true);
    await expect(page.getByText('no!:').isVisible()).resolves.toBe(true);
    await poll(stockOf).toMatchObject({ Codes: '5000', Available: '5000' });
    await expectAccessible(page, 'a book after an upload');
  });

  it('generates codes in the request, and past 10,000 as a job whose progress it follows', async () => {
    const { page } = tab;
    const count = page.getByRole('spinbutton', { name: 'Number of codes' });
    await count.fill('20');
    await page.getByRole('button', { name: 'Generate' }).click();
    await page.getByText('Generated 20 of 20 codes.').waitFor();
    await page.getByText('The new codes').click();
    const listed = (await page.getByRole('textbox', { name: 'The new codes' }).inputValue()).split('\n');
    expect(listed).toHaveLength(20);
    for (const c of listed) expect(c).toMatch(/^UP-[A-Z0-9]{4}-[A-Z0-9]{4}$/);

    await count.fill('10001');
    await page.getByRole('button', { name: 'Generate' }).click();
    const finished = page.getByText(/^Generated 10001 of 10001 codes \(job /);
    await finished.waitFor({ timeout: 90_000 });
    await expect(page.getByRole('progressbar', { name: 'Generation progress' }).getAttribute('value')).resolves.toBe('10001');
    expect(tab.requests.filter((r) => r.method() === 'GET' && r.url().startsWith(`${api.base}/jobs/`)).length).toBeGreaterThan(0);
    await poll(stockOf).toMatchObject({ Codes: '15021', Available: '15021' });
  });

  it('lists the codes by status, page by page', async () => {
    const { page } = tab;
    const listed = await bookWithCodes(api, 60, { name: 'Console listing' }, TENANT);
    const svc = api.client(await service(TENANT));
    const [first, second] = [listed.codes[10]!, listed.codes[11]!];
    await unwrap(svc.coupons.assign[':code'].$post({ param: { code: first }, json: { userId: 'codes-u1' } }));
    await unwrap(svc.coupons.assign[':code'].$post({ param: { code: second }, json: { userId: 'codes-u2' } }));
    await unwrap(svc.coupons.redeem[':code'].$post({ param: { code: second }, json: { userId: 'codes-u2' } }));

    await goTo(tab, site.url, `/books/${listed.book.id}`);
    await page.getByRole('heading', { level: 1, name: 'Console listing' }).waitFor();
    const table = page.getByRole('table', { name: 'Codes' });
    const status = page.getByRole('combobox', { name: 'Status' });
    await status.selectOption('Redeemed');
    await poll(async () => (await readTable(table)).map((r) => [r.Code, r.Status, r.Holder, r.Redemptions])).toEqual([[second, 'redeemed', 'codes-u2', '1 of 1']]);
    expect(tab.requests.filter((r) => r.url().includes('status=redeemed')).length).toBe(1);
    await status.selectOption('Assigned');
    await poll(async () => (await readTable(table)).map((r) => [r.Code, r.Status, r.Holder])).toEqual([[first, 'assigned', 'codes-u1']]);

    await status.selectOption('All');
    await poll(async () => (await readTable(table)).length).toBe(25);
    const pageOne = (await readTable(table)).map((r) => r.Code);
    const pager = page.getByRole('navigation', { name: 'Codes pages' });
    await expect(pager.getByRole('button', { name: 'Previous page' }).isDisabled()).resolves.toBe(true);
    await pager.getByRole('button', { name: 'Next page' }).click();
    await pager.getByText('Page 2').waitFor();
    await expectAccessible(page, 'a page of codes');
    await poll(async () => (await readTable(table)).map((r) => r.Code)).not.toEqual(pageOne);
    const pageTwo = (await readTable(table)).map((r) => r.Code);
    expect(pageTwo.filter((c) => pageOne.includes(c))).toEqual([]);
    await pager.getByRole('button', { name: 'Previous page' }).click();
    await poll(async () => (await readTable(table)).map((r) => r.Code)).toEqual(pageOne);
    await table.getByRole('link', { name: pageOne[0]! }).click();
    await page.getByRole('heading', { level: 1, name: pageOne[0]! }).waitFor();
  });

  it('raised no error in the page', () => {
    expect(tab.errors).toEqual([]);
  });
});
