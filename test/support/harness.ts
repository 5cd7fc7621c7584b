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
   * The typed client (packages/client) as `token`'s holder: how tests call the API. No retries (a
   * test sees each answer the server gives), and an `Idempotency-Key` only where a call passes one:
   * a keyed success also writes its record, which cost and nothing-written checks would see.
   */
  const client = (token?: string) => createCouponClient(base, { token, retry: { limit: 0 }, idempotencyKeys: false });

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
    return answer(fetch(base + path, { method, headers, body: payload as any }));
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
/** The typed client a test holds (`api.client(token)`). */
export type TestClient = ReturnType<TestApi['client']>;
/** The JSON body a typed call takes, e.g. `JsonOf<TestClient['coupons']['$post']>`. */
export type JsonOf<Call> = Call extends (...args: any[]) => any ? InferRequestType<Call> extends { json: infer J } ? J : never : never;

/** What `fetch` and the typed client both resolve to. */
export type HttpAnswer = Pick<Response, 'status' | 'headers' | 'text'>;

/**
 * An answer as status, parsed JSON, text and headers, whether from the typed client or a raw
 * `call`, so assertions read the same either way:
 *
 *   expectError(await answer(api.client(token).coupons.assign.$post({ json: { bookId } })), 409, 'BOOK_EXHAUSTED');
 */
export async function answer(res: HttpAnswer | Promise<HttpAnswer>): Promise<CallResult> {
  const r = await res;
  const text = await r.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: r.status, json, text, headers: r.headers };
}

export const admin = (tenant = 't1', sub = 'admin-1') => mintToken(SECRET, { sub, tenant, role: 'admin' });
export const service = (tenant = 't1', sub = 'svc-1') => mintToken(SECRET, { sub, tenant, role: 'service' });
export const user = (sub: string, tenant = 't1') => mintToken(SECRET, { sub, tenant, role: 'user' });

let counter = 0;
/** A code no other test uses. */
export const uniqueCode = (prefix = 'C') => `${prefix}-${randomUUID().replace(/-/g, '').slice(0, 12).toUpperCase()}${(counter++).toString(36).toUpperCase()}`;

type CreateBookInput = JsonOf<TestClient['coupons']['$post']>;
/** What a test may give a book beyond the defaults. */
export type BookBody = Partial<CreateBookInput>;

/** A book of the tenant; `body` overrides the defaults. */
export async function createBook(api: TestApi, body: BookBody = {}, tenant = 't1') {
  const asAdmin = api.client(await admin(tenant));
  return unwrap(asAdmin.coupons.$post({ json: { name: 'Test book', ...body } }));
}

export async function bookWithCodes(api: TestApi, count: number, body: BookBody = {}, tenant = 't1') {
  const book = await createBook(api, body, tenant);
  const codes = Array.from({ length: count }, () => uniqueCode());
  const asAdmin = api.client(await admin(tenant));
  const uploaded = await unwrap(asAdmin.coupons.codes.$post({ json: { bookId: book.id, codes } }));
  if (uploaded.inserted !== count) throw new Error(`upload: ${JSON.stringify(uploaded)}`);
  return { book, codes };
}

/** A book's stats as `GET /coupons/{bookId}` answers them to the tenant's admin. */
export async function bookStats(api: TestApi, bookId: string, tenant = 't1') {
  return (await unwrap(api.client(await admin(tenant)).coupons[':bookId'].$get({ param: { bookId } }))).stats;
}

/** The documented error shape with the expected status and code. */
export function expectError(r: CallResult, status: number, code: string) {
  const ok = r.status === status && r.json?.error?.code === code && typeof r.json?.error?.message === 'string';
  if (!ok) throw new Error(`expected ${status} ${code}, got ${r.status} ${r.text.slice(0, 300)}`);
}
