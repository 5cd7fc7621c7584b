import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import formats from 'ajv-formats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateClient, typeCheck } from './support/generated-client.ts';
import { recordAnswers, startRecordedApi, type Answer, type OpenApiDoc } from './support/recorded-answers.ts';

// /openapi.json held to what the service answers. Real answers of a running API (HTTP, DynamoDB
// Local, the change stream building history) are validated against the document with a JSON
// Schema validator in the OpenAPI 3.1 dialect (ajv's 2020-12 with OpenAPI's own keywords), and a
// client generated from the document by a third-party generator must type-check a program that
// uses it and takes every real answer as the type it declares (docs/client.md).

let server: Awaited<ReturnType<typeof startRecordedApi>>;
let doc: OpenApiDoc & { components: { headers: Record<string, Header> } };
let text: string;
let answers: Answer[];
beforeAll(async () => {
  server = await startRecordedApi('contract');
  text = await (await fetch(`${server.api.base}/openapi.json`)).text();
  doc = JSON.parse(text);
  answers = await recordAnswers(server.api, doc);
});
afterAll(() => server?.close());

interface Header {
  required?: boolean;
  schema: object;
}
interface Response {
  description: string;
  headers?: Record<string, Header | { $ref: string }>;
  content?: Record<string, { schema: object }>;
}

const where = (a: Answer) => `${a.operationId} ${a.status} ${JSON.stringify(a.body)?.slice(0, 300)}`;
const responseOf = (a: Answer) => doc.paths[a.path]![a.method]!.responses[String(a.status)] as Response | undefined;
const headersOf = (r: Response) =>
  Object.entries(r.headers ?? {}).map(([name, h]) => [name.toLowerCase(), '$ref' in h ? doc.components.headers[h.$ref.split('/').pop()!]! : h] as const);
/** The headers of the HTTP contract the document must declare wherever they are sent. */
const PROTOCOL_HEADERS = ['x-request-id', 'etag', 'idempotent-replayed', 'retry-after'];

function validator() {
  const ajv = new Ajv2020({ allErrors: true, strict: true });
  formats.default(ajv); // CommonJS: its function is the module's `default` too
  // The OpenAPI 3.1 dialect: JSON Schema 2020-12 plus the OpenAPI vocabulary (annotations for a validator).
  ajv.addVocabulary(['discriminator', 'example', 'externalDocs', 'xml']);
  // The document is the schema resource; responses are reached by JSON pointer into it. Its
  // top-level fields are not schema keywords: declared so, ajv leaves them alone.
  ajv.addVocabulary(Object.keys(doc));
  ajv.addSchema({ ...doc, $id: 'openapi.json' }, undefined, undefined, false);
  const pointer = (...segments: string[]) => segments.map((s) => encodeURIComponent(s.replaceAll('~', '~0').replaceAll('/', '~1'))).join('/');
  return {
    body: (a: Answer) => ajv.compile({ $ref: `openapi.json#/${pointer('paths', a.path, a.method, 'responses', String(a.status), 'content', 'application/json', 'schema')}` }),
    header: (schema: object) => ajv.compile(schema),
  };
}

describe('real answers against /openapi.json', () => {
  it('each status is documented for its operation, and each body is valid against its schema', () => {
    const v = validator();
    const problems: string[] = [];
    for (const a of answers) {
      const response = responseOf(a);
      if (!response) {
        problems.push(`${where(a)}: status not documented`);
        continue;
      }
      if (!response.content) {
        if (a.body !== undefined) problems.push(`${where(a)}: a body where none is documented`);
        continue;
      }
      const validate = v.body(a);
      if (!validate(a.body)) problems.push(`${where(a)}: ${JSON.stringify(validate.errors)}`);
    }
    expect(problems).toEqual([]);
    expect(answers.length).toBeGreaterThan(40);
  });

  it('each protocol header sent is declared for that answer, and each required one is sent, in its declared shape', () => {
    const v = validator();
    const problems: string[] = [];
    for (const a of answers) {
      const declared = new Map(headersOf(responseOf(a)!));
      for (const name of PROTOCOL_HEADERS) if (a.headers.has(name) && !declared.has(name)) problems.push(`${where(a)}: sends ${name}, undeclared`);
      for (const [name, header] of declared) {
        const value = a.headers.get(name);
        if (value === null) {
          if (header.required) problems.push(`${where(a)}: declares ${name} required, sends none`);
          continue;
        }
        const typed = (header.schema as { type?: string }).type === 'integer' ? Number(value) : value;
        if (!v.header(header.schema)(typed)) problems.push(`${where(a)}: ${name}: ${value} does not match ${JSON.stringify(header.schema)}`);
      }
    }
    expect(problems).toEqual([]);
    const sent = (name: string) => answers.filter((a) => a.headers.has(name)).map((a) => `${a.operationId} ${a.status}`);
    expect(sent('idempotent-replayed')).toEqual(['createBook 201', 'createApiKey 201']);
    expect(sent('etag')).toEqual(['getBook 200', 'updateBook 200']);
    expect(sent('retry-after')).toEqual(['lockCode 429']);
  });

  it('covers every operation in the document with a success, and every error whose details have a shape', () => {
    const operations = Object.values(doc.paths).flatMap((ops) => Object.values(ops).map((op) => op.operationId));
    expect(operations.length).toBeGreaterThanOrEqual(23);
    // A resend needs a delivery that failed: test/webhooks-delivery.test.ts makes one.
    const notHere = new Set(['resendWebhookDelivery']);
    const succeeded = new Set(answers.filter((a) => a.status < 300).map((a) => a.operationId));
    expect(operations.filter((id) => !succeeded.has(id) && !notHere.has(id))).toEqual([]);
    const codes = new Set(answers.map((a) => (a.body as { error?: { code: string } } | undefined)?.error?.code));
    for (const code of ['VALIDATION_FAILED', 'PRECONDITION_FAILED', 'MALFORMED_JSON', 'IDEMPOTENCY_KEY_REUSED', 'RATE_LIMITED']) expect(codes, code).toContain(code);
    const details = answers.filter((a) => a.operationId === 'getCode' && a.status === 200).map((a) => (a.body as { status: string }).status);
    expect(details).toEqual(['available', 'active']);
  });
});

const pascal = (id: string) => id[0]!.toUpperCase() + id.slice(1);

/**
 * A program an integrator could write: every real answer, as a literal, must be the type the
 * client declares for its operation and status (excess fields included); every POST takes an
 * Idempotency-Key; no generated type shadows the global `Error`; and code that reads a code's
 * details and an error's `details` by narrowing compiles.
 */
function program(): string {
  const lines = [
    `import type * as T from './client/types.gen.js';`,
    `import { createBook, getCode, updateBook } from './client/index.js';`,
    '',
  ];
  for (const [i, a] of answers.entries()) {
    if (a.body === undefined) continue;
    lines.push(`export const answer${i} = ${JSON.stringify(a.body)} satisfies T.${pascal(a.operationId)}${a.status < 400 ? 'Responses' : 'Errors'}[${a.status}];`);
  }
  for (const ops of Object.values(doc.paths)) {
    const post = (ops as Record<string, { operationId: string }>).post;
    if (post) lines.push(`true satisfies 'Idempotency-Key' extends keyof NonNullable<T.${pascal(post.operationId)}Data['headers']> ? true : false;`);
  }
  lines.push(
    '// @ts-expect-error: no generated type is named Error',
    'export type NotTheGlobalError = T.Error;',
    `
export async function describeCode(code: string): Promise<string> {
  const { data, error } = await getCode({ path: { code } });
  if (error) {
    if (error.error.code === 'VALIDATION_FAILED') return error.error.details.map((d) => d.field + ': ' + d.reason).join('; ');
    return error.error.code + ': ' + error.error.message;
  }
  if (data.status === 'available') {
    const none: 0 = data.redemptionCount;
    return 'available; ' + data.maxRedemptions + ' redemptions once assigned' + none;
  }
  return data.status + ' for ' + data.userId + ' since ' + data.assignedAt + ': ' + data.history.map((h) => h.type + ' by ' + h.by).join(', ');
}

export async function rename(bookId: string, etag: string): Promise<number | string | undefined> {
  const { data, error } = await updateBook({ path: { bookId }, headers: { 'if-match': etag }, body: { name: 'Renamed' } });
  if (error?.error.code === 'PRECONDITION_FAILED') return error.error.details.etag;
  return data?.version;
}

export const currentTag = (refused: T.UpdateBookErrors[412]) => (refused.error.code === 'PRECONDITION_FAILED' ? refused.error.details.etag : undefined);

export const createOnce = (name: string, key: string) => createBook({ body: { name }, headers: { 'Idempotency-Key': key } });
`,
  );
  return lines.join('\n');
}

describe('a client generated from /openapi.json by @hey-api/openapi-ts', () => {
  let dir: string;
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('type-checks a program that reads available and held codes, narrows errors, and takes every real answer as its declared type', async () => {
    dir = await mkdtemp(join(tmpdir(), 'generated-client-'));
    await writeFile(join(dir, 'openapi.json'), text);
    await generateClient(join(dir, 'openapi.json'), join(dir, 'client'));
    await writeFile(join(dir, 'program.ts'), program());
    const { ok, diagnostics } = await typeCheck(dir);
    expect(diagnostics).toBe('');
    expect(ok).toBe(true);
  });
});
