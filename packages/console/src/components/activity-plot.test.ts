import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { build } from 'esbuild';
import type { Browser, Page } from 'playwright-core';
import type { Activity } from '../api/types.ts';

// The activity chart drawn in Chromium from fixed data: the component alone, bundled here with
// esbuild (Preact, uPlot and its CSS, as the console ships them), no API involved. What a person
// sees (lines on the canvas, the totals, a bucket under the pointer) and what a screen reader
// gets (the drawing's name in words, the table of every bucket).

const CHROMIUM = '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);

const activity: Activity = {
  interval: 'hour',
  buckets: Array.from({ length: 12 }, (_, i) => ({
    start: new Date(Date.UTC(2026, 11, 1, 8 + i)).toISOString(),
    assigned: i === 5 ? 40 : i,
    locked: Math.floor(i / 2),
    unlocked: i % 3 === 0 ? 1 : 0,
    redeemed: i === 5 ? 30 : Math.floor(i / 3),
    rolledBack: i === 7 ? 2 : 0,
  })),
};
const quiet: Activity = {
  interval: 'day',
  buckets: [1, 2, 3].map((d) => ({ start: `2026-12-0${d}T00:00:00.000Z`, assigned: 0, locked: 0, unlocked: 0, redeemed: 0, rolledBack: 0 })),
};

let browser: Browser;
let page: Page;

/** A page holding the chart of `data`, built from the component's own source. */
async function pageWith(data: Activity): Promise<Page> {
  const out = await build({
    stdin: {
      contents: `import { render } from 'preact'; import 'uplot/dist/uPlot.min.css'; import { ActivityPlot } from './activity-plot.tsx';
        render(<ActivityPlot activity={${JSON.stringify(data)}} />, document.getElementById('root'));`,
      loader: 'tsx',
      resolveDir: import.meta.dirname,
    },
    bundle: true,
    write: false,
    outdir: join(import.meta.dirname, 'out'),
    format: 'esm',
    jsx: 'automatic',
    jsxImportSource: 'preact',
    logLevel: 'silent',
  });
  const js = out.outputFiles.find((f) => f.path.endsWith('.js'))!.text;
  const css = out.outputFiles.find((f) => f.path.endsWith('.css'))!.text;
  const p = await browser.newPage({ viewport: { width: 900, height: 700 } });
  await p.setContent(`<!doctype html><html lang="en"><head><style>${css}</style></head><body><main style="width:800px"><div id="root"></div></main></body></html>`);
  await p.addScriptTag({ content: js, type: 'module' });
  await p.getByRole('img', { name: /^Activity/ }).waitFor();
  return p;
}

beforeAll(async () => {
  if (!hasChromium) return;
  const { chromium } = await import('playwright-core');
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
  page = await pageWith(activity);
});
afterAll(() => browser?.close());

/** Pixels of the chart's canvas close to `hex`. */
const pixelsOf = (p: Page, hex: string) =>
  p.evaluate((hex) => {
    const canvas = (globalThis as unknown as { document: { querySelector(s: string): { width: number; height: number; getContext(t: '2d'): { getImageData(...a: number[]): { data: Uint8ClampedArray } } } } }).document.querySelector('.plot canvas');
    const [r, g, b] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
    const { data } = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
    let n = 0;
    for (let i = 0; i < data.length; i += 4) if (Math.abs(data[i]! - r!) < 24 && Math.abs(data[i + 1]! - g!) < 24 && Math.abs(data[i + 2]! - b!) < 24 && data[i + 3]! > 200) n++;
    return n;
  }, hex);

describe.skipIf(!hasChromium)('ActivityPlot with fixed data, in Chromium', () => {
  it('names the drawing with its span and totals, and lists the totals', async () => {
    await expect(page.getByRole('img', { name: /^Activity/ }).getAttribute('aria-label')).resolves.toBe(
      'Activity per hour, 2026-12-01 08:00 to 2026-12-01 20:00 UTC: 101 assigned, 30 locked, 4 unlocked, 47 redeemed, 2 rolled back.',
    );
    await expect(page.getByRole('figure', { name: 'Activity per hour (UTC)' }).count()).resolves.toBe(1);
    const totals = await page.getByRole('list', { name: 'Totals' }).getByRole('listitem').allTextContents();
    expect(totals.slice(0, 5)).toEqual(['Assigned 101', 'Locked 30', 'Unlocked 4', 'Redeemed 47', 'Rolled back 2']);
  });

  it('draws every series that has counts in its own colour on the canvas', async () => {
    for (const [series, colour] of [['assigned', '#0172ad'], ['locked', '#9236a4'], ['redeemed', '#2f7d32'], ['rolled back', '#c52f21']]) {
      expect(await pixelsOf(page, colour!), series).toBeGreaterThan(50);
    }
  });

  it("shows one bucket's counts under the pointer", async () => {
    const box = (await page.locator('.plot .u-over').boundingBox())!;
    // The sixth of twelve buckets (13:00), where assigned peaks at 40.
    await page.mouse.move(box.x + (box.width * 5) / 11, box.y + box.height / 2);
    // The list says it holds one bucket now, not the totals.
    const items = page.getByRole('list', { name: 'Bucket starting 2026-12-01 13:00' }).getByRole('listitem');
    await expect.poll(() => items.first().textContent()).toBe('Assigned 40');
    expect(await items.nth(3).textContent()).toBe('Redeemed 30');
    expect(await page.locator('ul.legend li').last().textContent()).toBe('2026-12-01 13:00');
  });

  it('holds every bucket in a table, oldest first', async () => {
    await page.getByText('Activity as a table').click();
    const rows = await page.getByRole('table', { name: 'Activity per hour' }).getByRole('row').allTextContents();
    expect(rows).toHaveLength(13);
    expect(rows[1]).toBe('2026-12-01 08:0000100');
    expect(rows[6]).toBe('2026-12-01 13:004020300');
  });

  it('draws a quiet day as zeros', async () => {
    const p = await pageWith(quiet);
    await expect(p.getByRole('img', { name: /^Activity/ }).getAttribute('aria-label')).resolves.toBe(
      'Activity per day, 2026-12-01 00:00 to 2026-12-04 00:00 UTC: 0 assigned, 0 locked, 0 unlocked, 0 redeemed, 0 rolled back.',
    );
    expect((await p.getByRole('list', { name: 'Totals' }).getByRole('listitem').allTextContents()).slice(0, 5)).toEqual([
      'Assigned 0',
      'Locked 0',
      'Unlocked 0',
      'Redeemed 0',
      'Rolled back 0',
    ]);
    // Every line lies on the baseline; the last drawn (rolled back) covers the others.
    expect(await pixelsOf(p, '#c52f21')).toBeGreaterThan(50);
    await p.close();
  });
});
