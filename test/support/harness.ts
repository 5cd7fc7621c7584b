import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { inject } from 'vitest';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createDocumentClient, createDynamoDbClient, ensureTable, type CoreContext } from '@coupons/core';
import { createApp, createCoreContext, startServer, type AppDeps } from '@coupons/api';
import { createCouponClient, unwrap, type InferRequestType } from '@coupons/client';
import { mintToken } from '../../scripts/lib/tokens.ts';

export const SECRET = 'test-secret-0123456789abcdef';

export interface CallResult {
  status: number;
  json: any;
  text: string;
  headers: Headers;
}

/**
 * A real API on a real port over its own table in the shared DynamoDB
 * Local: requests go through HTTP, the SDK and the database, nothing mocked.
 * `stream: true` gives the table its change stream (history, webhooks); the
 * others go without, since DynamoDB Local slows down as stream records pile up.
 */
export async function startTestApi(
  name: string,
  env: Record<string, string> = {},
  appOptions: { auth?: AppDeps['auth']; corsOrigins?: string[]; instrument?: (client: DynamoDBClient) => void; stream?: boolean } = {},
) {
  // `TABLE_NAME` in `env` puts a second instance over another one's table (two Lambdas, one table).
  const table = env.TABLE_NAME ?? `${name}-${randomUUID().slice(0, 8)}`;
  const fullEnv = { DYNAMODB_ENDPOINT: inject('dynamoDbEndpoint'), AWS_REGION: 'us-east-1', ...env, TABLE_NAME: table };
  // Log lines and EMF lines are kept here for the tests to read, not written.
  const logs: Record<string, unknown>[] = [];
  const emf: string[] = [];
  const core: CoreContext = createCoreContext(fullEnv, undefined, { instrument: appOptions.instrument, logLines: logs, writeEmf: (l) => emf.push(l) });
  const raw = createDynamoDbClient(core.config);
  await ensureTable(raw, table, { stream: appOptions.stream ?? false });
  const app = createApp({ core, auth: appOptions.auth ?? { hs256Secret: SECRET }, corsOrigins: appOptions.corsOrigins });
  const server = await startServer(app, 0, '127.0.0.1');
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const doc = createDocumentClient(raw);

  /**
   * The typed client (packages/client) as `token`'s holder, for requests a test makes to get
   * somewhere. No retries: a test sees each answer the server gives.
   */
  const client = (token?: string) => createCouponClient(base, { token, retry: { limit: 0 } });

  /**
   * One raw HTTP request, for what the typed client cannot or should not send: malformed or
   * oversized bodies, wrong types, missing headers, and assertions on exact statuses and headers.
   */
  async function call(
    method: string,
    path: string,
    options: { token?: string; body?: unknown; raw?: string | Uint8Array; headers?: Record<string, string> } = {},
  ): Promise<CallResult> {
    const headers: Record<string, string> = { ...options.headers };
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    let payload: string | Uint8Array | undefined;
    if (options.raw !== undefined) {
      payload = options.raw;
      headers['content-type'] ??= 'application/json';
    } else if (options.body !== undefined) {
      payload = JSON.stringify(options.body);
      headers['content-type'] = 'application/json';
    }
    const res = await fetch(base + path, { method, headers, body: payload as any });
    const text = await res.text();
    let json: any;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: res.status, json, text, headers: res.headers };
  }

  /** Every item in the table, sorted: the ground truth the invariants are checked against. */
  async function scan(): Promise<Record<string, any>[]> {
    const items: Record<string, any>[] = [];
    let ExclusiveStartKey: Record<string, any> | undefined;
    do {
      const page = await doc.send(new ScanCommand({ TableName: table, ExclusiveStartKey, ConsistentRead: true }));
      items.push(...(page.Items ?? []));
      ExclusiveStartKey = page.LastEvaluatedKey;
    } while (ExclusiveStartKey);
    return items.sort((a, b) => `${a.pk}|${a.sk}`.localeCompare(`${b.pk}|${b.sk}`));
  }

  /**
   * The table without its rate-limit counters: those count a caller's
   * CODE_NOT_FOUND answers (a refusal that writes, on purpose) and expire by
   * TTL. "Nothing written" is about everything else.
   */
  async function scanState(): Promise<Record<string, any>[]> {
    return (await scan()).filter((i) => i.__edb_e__ !== 'rateCounter');
  }

  return {
    base,
    table,
    scanState,
    core,
    logs,
    emf,
    client,
    call,
    scan,
    close: () => new Promise<void>((res) => server.close(() => res())),
  };
}

export type TestApi = Awaited<ReturnType<typeof startTestApi>>;

export const admin = (tenant = 't1', sub = 'admin-1') => mintToken(SECRET, { sub, tenant, role: 'admin' });
export const service = (tenant = 't1', sub = 'svc-1') => mintToken(SECRET, { sub, tenant, role: 'service' });
export const user = (sub: string, tenant = 't1') => mintToken(SECRET, { sub, tenant, role: 'user' });

let counter = 0;
/** A code no other test uses. */
export const uniqueCode = (prefix = 'C') => `${prefix}-${randomUUID().replace(/-/g, '').slice(0, 12).toUpperCase()}${(counter++).toString(36).toUpperCase()}`;

type CreateBookInput = InferRequestType<ReturnType<TestApi['client']>['coupons']['$post']>['json'];

/** A book of the tenant; `body` overrides the defaults (tests pass plain objects, hence the cast). */
export async function createBook(api: TestApi, body: Record<string, unknown> = {}, tenant = 't1') {
  const asAdmin = api.client(await admin(tenant));
  return unwrap(asAdmin.coupons.$post({ json: { name: 'Test book', ...body } as CreateBookInput }));
}

export async function bookWithCodes(api: TestApi, count: number, body: Record<string, unknown> = {}, tenant = 't1') {
  const book = await createBook(api, body, tenant);
  const codes = Array.from({ length: count }, () => uniqueCode());
  const asAdmin = api.client(await admin(tenant));
  const uploaded = await unwrap(asAdmin.coupons.codes.$post({ json: { bookId: book.id, codes } }));
  if (uploaded.inserted !== count) throw new Error(`upload: ${JSON.stringify(uploaded)}`);
  return { book, codes };
}

/** The documented error shape with the expected status and code. */
export function expectError(r: CallResult, status: number, code: string) {
  const ok = r.status === status && r.json?.error?.code === code && typeof r.json?.error?.message === 'string';
  if (!ok) throw new Error(`expected ${status} ${code}, got ${r.status} ${r.text.slice(0, 300)}`);
}
