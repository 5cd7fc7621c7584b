import { runProcess } from '../scripts/lib/run-process.ts';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, createCoreContext } from '@coupons/api';

// The OpenAPI document the service serves, linted by Redocly (recommended ruleset, redocly.yaml at
// the repository root) and checked for what a reader of /docs needs: an example of every body.
// No database: serving /openapi.json touches none.

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const REDOCLY = join(ROOT, 'node_modules/.bin/redocly');

interface OpenApiDoc {
  paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema?: { $ref?: string }; example?: unknown; examples?: unknown }> } }>>;
  components?: { schemas?: Record<string, { example?: unknown; examples?: unknown }> };
}
interface LintProblem {
  ruleId: string;
  severity: 'error' | 'warn';
  message: string;
  location: { pointer: string }[];
}

let dir: string;
let file: string;
let doc: OpenApiDoc;

beforeAll(async () => {
  const app = createApp({
    core: createCoreContext({ TABLE_NAME: 'openapi-lint', AWS_REGION: 'us-east-1' }),
    auth: { hs256Secret: 'openapi-lint-secret-0123456789' },
    log: () => {},
  });
  const res = await app.request('/openapi.json');
  expect(res.status).toBe(200);
  const text = await res.text();
  doc = JSON.parse(text) as OpenApiDoc;
  dir = await mkdtemp(join(tmpdir(), 'openapi-lint-'));
  file = join(dir, 'openapi.json');
  await writeFile(file, text);
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

function redocly(args: string[]) {
  // Offline and quiet: no telemetry, no update check.
  return runProcess(REDOCLY, args, {
    cwd: ROOT,
    env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true', NO_COLOR: '1' },
  });
}

describe('OpenAPI document', () => {
  it('passes `redocly lint` (recommended ruleset, redocly.yaml) with zero errors', async () => {
    const r = await redocly(['lint', file, '--config', join(ROOT, 'redocly.yaml'), '--format', 'json', '--max-problems', '1000']);
    const report = JSON.parse(r.stdout.slice(r.stdout.indexOf('{'))) as { totals: { errors: number; warnings: number }; problems: LintProblem[] };
    const show = (p: LintProblem) => `${p.severity} ${p.ruleId} at ${p.location.map((l) => l.pointer).join(', ')}: ${p.message}`;
    const warnings = report.problems.filter((p) => p.severity === 'warn');
    if (warnings.length) {
      const byRule = Object.entries(Object.groupBy(warnings, (p) => p.ruleId)).map(([rule, ps]) => `${rule} (${ps!.length})`);
      console.warn(`redocly lint: ${warnings.length} warning(s): ${byRule.join(', ')}`);
    }
    expect(report.problems.filter((p) => p.severity === 'error').map(show)).toEqual([]);
    expect(report.totals.errors).toBe(0);
    expect(r.code, r.stderr).toBe(0);
  });

  it('gives an example for every request body', () => {
    const schemas = doc.components?.schemas ?? {};
    const missing: string[] = [];
    let bodies = 0;
    for (const [path, operations] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(operations)) {
        for (const [type, media] of Object.entries(op.requestBody?.content ?? {})) {
          bodies++;
          const schema = media.schema?.$ref ? schemas[media.schema.$ref.split('/').pop()!] : media.schema;
          const has = (o: { example?: unknown; examples?: unknown } | undefined) => o?.example !== undefined || o?.examples !== undefined;
          if (!has(media) && !has(schema as { example?: unknown })) missing.push(`${method.toUpperCase()} ${path} (${type}${media.schema?.$ref ? `, ${media.schema.$ref}` : ''})`);
        }
      }
    }
    expect(bodies).toBeGreaterThan(5);
    expect(missing, 'request bodies without an example: add one with .openapi({ example }) in packages/api/src/schemas.ts').toEqual([]);
  });
});
