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
    apply: 'build',
    generateBundle() {
      const config = configFromEnv(process.env);
      if (config) this.emitFile({ type: 'asset', fileName: 'config.json', source: `${JSON.stringify(config, null, 2)}\n` });
    },
  };
}

export default defineConfig({
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
