import { randomUUID } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createDynamoDbClient, ensureTable } from '@coupons/core';
import { SWAGGER_UI_FILES, buildLambda, swaggerUiDistDir, type BuildLambdaResult } from '../scripts/build-lambda.ts';
import { SECRET, admin } from './support/harness.ts';
import { runProcess } from '../scripts/lib/run-process.ts';

// The deployable artefact itself: scripts/build-lambda.ts output, built into a temporary folder
// outside the repository (no node_modules above it, as on Lambda), loaded by a fresh `node`
// process and invoked with API Gateway 2.0 events. Proves the bundle starts, reaches DynamoDB
// through the bundled SDK, and serves the /docs assets from the files copied next to it.

const BUDGET_BYTES = 1_000_000;
let dir: string;
let built: BuildLambdaResult;
const TABLE = `bundle-${randomUUID().slice(0, 8)}`;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'coupons-lambda-'));
  built = await buildLambda({ outdir: dir });
  await ensureTable(createDynamoDbClient({ DYNAMODB_ENDPOINT: inject('dynamoDbEndpoint'), AWS_REGION: 'us-east-1' }), TABLE);
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

interface Call {
  method: string;
  path: string;
  token?: string;
  body?: string;
}
interface Answer {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
  isBase64Encoded: boolean;
}

// Runs in the child: import the bundle, invoke the handler once per call, print the answers.
const CHILD = `
const { handler } = await import(process.env.BUNDLE_URL);
const calls = JSON.parse(process.env.CALLS);
const answers = [];
for (const c of calls) {
  const headers = { host: 'api.example.com', ...(c.token ? { authorization: 'Bearer ' + c.token } : {}), ...(c.body ? { 'content-type': 'application/json' } : {}) };
  answers.push(await handler({
    version: '2.0', routeKey: '$default', rawPath: c.path, rawQueryString: '', headers,
    requestContext: { accountId: '123456789012', apiId: 'api', domainName: 'api.example.com', domainPrefix: 'api',
      http: { method: c.method, path: c.path, protocol: 'HTTP/1.1', sourceIp: '203.0.113.7', userAgent: 'test' },
      requestId: 'r', routeKey: '$default', stage: '$default', time: new Date().toUTCString(), timeEpoch: Date.now() },
    ...(c.body ? { body: Buffer.from(c.body).toString('base64'), isBase64Encoded: true } : { isBase64Encoded: false }),
  }, {}));
}
process.stdout.write('@@ANSWERS@@' + JSON.stringify(answers));
`;

async function runBundle(calls: Call[], env: Record<string, string> = {}, out?: { stdout?: string }): Promise<Answer[]> {
  const { code, stdout, stderr } = await runProcess(process.execPath, ['--input-type=module', '-e', CHILD], {
    cwd: dir,
    env: {
      PATH: process.env.PATH ?? '',
      BUNDLE_URL: pathToFileURL(built.bundle).href,
      CALLS: JSON.stringify(calls),
      TABLE_NAME: TABLE,
      DYNAMODB_ENDPOINT: inject('dynamoDbEndpoint'),
      JWT_SECRET: SECRET,
      AWS_REGION: 'us-east-1',
      ...env,
    },
  });
  if (out) out.stdout = stdout;
  const at = stdout.indexOf('@@ANSWERS@@');
  if (code !== 0 || at < 0) throw new Error(`bundle process exited ${code}: ${stderr.slice(0, 2000)}`);
  return JSON.parse(stdout.slice(at + '@@ANSWERS@@'.length)) as Answer[];
}

describe('Lambda bundle (scripts/build-lambda.ts)', () => {
  it(`loads under ${BUDGET_BYTES.toLocaleString("en-US")} bytes at cold start, with an external source map and the docs assets beside it`, async () => {
    expect(built.bytes, 'bundle size budget (see bench/coldstart.ts)').toBeLessThan(BUDGET_BYTES);
    expect(existsSync(`${built.bundle}.map`)).toBe(true);
    const head = (await readFile(built.bundle, 'utf8')).slice(0, 200);
    expect(head).toMatch(/^import\{createRequire/);
    for (const file of SWAGGER_UI_FILES) expect(existsSync(join(built.assetsDir, file)), file).toBe(true);
    // Nothing above the temporary folder could supply swagger-ui-dist: the assets can only come from the copy.
    expect(() => createRequire(built.bundle).resolve('swagger-ui-dist/package.json')).toThrow();
  });

  it('starts with no node_modules, serves /docs and its assets from the copied files, and reaches DynamoDB', async () => {
    const token = await admin();
    const [health, page, init, css, bundleJs, preset, doc, created] = await runBundle([
      { method: 'GET', path: '/health' },
      { method: 'GET', path: '/docs' },
      { method: 'GET', path: '/docs/assets/init.js' },
      { method: 'GET', path: '/docs/assets/swagger-ui.css' },
      { method: 'GET', path: '/docs/assets/swagger-ui-bundle.js' },
      { method: 'GET', path: '/docs/assets/swagger-ui-standalone-preset.js' },
      { method: 'GET', path: '/openapi.json' },
      { method: 'POST', path: '/coupons', token, body: JSON.stringify({ name: 'From the bundle' }) },
    ]);
    expect(health!.statusCode).toBe(200);
    expect(page!.statusCode).toBe(200);
    expect(page!.body).toContain('/docs/assets/swagger-ui-bundle.js');
    expect(init!.body).toContain('SwaggerUIBundle');

    const dist = swaggerUiDistDir();
    for (const [answer, file] of [
      [css, 'swagger-ui.css'],
      [bundleJs, 'swagger-ui-bundle.js'],
      [preset, 'swagger-ui-standalone-preset.js'],
    ] as const) {
      expect(answer!.statusCode, file).toBe(200);
      const body = answer!.isBase64Encoded ? Buffer.from(answer!.body, 'base64').toString('utf8') : answer!.body;
      expect(body === (await readFile(join(dist, file), 'utf8')), `${file} served byte for byte`).toBe(true);
    }
    expect(css!.headers['content-type']).toMatch(/^text\/css/);
    expect(bundleJs!.headers['content-type']).toMatch(/^text\/javascript/);

    expect(doc!.statusCode).toBe(200);
    expect(JSON.parse(doc!.body).paths['/coupons/assign']).toBeDefined();

    expect(created!.statusCode, created!.body).toBe(201);
    expect(JSON.parse(created!.body)).toMatchObject({ name: 'From the bundle', status: 'active' });
  });

  it('without the asset folder the API still starts; only the docs assets answer 404', async () => {
    await rm(built.assetsDir, { recursive: true, force: true });
    const [health, page, css] = await runBundle([
      { method: 'GET', path: '/health' },
      { method: 'GET', path: '/docs' },
      { method: 'GET', path: '/docs/assets/swagger-ui.css' },
    ]);
    expect(health!.statusCode).toBe(200);
    expect(page!.statusCode).toBe(200);
    expect(css!.statusCode).toBe(404);
  });

  it('writes its metrics as EMF lines once per invocation', async () => {
    const out: { stdout?: string } = {};
    const token = await admin();
    await runBundle([{ method: 'GET', path: '/health' }, { method: 'GET', path: '/coupons', token }], {}, out);
    const emf = out.stdout!.split('\n').filter((l) => l.startsWith('{') && l.includes('"_aws"')).map((l) => JSON.parse(l));
    // One flush per invocation, each with that request's latency under its route.
    expect(emf.map((l) => [l.route, typeof l.Latency])).toEqual([
      ['GET /health', 'number'],
      ['GET /coupons', 'number'],
    ]);
    for (const l of emf) expect(l._aws.CloudWatchMetrics[0]).toMatchObject({ Namespace: 'CouponBooks', Dimensions: [['stage'], ['stage', 'route']] });
  });

  it('with TRACING on, traces each request and its DynamoDB calls to the X-Ray daemon', async () => {
    // The X-Ray daemon is AWS-only: a UDP socket on 127.0.0.1 stands in for it and keeps what it is sent.
    const socket = createSocket('udp4');
    const documents: any[] = [];
    socket.on('message', (m) => {
      const text = m.toString('utf8');
      documents.push(JSON.parse(text.slice(text.indexOf('\n') + 1)));
    });
    await new Promise<void>((r) => socket.bind(0, '127.0.0.1', () => r()));
    try {
      const token = await admin();
      const [created] = await runBundle([{ method: 'POST', path: '/coupons', token, body: JSON.stringify({ name: 'Traced' }) }], {
        TRACING: 'true',
        AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs24.x',
        AWS_LAMBDA_FUNCTION_NAME: 'coupon-books-test',
        LAMBDA_TASK_ROOT: dir,
        _X_AMZN_TRACE_ID: 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1',
        AWS_XRAY_DAEMON_ADDRESS: `127.0.0.1:${socket.address().port}`,
      });
      expect(created!.statusCode).toBe(201);
      await expect.poll(() => documents.some((d) => d.name === 'POST /coupons'), { timeout: 5000 }).toBe(true);
      const request = documents.find((d) => d.name === 'POST /coupons');
      expect(request).toMatchObject({ trace_id: '1-5759e988-bd862e3fe1be46a994272793', annotations: { status: 201, tenant: 't1' } });
      // DynamoDB calls are its children: in the request's document, or sent on their own under it.
      const dynamo = [...(request.subsegments ?? []), ...documents.filter((d) => d.parent_id === request.id)].filter((d) => d.name === 'DynamoDB');
      // Creating a book writes the book and its stats shards: one batch.
      expect(dynamo.map((d) => d.aws?.operation)).toContain('BatchWriteItem');
      for (const d of dynamo) expect(d).toMatchObject({ namespace: 'aws', aws: { operation: expect.any(String), region: 'us-east-1' } });
    } finally {
      socket.close();
    }
  });
});
