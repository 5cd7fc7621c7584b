import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCouponClient, unwrap } from '@coupons/client';
import type { ConsoleServer } from '../scripts/lib/console-server.ts';
import { admin, bookWithCodes, service, type TestApi } from './support/harness.ts';
import { startReceiver, type Receiver } from './support/webhook-receiver.ts';
import { expectAccessible, goTo, hasChromium, poll, readTable, startConsoleSession, type ConsoleSession, type Tab } from './support/console.ts';

// Webhooks and API keys in the console, in Chromium, against the real API on DynamoDB Local with
// the change stream followed in-process (events, deliveries and their retries, as under
// `npm start`) and a receiver on 127.0.0.1 that verifies every signature. A key made in the
// console is used by a backend (the typed client with `apiKey`), then refused once revoked.

const TENANT = 'console-hooks';
let session: ConsoleSession | undefined;
let api: TestApi;
let receiver: Receiver;
let site: ConsoleServer;
let tab: Tab;

beforeAll(async () => {
  if (!hasChromium) return;
  receiver = await startReceiver();
  session = await startConsoleSession(TENANT, {
    follow: true,
    // One quick retry, so a delivery to a failing receiver ends `failed` within a second.
    env: { WEBHOOK_ALLOW_LOOPBACK: 'true', WEBHOOK_RETRY_SCHEDULE: '0.2', WEBHOOK_POLL_MS: '50', WEBHOOK_TIMEOUT_MS: '2000', WEBHOOK_DELIVERY_SHARDS: '2' },
  });
  ({ api, site, tab } = session);
});
afterAll(async () => {
  await session?.close();
  await receiver?.close();
});

describe.skipIf(!hasChromium)('the console: webhooks and API keys', () => {
  it("adds an endpoint and shows its secret once; a refused URL shows the API's message", async () => {
    const { page } = tab;
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Webhooks' }).click();
    await page.getByRole('heading', { level: 1, name: 'Webhooks' }).waitFor();
    await page.getByRole('button', { name: 'Add endpoint' }).click();
    const dialog = page.getByRole('dialog', { name: 'Add a webhook endpoint' });
    await dialog.getByRole('textbox', { name: 'Endpoint URL' }).fill('ftp://hooks.example.com/x');
    await dialog.getByRole('button', { name: 'Add' }).click();
    await dialog.getByRole('alert').filter({ hasText: 'VALIDATION_FAILED' }).waitFor();
    expect(await dialog.getByRole('alert').textContent()).toContain('an http or https URL');

    const url = `${receiver.url}/hook`;
    await dialog.getByRole('textbox', { name: 'Endpoint URL' }).fill(url);
    await dialog.getByRole('checkbox', { name: 'code.assigned' }).check();
    await expectAccessible(page, 'the add-endpoint dialog');
    await dialog.getByRole('button', { name: 'Add' }).click();
    const secret = await page.getByRole('textbox', { name: 'Signing secret' }).inputValue();
    expect(secret).toMatch(/^whsec_/);
    receiver.trust(secret);
    const endpoints = page.getByRole('table', { name: 'Endpoints' });
    await poll(async () => (await readTable(endpoints)).map((r) => [r.URL, r.Events])).toEqual([[url, 'code.assigned']]);
    await expectAccessible(page, 'the webhooks page');
    await page.getByRole('button', { name: 'I have stored it' }).click();
    await expect(page.getByRole('textbox', { name: 'Signing secret' }).count()).resolves.toBe(0);
  });

  it("lists an endpoint's deliveries by status and resends a failed one", async () => {
    const { page } = tab;
    receiver.answerWith(() => 500);
    const { book } = await bookWithCodes(api, 2, {}, TENANT);
    const claimed = await unwrap(api.client(await service(TENANT)).coupons.assign.$post({ json: { bookId: book.id, userId: 'hooks-u1' } }));
    await page.getByRole('table', { name: 'Endpoints' }).getByRole('link', { name: `${receiver.url}/hook` }).click();
    await page.getByRole('heading', { level: 1, name: `Deliveries to ${receiver.url}/hook` }).waitFor();

    await page.getByRole('combobox', { name: 'Status' }).selectOption('Failed');
    const deliveries = page.getByRole('table', { name: 'Deliveries' });
    await poll(async () => (await deliveries.count()) && (await readTable(deliveries)).map((r) => [r.Event, r.Status, r.Attempts, r['Last answer']])).toEqual([
      ['code.assigned', 'failed', '2', 'HTTP 500'],
    ]);
    expect(tab.requests.some((r) => r.url().includes('/deliveries?') && r.url().includes('status=failed'))).toBe(true);
    await expectAccessible(page, "an endpoint's deliveries");

    receiver.answerWith(() => 200);
    await deliveries.getByRole('button', { name: 'Resend' }).click();
    await page.getByRole('combobox', { name: 'Status' }).selectOption('Delivered');
    await poll(async () => (await deliveries.count()) && (await readTable(deliveries)).map((r) => [r.Event, r.Status])).toEqual([['code.assigned', 'delivered']]);
    const delivered = receiver.delivered().filter((r) => r.body.type === 'code.assigned');
    expect(delivered.map((r) => r.body.data.code)).toEqual([claimed.code]);
    expect(receiver.unverified).toEqual([]);
  });

  it('deletes an endpoint after a confirmation', async () => {
    const { page } = tab;
    await goTo(tab, site.url, '/webhooks');
    await page.getByRole('button', { name: `Delete ${receiver.url}/hook` }).click();
    const dialog = page.getByRole('dialog', { name: 'Delete this endpoint?' });
    await dialog.getByRole('button', { name: 'Confirm' }).click();
    await page.getByText('No endpoints yet.').waitFor();
    expect((await unwrap(api.client(await admin(TENANT)).webhooks.$get({ query: {} }))).items).toEqual([]);
  });

  it("creates an API key and shows it once, lists it without the key, revokes it; a refused name shows the API's message", async () => {
    const { page } = tab;
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'API keys' }).click();
    await page.getByRole('heading', { level: 1, name: 'API keys' }).waitFor();
    await page.getByText('No keys yet.').waitFor();
    await page.getByRole('button', { name: 'Create key' }).click();
    const dialog = page.getByRole('dialog', { name: 'Create an API key' });
    // Spaces pass the browser's `required`; the API refuses the empty name they trim to.
    await dialog.getByRole('textbox', { name: 'Name' }).fill('   ');
    await dialog.getByRole('button', { name: 'Create' }).click();
    const refused = dialog.getByRole('alert');
    await refused.waitFor();
    expect(await refused.textContent()).toMatch(/No key was created\..*VALIDATION_FAILED.*name: Too small/);
    await dialog.getByRole('textbox', { name: 'Name' }).fill('checkout backend');
    await expect(dialog.getByRole('combobox', { name: 'Role' }).inputValue()).resolves.toBe('service');
    await expectAccessible(page, 'the create-key dialog with an error');
    await dialog.getByRole('button', { name: 'Create' }).click();

    const key = await page.getByRole('textbox', { name: 'API key' }).inputValue();
    expect(key).toMatch(/^cbk_console-hooks_/);
    const keys = page.getByRole('table', { name: 'API keys' });
    await poll(async () => (await keys.count()) && (await readTable(keys)).map((r) => [r.Name, r.Role, r['Last used'], r.Revoked])).toEqual([
      ['checkout backend', 'service', 'never', 'active'],
    ]);
    const [row] = await readTable(keys);
    expect(key.startsWith(row!.Key!.replace(/…$/, ''))).toBe(true);
    await expectAccessible(page, 'the API keys page with a new key');

    // A working key: a backend claims a code with it, as the service it was made for.
    const { book } = await bookWithCodes(api, 1, {}, TENANT);
    const backend = createCouponClient(api.base, { apiKey: key, retry: { limit: 0 } });
    const claimed = await unwrap(backend.coupons.assign.$post({ json: { bookId: book.id, userId: 'key-u1' } }));
    expect(claimed.userId).toBe('key-u1');

    // Shown once: gone from the page when dismissed, and from every answer after the first.
    await page.getByRole('button', { name: 'I have stored it' }).click();
    await page.reload();
    await keys.waitFor();
    expect(await page.locator('body').textContent()).not.toContain(key);
    expect(JSON.stringify(await unwrap(api.client(await admin(TENANT))['api-keys'].$get({ query: {} })))).not.toContain(key);

    await keys.getByRole('button', { name: 'Revoke checkout backend' }).click();
    const revoke = page.getByRole('dialog', { name: 'Revoke “checkout backend”?' });
    await expectAccessible(page, 'the revoke-key dialog');
    await revoke.getByRole('button', { name: 'Revoke' }).click();
    // The dialog closes once the API has answered.
    await revoke.waitFor({ state: 'detached' });
    await poll(async () => (await readTable(keys))[0]!.Revoked).not.toBe('active');
    await expect(keys.getByRole('button', { name: 'Revoke checkout backend' }).count()).resolves.toBe(0);
    await expect(unwrap(backend.coupons.assign.$post({ json: { bookId: book.id, userId: 'key-u2' } }))).rejects.toMatchObject({ status: 401 });
  });

  it("pages through the keys by the API's cursor, newest first", async () => {
    const { page } = tab;
    const asAdmin = api.client(await admin(TENANT));
    for (let i = 1; i <= 25; i++) await unwrap(asAdmin['api-keys'].$post({ json: { name: `script ${i}`, role: 'admin' } }));
    await page.reload();
    const keys = page.getByRole('table', { name: 'API keys' });
    const pager = page.getByRole('navigation', { name: 'API keys pages' });
    const names = async () => (await keys.count()) && (await readTable(keys)).map((r) => r.Name);
    // A page of the API may hold fewer than its limit and still have a cursor: read until none.
    await poll(async () => (await names()) || []).toContain('script 25');
    const seen: string[] = [];
    for (let pageNumber = 1; ; pageNumber++) {
      await pager.getByText(`Page ${pageNumber}`).waitFor();
      await poll(async () => ((await names()) || []).some((n) => !seen.includes(n))).toBe(true);
      seen.push(...((await names()) || []));
      const next = pager.getByRole('button', { name: 'Next page' });
      if (await next.isDisabled()) break;
      await next.click();
    }
    expect(seen).toEqual([...Array.from({ length: 25 }, (_, i) => `script ${25 - i}`), 'checkout backend']);
    expect(tab.requests.some((r) => r.url().startsWith(`${api.base}/api-keys?`) && new URL(r.url()).searchParams.has('cursor'))).toBe(true);
  });

  it('raised no error in the page and asked nothing of any other origin', () => {
    expect(tab.errors).toEqual([]);
    expect([...new Set(tab.requests.map((r) => new URL(r.url()).origin))].sort()).toEqual([api.base, new URL(site.url).origin].sort());
  });
});
