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
  <link rel="stylesheet" href="/docs/assets/page.css">
</head>
<body>
  <div id="docs"></div>
  <script src="/docs/assets/swagger-ui-bundle.js"></script>
  <script src="/docs/assets/swagger-ui-standalone-preset.js"></script>
  <script src="/docs/assets/init.js"></script>
</body>
</html>`;

// Inline scripts and styles would need a CSP exception; served files do not. validatorUrl: null, or on any
// host but localhost the page loads a badge from validator.swagger.io, telling it where the API is.
const PAGE_CSS = 'body { margin: 0 } .swagger-ui .topbar { display: none }';
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

/**
 * The one inline style swagger-ui-bundle (swagger-ui-dist 5.35.0) inserts into the page when it
 * starts, allowed by its hash rather than by 'unsafe-inline'. A swagger-ui that inserts another
 * is refused by the browser, and test/docs-page.test.ts, which fails on any CSP violation, says so.
 */
const SWAGGER_UI_INLINE_STYLE = "'sha256-RL3ie0nH+Lzz2YNqQN83mnU0J1ot4QL7b99vMdIX99w='";

/**
 * The page and its files load from this origin only: scripts and styles are files it serves (no
 * inline code but swagger-ui's one style, by hash), swagger-ui draws some icons as data: URIs,
 * and it reads /openapi.json from here. Nothing may frame it, and it posts no form anywhere.
 */
export const DOCS_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  `style-src 'self' ${SWAGGER_UI_INLINE_STYLE}`,
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * The page is public and the same for everyone; it is revalidated (`no-cache`), since a deploy
 * changes the document it shows. Swagger UI's files change only with the swagger-ui-dist package:
 * public for a day. Their names carry no hash, so never `immutable`.
 */
const PAGE_HEADERS = { 'cache-control': 'no-cache', 'content-security-policy': DOCS_CSP };
const ASSET_HEADERS = { 'cache-control': 'public, max-age=86400', 'content-security-policy': DOCS_CSP };

export function docsRoutes() {
  const app = new Hono();
  let assetDir: string | undefined;
  const cache = new Map<string, Buffer>();

  app.get('/docs', (c) => c.html(PAGE, 200, PAGE_HEADERS));
  // Browsers ask for it with every page; without a public answer /docs left a 401 in the console.
  app.get('/favicon.ico', (c) => c.body(null, 204, { 'cache-control': 'public, max-age=86400' }));
  app.get('/docs/assets/init.js', (c) => c.body(INIT, 200, { ...PAGE_HEADERS, 'content-type': 'text/javascript; charset=utf-8' }));
  app.get('/docs/assets/page.css', (c) => c.body(PAGE_CSS, 200, { ...PAGE_HEADERS, 'content-type': 'text/css; charset=utf-8' }));
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
    return c.body(new Uint8Array(body), 200, { ...ASSET_HEADERS, 'content-type': type });
  });
  return app;
}
