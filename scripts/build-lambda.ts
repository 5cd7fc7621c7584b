/**
 * Bundles the Lambda entry (packages/api/src/lambda.ts) into one ES module:
 *
 *   npx tsx scripts/build-lambda.ts [--outdir dist/lambda] [--external-sdk] [--metafile]
 *
 * Output: <outdir>/index.mjs (handler export `handler`), index.mjs.map (external source map, not
 * loaded at run time unless NODE_OPTIONS=--enable-source-maps) and <outdir>/swagger-ui/ with the
 * three swagger-ui-dist files the /docs page serves. routes/docs.ts looks for that folder next to
 * the bundle first, so the zip of <outdir> is self-contained: no node_modules needed.
 *
 * --external-sdk leaves `@aws-sdk/*` (and `@smithy/*`, which only the SDK uses) out of the bundle:
 * the nodejs24.x runtime ships AWS SDK v3. Bundling it (the default) pins the version we tested.
 */
import { build, type Metafile, type Plugin } from 'esbuild';
import { copyFile, mkdir, rm } from 'node:fs/promises';
import { createRequire, isBuiltin } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const LAMBDA_ENTRY = join(ROOT, 'packages/api/src/lambda.ts');
/** Must match ASSETS in packages/api/src/routes/docs.ts. */
export const SWAGGER_UI_FILES = ['swagger-ui.css', 'swagger-ui-bundle.js', 'swagger-ui-standalone-preset.js'] as const;

export interface BuildLambdaOptions {
  outdir?: string;
  /** Leave @aws-sdk/* and @smithy/* to the Lambda runtime. */
  externalSdk?: boolean;
  /** Also write <outdir>/meta.json (esbuild metafile, for https://esbuild.github.io/analyze/). */
  metafile?: boolean;
}

export interface BuildLambdaResult {
  outdir: string;
  bundle: string;
  /** What a cold start loads: the entry and every chunk it imports statically. */
  bytes: number;
  /** Everything emitted, lazily loaded chunks included (what the deployment zip carries, maps aside). */
  totalBytes: number;
  assetsDir: string;
  metafile: Metafile;
}

/** Where swagger-ui-dist lives for the api package (resolved from it, like docs.ts does). */
export function swaggerUiDistDir(): string {
  return dirname(createRequire(join(ROOT, 'packages/api/src/routes/docs.ts')).resolve('swagger-ui-dist/package.json'));
}

/**
 * zod re-exports all of its ~50 error-message locales as `z.locales`, `z.fromJSONSchema` and
 * `z.core.compile` (a schema compiler); being reachable through the namespace objects they survive
 * tree shaking (about 200 KB, 12 KB and 30 KB minified). The service uses the default English
 * messages and none of the others, so the locales index exports `en` alone, and the other two
 * modules export their names as functions that throw, saying they are not in this bundle.
 */
const ZOD_UNUSED: Record<string, string[]> = {
  'classic/from-json-schema.js': ['fromJSONSchema'],
  'core/compile.js': ['compile', 'withParser', 'compileFn'],
};
const zodUnusedApis: Plugin = {
  name: 'zod-unused-apis',
  setup(b) {
    b.onResolve({ filter: /\/locales\/index\.js$/ }, (args) =>
      /[\\/]node_modules[\\/]zod[\\/]/.test(args.importer)
        ? { path: join(dirname(args.importer), args.path), namespace: 'zod-locales' }
        : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'zod-locales' }, (args) => ({
      contents: `export { default as en } from ${JSON.stringify(join(dirname(args.path), 'en.js'))};`,
      loader: 'js',
      resolveDir: dirname(args.path),
    }));
    b.onLoad({ filter: /[\\/]node_modules[\\/]zod[\\/]v4[\\/](classic[\\/]from-json-schema|core[\\/]compile)\.js$/ }, (args) => {
      const names = ZOD_UNUSED[args.path.split(/[\\/]v4[\\/]/).pop()!.replace(/\\/g, '/')] ?? [];
      const stub = (n: string) => `export function ${n}() { throw new Error('zod ${n} is not in this bundle (scripts/build-lambda.ts)'); }`;
      // compile.js also exports a symbol and two error classes the namespace lists: kept as they are.
      const kept = names.includes('compile')
        ? `export const INVALID = Symbol.for("zod.compile.invalid"); export class ZodCompileAsyncError extends Error {} export class ZodCompileUnsupportedError extends Error {}`
        : '';
      return { contents: [...names.map(stub), kept].join('\n'), loader: 'js' };
    });
  },
};

/**
 * Node built-ins imported by ES modules (`import http from 'node:http'`, as Powertools Tracer and
 * the SDK's HTTP handler do) are loaded through `require` instead. An ESM import of a built-in
 * makes Node build a facade of all its exports, and `node:http`'s include lazy getters that load
 * undici: about 30 ms of a cold start for an HTTP client nobody uses. `require` returns the same
 * module object without touching them.
 */
const builtinsThroughRequire: Plugin = {
  name: 'builtins-through-require',
  setup(b) {
    b.onResolve({ filter: /^(node:)?[a-z_/]+$/ }, (args) => {
      const name = args.path.replace(/^node:/, '');
      if (args.kind !== 'import-statement' || !isBuiltin(name)) return undefined;
      return { path: name, namespace: 'builtin-require' };
    });
    b.onLoad({ filter: /.*/, namespace: 'builtin-require' }, (args) => ({
      contents: `module.exports = require(${JSON.stringify(`node:${args.path}`)});`,
      loader: 'js',
    }));
  },
};

/**
 * Dependencies' code that a deployed function never runs, left out of the bundle:
 * - ElectroDB checks each entity's model against a JSON schema (the `jsonschema` package) when the
 *   entity is built. The models are code, and every test run builds every entity from source
 *   (packages/core/src/entities/index.test.ts), so the bundle skips the check instead of repeating
 *   it at every cold start (29 KB, and a millisecond or two per entity on a first request).
 * - The X-Ray SDK's AWS SDK v2 patcher (and `semver`, which only it uses): the service uses SDK v3,
 *   captured by Powertools Tracer. Calling the v2 capture from the bundle throws, saying so.
 */
const unusedDependencyCode: Plugin = {
  name: 'unused-dependency-code',
  setup(b) {
    b.onResolve({ filter: /^jsonschema$/ }, (args) => (/[\\/]electrodb[\\/]/.test(args.importer) ? { path: 'jsonschema', namespace: 'unused-code' } : undefined));
    b.onResolve({ filter: /[\\/]patchers[\\/]aws_p$/ }, (args) => (/[\\/]aws-xray-sdk-core[\\/]/.test(args.importer) ? { path: 'aws_p', namespace: 'unused-code' } : undefined));
    b.onLoad({ filter: /^jsonschema$/, namespace: 'unused-code' }, () => ({
      contents: 'class Validator { addSchema() {} validate() { return { errors: [] }; } } Validator.prototype.customFormats = {}; module.exports = { Validator };',
      loader: 'js',
    }));
    b.onLoad({ filter: /^aws_p$/, namespace: 'unused-code' }, () => ({
      contents: "const unsupported = () => { throw new Error('AWS SDK v2 capture is not in this bundle (scripts/build-lambda.ts): capture v3 clients'); }; module.exports = { captureAWS: unsupported, captureAWSClient: unsupported };",
      loader: 'js',
    }));
  },
};

export async function buildLambda(options: BuildLambdaOptions = {}): Promise<BuildLambdaResult> {
  const outdir = resolve(ROOT, options.outdir ?? 'dist/lambda');
  await rm(outdir, { recursive: true, force: true });
  await mkdir(outdir, { recursive: true });
  const bundle = join(outdir, 'index.mjs');

  const result = await build({
    entryPoints: { index: LAMBDA_ENTRY },
    outdir,
    // Lazily imported modules (the SQS client) become chunks that load on first use, not at init.
    splitting: true,
    chunkNames: 'chunks/[name]-[hash]',
    outExtension: { '.js': '.mjs' },
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node24',
    minify: true,
    sourcemap: 'external',
    // ESM builds of dependencies first (the SDK's dist-es tree-shakes far better than dist-cjs).
    mainFields: ['module', 'main'],
    conditions: ['module'],
    external: options.externalSdk ? ['@aws-sdk/*', '@smithy/*'] : [],
    legalComments: 'linked',
    metafile: true,
    plugins: [zodUnusedApis, builtinsThroughRequire, unusedDependencyCode],
    logLevel: 'warning',
    // CommonJS dependencies bundled into an ES module still call require() for Node built-ins.
    banner: { js: "import{createRequire as __cr}from'node:module';const require=__cr(import.meta.url);" },
  });

  const assetsDir = join(outdir, 'swagger-ui');
  await mkdir(assetsDir, { recursive: true });
  const src = swaggerUiDistDir();
  for (const file of SWAGGER_UI_FILES) await copyFile(join(src, file), join(assetsDir, file));

  if (options.metafile) {
    const { writeFile } = await import('node:fs/promises');
    await writeFile(join(outdir, 'meta.json'), JSON.stringify(result.metafile));
  }
  return { outdir, bundle, ...bundleSizes(result.metafile, outdir), assetsDir, metafile: result.metafile };
}

/**
 * Sizes from esbuild's metafile: the entry's static import closure, and all emitted JavaScript.
 * The metafile's paths are relative to the directory the build ran in (`base`).
 */
export function bundleSizes(metafile: Metafile, outdir: string, base = ROOT, alsoLoaded: RegExp[] = []): { bytes: number; totalBytes: number } {
  const outputs = metafile.outputs;
  const key = (path: string) => Object.keys(outputs).find((k) => resolve(base, k) === resolve(path))!;
  const loaded = new Set<string>();
  const visit = (k: string) => {
    if (loaded.has(k)) return;
    loaded.add(k);
    for (const i of outputs[k]!.imports) if (i.kind === 'import-statement' && !i.external) visit(key(resolve(base, i.path)));
  };
  visit(key(join(outdir, 'index.mjs')));
  // Chunks imported lazily that a configuration loads at start all the same (the tracer, with TRACING on).
  for (const [k, o] of Object.entries(outputs)) if (alsoLoaded.some((re) => Object.keys(o.inputs).some((i) => re.test(i)))) visit(k);
  const js = Object.keys(outputs).filter((k) => k.endsWith('.mjs'));
  const sum = (ks: Iterable<string>) => [...ks].reduce((n, k) => n + outputs[k]!.bytes, 0);
  return { bytes: sum(loaded), totalBytes: sum(js) };
}

function parseArgs(argv: string[]): BuildLambdaOptions {
  const options: BuildLambdaOptions = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--external-sdk') options.externalSdk = true;
    else if (arg === '--metafile') options.metafile = true;
    else if (arg === '--outdir') options.outdir = argv[++i];
    else if (arg?.startsWith('--outdir=')) options.outdir = arg.slice('--outdir='.length);
    else throw new Error(`unknown argument ${arg}; usage: build-lambda.ts [--outdir DIR] [--external-sdk] [--metafile]`);
  }
  return options;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const r = await buildLambda(parseArgs(process.argv.slice(2)));
  console.log(`${r.bundle}: ${(r.bytes / 1024).toFixed(1)} KiB loaded at cold start (${(r.totalBytes / 1024).toFixed(1)} KiB with lazy chunks); docs assets in ${r.assetsDir}`);
}
