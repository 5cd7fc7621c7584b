import { defineConfig, type Plugin } from 'vite';
import { configFromEnv } from './src/deploy-config.ts';

/**
 * A deployment's build (`sst deploy`, infra/console.ts) names the API and the identity provider
 * in CONSOLE_* variables: they become `config.json` beside index.html. A plain build has none;
 * `npm start` serves its own.
 */
function deploymentConfig(): Plugin {
  return {
    name: 'coupons-console-config',
    generateBundle() {
      const config = configFromEnv(process.env);
      if (config) this.emitFile({ type: 'asset', fileName: 'config.json', source: `${JSON.stringify(config, null, 2)}\n` });
    },
    // `sst dev` runs the dev server with the same variables.
    configureServer(server) {
      server.middlewares.use('/config.json', (_req, res) => {
        const config = configFromEnv(process.env);
        res.setHeader('content-type', 'application/json');
        res.setHeader('cache-control', 'no-cache');
        res.statusCode = config ? 200 : 404;
        res.end(config ? JSON.stringify(config) : '{"error":"set CONSOLE_API_URL (and CONSOLE_OIDC_*) to serve config.json"}');
      });
    },
  };
}

export default defineConfig({
  server: { port: 5173, strictPort: true },
  // Relative URLs: the same build works at /console/ (npm start) and at a site's root (AWS).
  base: './',
  plugins: [deploymentConfig()],
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    target: 'es2022',
    outDir: 'dist',
    assetsDir: 'assets',
    emptyOutDir: true,
    // Every browser that runs the console supports module preload.
    modulePreload: { polyfill: false },
    reportCompressedSize: false,
  },
});
