import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import type { APIGatewayProxyResult, LambdaContext, LambdaEvent } from 'hono/aws-lambda';
import { createDynamoDbClient, ensureTable } from '@coupons/core';
import { SECRET, admin, service, uniqueCode, user } from './support/harness.ts';

// The real Lambda entry (packages/api/src/lambda.ts) fed API Gateway HTTP API (payload format 2.0)
// events, over its own table in DynamoDB Local. The module reads its configuration from the
// environment when it loads, so the environment is set before the dynamic import.

type APIGatewayProxyEventV2 = Extract<LambdaEvent, { routeKey: string; rawPath: string }>;
type Handler = (event: APIGatewayProxyEventV2, context: LambdaContext) => Promise<APIGatewayProxyResult & { cookies?: string[] }>;

const TABLE = `lambda-${randomUUID().slice(0, 8)}`;
const DOMAIN = 'r4nd0m1d.execute-api.us-east-1.amazonaws.com';
let handler: Handler;
const logLines: Record<string, any>[] = [];

beforeAll(async () => {
  Object.assign(process.env, {
    TABLE_NAME: TABLE,
    DYNAMODB_ENDPOINT: inject('dynamoDbEndpoint'),
    JWT_SECRET: SECRET,
    AWS_REGION: 'us-east-1',
  });
  await ensureTable(createDynamoDbClient({ DYNAMODB_ENDPOINT: inject('dynamoDbEndpoint'), AWS_REGION: 'us-east-1' }), TABLE);
  // The request log writes JSON lines to stdout; keep them for the request-id check, out of the test output.
  const write = process.stdout.write.bind(process.stdout);
  vi.spyOn(process.stdout, 'write').mockImplementation(((chunk: unknown, ...rest: unknown[]) => {
    const text = String(chunk);
    if (text.startsWith('{') && text.includes('"requestId"')) {
      try {
        for (const line of text.trim().split('\n')) logLines.push(JSON.parse(line));
        return true;
      } catch {
        // not a log line after all: let it through
      }
    }
    return (write as (...a: unknown[]) => boolean)(chunk, ...rest);
  }) as typeof process.stdout.write);
  ({ handler } = (await import('../packages/api/src/lambda.ts')) as unknown as { handler: Handler });
});
afterAll(() => {
  vi.restoreAllMocks();
});

/** An event as API Gateway HTTP API sends it (payload format 2.0, `$default` route). */
function httpApiEvent(
  method: string,
  path: string,
  options: { token?: string; body?: string; base64?: boolean; query?: string; headers?: Record<string, string> } = {},
): APIGatewayProxyEventV2 {
  const now = new Date();
  const headers: Record<string, string> = {
    accept: 'application/json',
    host: DOMAIN,
    'user-agent': 'CouponApp/3.1 (iPhone; iOS 18.1)',
    'x-amzn-trace-id': `Root=1-${Math.floor(now.getTime() / 1000).toString(16)}-${randomUUID().replace(/-/g, '').slice(0, 24)}`,
    'x-forwarded-for': '203.0.113.7',
    'x-forwarded-port': '443',
    'x-forwarded-proto': 'https',
    ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
    ...(options.body !== undefined ? { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(options.body)) } : {}),
    ...options.headers,
  };
  const query = options.query ?? '';
  const queryStringParameters = query ? Object.fromEntries(new URLSearchParams(query)) : undefined;
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: path,
    rawQueryString: query,
    headers,
    ...(queryStringParameters ? { queryStringParameters } : {}),
    requestContext: {
      accountId: '123456789012',
      apiId: 'r4nd0m1d',
      domainName: DOMAIN,
      domainPrefix: 'r4nd0m1d',
      http: { method, path, protocol: 'HTTP/1.1', sourceIp: '203.0.113.7', userAgent: headers['user-agent']! },
      requestId: `${randomUUID().slice(0, 14)}=`,
      routeKey: '$default',
      stage: '$default',
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
    ...(options.body !== undefined
      ? { body: options.base64 ? Buffer.from(options.body, 'utf8').toString('base64') : options.body, isBase64Encoded: !!options.base64 }
      : { isBase64Encoded: false }),
  } as APIGatewayProxyEventV2;
}

const context = (): LambdaContext =>
  ({
    callbackWaitsForEmptyEventLoop: true,
    functionName: 'coupon-books-dev-ApiRouteFunction',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:coupon-books-dev-ApiRouteFunction',
    memoryLimitInMB: '1024',
    awsRequestId: randomUUID(),
    logGroupName: '/aws/lambda/coupon-books-dev-ApiRouteFunction',
    logStreamName: '2026/11/22/[$LATEST]0123456789abcdef',
    getRemainingTimeInMillis: () => 10_000,
  }) as unknown as LambdaContext;

async function invoke(method: string, path: string, options: Parameters<typeof httpApiEvent>[2] = {}) {
  const res = await handler(httpApiEvent(method, path, options), context());
  const headers = Object.fromEntries(Object.entries(res.headers ?? {}).map(([k, v]) => [k.toLowerCase(), String(v)]));
  const text = res.isBase64Encoded ? Buffer.from(res.body, 'base64').toString('utf8') : res.body;
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.statusCode, headers, text, json, raw: res };
}

function expectErrorShape(r: Awaited<ReturnType<typeof invoke>>, status: number, code: string) {
  expect(r.status, r.text).toBe(status);
  expect(r.headers['content-type']).toMatch(/^application\/json/);
  expect(r.json).toEqual({ error: expect.objectContaining({ code, message: expect.any(String) }) });
  expect(Object.keys(r.json.error).every((k) => ['code', 'message', 'details'].includes(k))).toBe(true);
  expect(r.text).not.toMatch(/\bat .+:\d+:\d+|Exception|stack/);
}

async function createBook(body: Record<string, unknown>, options: { base64?: boolean } = {}) {
  const r = await invoke('POST', '/coupons', { token: await admin(), body: JSON.stringify(body), base64: options.base64 });
  expect(r.status, r.text).toBe(201);
  return r.json as { id: string; name: string; status: string; createdAt: string };
}

describe('Lambda handler (API Gateway HTTP API, payload 2.0)', () => {
  it('GET /health answers 200 with a request id and security headers', async () => {
    const r = await invoke('GET', '/health');
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ status: 'ok' });
    expect(r.raw.isBase64Encoded).toBe(false);
    expect(r.headers['x-request-id']).toMatch(/^\S{8,}$/);
    expect(r.headers['x-content-type-options']).toBe('nosniff');
  });

  it('POST /coupons with a base64-encoded body (isBase64Encoded: true) creates the book', async () => {
    const book = await createBook({ name: 'Encoded — Black Friday ✓', maxCodesPerUser: 2, discount: { type: 'percentage', value: 30 } }, { base64: true });
    expect(book).toMatchObject({ name: 'Encoded — Black Friday ✓', status: 'active' });
    // It is really in the table: read back through the handler.
    const back = await invoke('GET', `/coupons/${book.id}`, { token: await admin() });
    expect(back.status, back.text).toBe(200);
    expect(back.json).toMatchObject({ id: book.id, name: 'Encoded — Black Friday ✓', maxCodesPerUser: 2, stats: { codes: 0 } });
  });

  it('POST /coupons with a plain body creates the book', async () => {
    const book = await createBook({ name: 'Plain body' });
    expect(book).toMatchObject({ name: 'Plain body', status: 'active', id: expect.any(String), createdAt: expect.any(String) });
  });

  it('an authorized POST /coupons/assign claims and locks a code; the user then sees it with a query string', async () => {
    const book = await createBook({ name: 'Assign through Lambda', maxCodesPerUser: 1 });
    const codes = [uniqueCode('LMB'), uniqueCode('LMB')];
    const up = await invoke('POST', '/coupons/codes', { token: await admin(), body: JSON.stringify({ bookId: book.id, codes }) });
    expect(up.status, up.text).toBe(200);
    expect(up.json.inserted).toBe(2);

    const mine = await invoke('POST', '/coupons/assign', { token: await user('lambda-u1'), body: JSON.stringify({ bookId: book.id, lock: true }), base64: true });
    expect(mine.status, mine.text).toBe(201);
    expect(mine.json).toMatchObject({ bookId: book.id, userId: 'lambda-u1', status: 'locked', lockId: expect.any(String) });
    expect(codes).toContain(mine.json.code);

    const theirs = await invoke('POST', '/coupons/assign', { token: await service(), body: JSON.stringify({ bookId: book.id, userId: 'lambda-u2' }) });
    expect(theirs.status, theirs.text).toBe(201);
    expect(theirs.json).toMatchObject({ userId: 'lambda-u2', status: 'active' });
    expect(theirs.json.code).not.toBe(mine.json.code);

    const list = await invoke('GET', '/users/lambda-u1/coupons', { token: await user('lambda-u1'), query: `bookId=${encodeURIComponent(book.id)}&limit=10` });
    expect(list.status, list.text).toBe(200);
    expect(list.json.items.map((i: { code: string }) => i.code)).toEqual([mine.json.code]);
  });

  it('answers 401 UNAUTHENTICATED without a token or with one signed by another secret', async () => {
    const none = await invoke('POST', '/coupons/assign', { body: JSON.stringify({ bookId: 'x' }) });
    expectErrorShape(none, 401, 'UNAUTHENTICATED');
    const { mintToken } = await import('../scripts/lib/tokens.ts');
    const forged = await mintToken('another-secret-0123456789', { sub: 'a', tenant: 't1', role: 'admin' });
    expectErrorShape(await invoke('GET', '/coupons', { token: forged }), 401, 'UNAUTHENTICATED');
  });

  it('answers 400 VALIDATION_FAILED with field details, and MALFORMED_JSON for a body that is not JSON', async () => {
    const r = await invoke('POST', '/coupons', { token: await admin(), body: JSON.stringify({ name: 'x', lockTtlSeconds: 0 }), base64: true });
    expectErrorShape(r, 400, 'VALIDATION_FAILED');
    expect(r.json.error.details).toEqual(expect.arrayContaining([expect.objectContaining({ field: 'lockTtlSeconds', reason: expect.any(String) })]));

    const bad = await invoke('POST', '/coupons', { token: await admin(), body: '{"name": "unterminated', base64: true });
    expectErrorShape(bad, 400, 'MALFORMED_JSON');
  });

  it('every response carries x-request-id, unique per request, and the same id is in the log line', async () => {
    const responses = [
      await invoke('GET', '/health'),
      await invoke('GET', '/coupons'),
      await invoke('POST', '/coupons', { token: await admin(), body: '{}' }),
      await invoke('GET', '/nope', { token: await admin() }),
    ];
    const ids = responses.map((r) => r.headers['x-request-id']);
    for (const id of ids) expect(id).toMatch(/^\S{8,}$/);
    expect(new Set(ids).size).toBe(ids.length);
    for (const [i, id] of ids.entries()) {
      const line = logLines.find((l) => l.requestId === id);
      expect(line, `log line for ${id}`).toMatchObject({ status: responses[i]!.status });
    }
    // A caller's own id (e.g. from the mobile app) is kept end to end.
    const traced = await invoke('GET', '/health', { headers: { 'x-request-id': 'app-trace-0042' } });
    expect(traced.headers['x-request-id']).toBe('app-trace-0042');
  });

  it('serves the docs page and its assets through the handler', async () => {
    const page = await invoke('GET', '/docs');
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    const css = await invoke('GET', '/docs/assets/swagger-ui.css');
    expect(css.status).toBe(200);
    expect(css.text).toContain('.swagger-ui');
  });
});
