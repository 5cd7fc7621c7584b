import { writeFile } from 'node:fs/promises';
import { registerHooks } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runProcess } from '../../scripts/lib/run-process.ts';

/**
 * A client generated from /openapi.json by a third-party generator (@hey-api/openapi-ts), and the
 * project's own compiler to type-check a program against it: what an integrator does first.
 */

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');
const TSC = join(ROOT, 'node_modules/.bin/tsc');

/**
 * The generator builds its output with TypeScript's JavaScript API, which TypeScript 7 (this
 * project's compiler) no longer ships. Its `import 'typescript'` is pointed at a TypeScript 6
 * copy kept for this (@tsd/typescript: the compiler without its `tsc` bin, so the project's
 * `tsc` stays 7). Only imports made from inside @hey-api are redirected.
 */
let hooked = false;
function typescriptSixForTheGenerator() {
  if (hooked) return;
  hooked = true;
  registerHooks({
    resolve(specifier, context, next) {
      const fromGenerator = context.parentURL?.includes('/node_modules/@hey-api/') ?? false;
      return next(fromGenerator && specifier === 'typescript' ? '@tsd/typescript' : specifier, context);
    },
  });
}

/** Generates a fetch client (types, SDK functions, per-status response and error maps) into `dir`. */
export async function generateClient(openapiFile: string, dir: string) {
  typescriptSixForTheGenerator();
  const { createClient } = await import('@hey-api/openapi-ts');
  // No log file: on failure the generator would write one into the working directory.
  await createClient({ input: openapiFile, output: { path: dir }, plugins: ['@hey-api/client-fetch'], logs: { level: 'silent', file: false } });
}

/**
 * Type-checks `.ts` files under `dir` as an integrator's project would: strict, ES modules, with
 * the DOM types a fetch client is written against. Resolves with tsc's diagnostics ('' when clean).
 */
export async function typeCheck(dir: string): Promise<{ ok: boolean; diagnostics: string }> {
  await writeFile(join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
  const tsconfig = {
    compilerOptions: {
      target: 'ES2024',
      lib: ['ES2024', 'DOM'],
      module: 'NodeNext',
      moduleResolution: 'NodeNext',
      strict: true,
      noEmit: true,
      skipLibCheck: true,
      types: [],
    },
    include: ['**/*.ts'],
  };
  await writeFile(join(dir, 'tsconfig.json'), JSON.stringify(tsconfig, null, 2));
  const r = await runProcess(TSC, ['-p', join(dir, 'tsconfig.json')], { cwd: dir });
  return { ok: r.code === 0, diagnostics: (r.stdout + r.stderr).trim() };
}
