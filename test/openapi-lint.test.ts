import { runProcess } from '../scripts/lib/run-process.ts';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, createCoreContext, STATUS_BY_CODE } from '@coupons/api';

// The OpenAPI document the service serves, linted by Redocly (recommended ruleset, redocly.yaml at
// the repository root) and checked for what a reader of /docs needs: an example of every body.
// No database: serving /openapi.json touches none.

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const REDOCLY = join(ROOT, 'node_modules/.bin/redocly');

interface ErrorExample {
  summary: string;
  value: { error: { code: string; message: string } };
}
interface Operation {
  operationId?: string;
  requestBody?: { content: Record<string, { schema?: { $ref?: string }; example?: unknown; examples?: unknown }> };
  responses: Record<string, { description: string; headers?: Record<string, unknown>; content?: Record<string, { examples?: Record<string, ErrorExample> }> }>;
}
interface OpenApiDoc {
  paths: Record<string, Record<string, Operation>>;
  components?: { schemas?: Record<string, { example?: unknown; examples?: unknown; properties?: Record<string, unknown> }> };
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
    core: createCoreContext({ TABLE_NAME: 'openapi-lint', AWS_REGION: 'us-east-1' }, undefined, { logLines: [] }),
    auth: { hs256Secret: 'openapi-lint-secret-0123456789' },
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

/** Two paths one request could match: as many segments, and each pair equal or one of them a parameter. */
const ambiguous = (a: string, b: string) => {
  const [x, y] = [a.split('/'), b.split('/')];
  return x.length === y.length && x.every((s, i) => s === y[i] || s.startsWith('{') || y[i]!.startsWith('{'));
};
/**
 * Pairs allowed to overlap for the same method, and why. `/coupons/codes/{code}` (a code's history)
 * is mounted before `/coupons/{bookId}/codes` and `/coupons/{bookId}/activity` in app.ts, and a
 * book id is a UUID, never `codes`.
 */
const ALLOWED_OVERLAPS = new Set(['get /coupons/codes/{code} | /coupons/{bookId}/codes', 'get /coupons/codes/{code} | /coupons/{bookId}/activity']);

describe('OpenAPI document', () => {
  it('no two paths of one method can match the same request, except the documented overlaps', () => {
    const overlaps: string[] = [];
    const paths = Object.keys(doc.paths).sort();
    for (const [i, a] of paths.entries()) {
      for (const b of paths.slice(i + 1)) {
        for (const method of Object.keys(doc.paths[a]!)) {
          if (doc.paths[b]![method] && ambiguous(a, b)) overlaps.push(`${method} ${a} | ${b}`);
        }
      }
    }
    expect(overlaps.filter((o) => !ALLOWED_OVERLAPS.has(o))).toEqual([]);
  });

  it('passes `redocly lint` (recommended ruleset, redocly.yaml) with no error and no warning', async () => {
    const r = await redocly(['lint', file, '--config', join(ROOT, 'redocly.yaml'), '--format', 'json', '--max-problems', '1000']);
    const report = JSON.parse(r.stdout.slice(r.stdout.indexOf('{'))) as { totals: { errors: number; warnings: number }; problems: LintProblem[] };
    const show = (p: LintProblem) => `${p.severity} ${p.ruleId} at ${p.location.map((l) => l.pointer).join(', ')}: ${p.message}`;
    expect(report.problems.map(show)).toEqual([]);
    expect(report.totals).toMatchObject({ errors: 0, warnings: 0 });
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

  it('documents on each route exactly the errors its facts allow, one example per code under its own status', () => {
    const operations = Object.entries(doc.paths).flatMap(([path, ops]) => Object.entries(ops).map(([method, op]) => ({ path, method, op })));
    const api = operations.filter(({ path }) => !['/health', '/openapi.json'].includes(path));
    expect(api.length).toBeGreaterThanOrEqual(12);
    for (const { path, method, op } of api) {
      const where = `${method.toUpperCase()} ${path}`;
      const codes = new Map<string, number>();
      for (const [status, response] of Object.entries(op.responses)) {
        if (Number(status) < 400) continue;
        const examples = response.content?.['application/json']?.examples ?? {};
        expect(Object.keys(examples), where).not.toEqual([]);
        // The description names exactly the codes exemplified, and each example is its own code.
        expect(response.description.split(', ').sort(), where).toEqual(Object.keys(examples).sort());
        for (const [name, example] of Object.entries(examples)) {
          expect(example.value.error.code, `${where} ${status}`).toBe(name);
          expect(STATUS_BY_CODE[name as keyof typeof STATUS_BY_CODE], `${where} ${name}`).toBe(Number(status));
          codes.set(name, Number(status));
        }
        if (status === '429' || status === '503') expect(response.headers, where).toHaveProperty('Retry-After');
      }
      // Route facts: every route is authenticated, rate limited and validated; a body can be
      // malformed or too large; only a POST takes an Idempotency-Key.
      for (const code of ['VALIDATION_FAILED', 'UNAUTHENTICATED', 'FORBIDDEN', 'RATE_LIMITED', 'UNAVAILABLE']) expect(codes.has(code), `${where} ${code}`).toBe(true);
      expect(codes.has('MALFORMED_JSON') && codes.has('PAYLOAD_TOO_LARGE'), where).toBe(method !== 'get' && method !== 'delete');
      expect(codes.has('IDEMPOTENCY_KEY_REUSED'), where).toBe(method === 'post');
      expect(codes.has('ROUTE_NOT_FOUND') || codes.has('INTERNAL'), where).toBe(false);
      expect(codes.has('JOB_NOT_FOUND'), where).toBe(path.startsWith('/jobs/'));
    }
    const byId = Object.fromEntries(api.map(({ op }) => [op.operationId, Object.keys(op.responses)]));
    expect(byId.getBook).toContain('404');
    expect(byId.listBooks).not.toContain('404');
    expect(byId.redeemCode).toEqual(expect.arrayContaining(['404', '409', '413', '422', '429']));
  });

  it('describes discount with its real schema', () => {
    const schemas = doc.components?.schemas ?? {};
    expect(schemas.Discount?.properties).toHaveProperty('type');
    for (const name of ['Book', 'CodeView']) expect(schemas[name]?.properties?.discount, name).toEqual({ $ref: '#/components/schemas/Discount' });
  });
});
