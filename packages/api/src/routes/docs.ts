import { Hono } from 'hono';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Files of swagger-ui-dist the page needs, served by the app itself: the page works offline and behind a firewall. */
// A Map, not an object literal: a path segment such as `constructor` or `__proto__` must find nothing.
const ASSETS = new Map<string, string>([
  ['swagger-ui.css', 'text/css; charset=utf-8'],
  ['swagger-ui-bundle.js', 'text/javascript; charset=utf-8'],
  ['swagger-ui-standalone-preset.js', 'text/javascript; charset=utf-8'],
]);

const PAGE = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Coupon Book Service API</title>
  <link rel="stylesheet" href="/docs/assets/swagger-ui.css">
  <style>body { margin: 0 } .swagger-ui .topbar { display: none }</style>
</head>
<body>
  <div id="docs"></div>
  <script src="/docs/assets/swagger-ui-bundle.js"></script>
  <script src="/docs/assets/swagger-ui-standalone-preset.js"></script>
  <script src="/docs/assets/init.js"></script>
</body>
</html>`;

// Inline scripts would need a CSP exception; a served file does not. validatorUrl: null, or on any
// host but localhost the page loads a badge from validator.swagger.io, telling it where the API is.
const INIT = `window.ui = SwaggerUIBundle({ url: '/openapi.json', dom_id: '#docs', deepLinking: true, presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset], layout: 'StandaloneLayout', tryItOutEnabled: false, validatorUrl: null });`;

/**
 * Where the swagger-ui files are, looked up on first use so a missing copy costs the docs page,
 * never the API's start-up. In order: a `swagger-ui/` folder next to this module (the Lambda
 * bundle from scripts/build-lambda.ts, where import.meta.url is the bundle), one at the Lambda
 * task root (a deployment that copies the files there), then the swagger-ui-dist package (source
 * runs: tsx, vitest, `npm start`).
 */
function findAssetDir(): string | undefined {
  const candidates: (() => string | undefined)[] = [
    () => fileURLToPath(new URL('./swagger-ui/', import.meta.url)),
    () => (process.env.LAMBDA_TASK_ROOT ? join(process.env.LAMBDA_TASK_ROOT, 'swagger-ui') : undefined),
    () => dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json')),
  ];
  for (const candidate of candidates) {
    try {
      const dir = candidate();
      if (dir && existsSync(join(dir, 'swagger-ui-bundle.js'))) return dir;
    } catch {
      // not resolvable from here: try the next place
    }
  }
  return undefined;
}

export function docsRoutes() {
  const app = new Hono();
  let assetDir: string | undefined;
  const cache = new Map<string, Buffer>();

  app.get('/docs', (c) => c.html(PAGE));
  // Browsers ask for it with every page; without a public answer /docs left a 401 in the console.
  app.get('/favicon.ico', (c) => c.body(null, 204, { 'cache-control': 'public, max-age=86400' }));
  app.get('/docs/assets/init.js', (c) => c.body(INIT, 200, { 'content-type': 'text/javascript; charset=utf-8' }));
  app.get('/docs/assets/:file', async (c) => {
    const file = c.req.param('file');
    const type = ASSETS.get(file);
    if (!type) return c.notFound();
    let body = cache.get(file);
    if (!body) {
      assetDir ??= findAssetDir();
      if (!assetDir) return c.notFound();
      body = await readFile(join(assetDir, file));
      cache.set(file, body);
    }
    return c.body(new Uint8Array(body), 200, { 'content-type': type, 'cache-control': 'public, max-age=86400' });
  });
  return app;
}
