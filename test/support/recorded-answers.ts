import { randomUUID } from 'node:crypto';
import { codeHistoryConsumer, useJobDispatcher } from '@coupons/core';
import { followChanges } from '@coupons/api';
import { admin, service, startTestApi, uniqueCode, user, type TestApi } from './harness.ts';
import { waitFor } from './wait-for.ts';

/**
 * Real answers of a running API, one or more per operation of its /openapi.json, for the tests
 * that hold the description to what the service does (test/openapi-contract.test.ts). Each
 * answer is named by the operation it came from, so a checker finds its documented shape.
 */

export interface OpenApiDoc {
  paths: Record<string, Record<string, { operationId: string; responses: Record<string, unknown> }>>;
  [key: string]: unknown;
}

export interface Answer {
  operationId: string;
  method: string;
  /** The path template, as in the document. */
  path: string;
  status: number;
  headers: Headers;
  body: unknown;
}

interface CallOptions {
  params?: Record<string, string>;
  query?: Record<string, string>;
  token?: string;
  body?: unknown;
  raw?: string;
  headers?: Record<string, string>;
}

/** Settings that let a handful of requests reach a 429 (three code-guessing misses). */
const ENV = { RATE_LIMIT_MISSES_PER_10_MINUTES: '2' };

/** The API with its change stream followed by the history consumer only (no webhook delivery leaves the machine). */
export async function startRecordedApi(name: string) {
  const api = await startTestApi(name, ENV, { stream: true });
  const follower = followChanges(api.core, { name: `${name}-history`, consumers: [codeHistoryConsumer(api.core.store)], idleMs: 20 });
  // Jobs stay queued, as behind a queue no worker reads: GET /jobs/{id} is described, not a run (test/jobs.test.ts runs them).
  useJobDispatcher(api.core, { kind: 'held', dispatch: async () => undefined });
  return {
    api,
    close: async () => {
      await follower.stop();
      await api.close();
    },
  };
}

function recorder(api: TestApi, doc: OpenApiDoc) {
  const operations = new Map<string, { method: string; path: string }>();
  for (const [path, ops] of Object.entries(doc.paths)) for (const [method, op] of Object.entries(ops)) operations.set(op.operationId, { method, path });
  const answers: Answer[] = [];

  async function call(operationId: string, options: CallOptions = {}) {
    const op = operations.get(operationId);
    if (!op) throw new Error(`no operation ${operationId} in /openapi.json`);
    const path = op.path.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(options.params?.[name] ?? `{${name}}`));
    const url = options.query ? `${path}?${new URLSearchParams(options.query)}` : path;
    const r = await api.call(op.method.toUpperCase(), url, options);
    answers.push({ operationId, ...op, status: r.status, headers: r.headers, body: r.json });
    return r;
  }
  return { call, answers };
}

/** Drives every operation, and the refusals whose `details` have a shape, as an integrator would meet them. */
export async function recordAnswers(api: TestApi, doc: OpenApiDoc) {
  const { call, answers } = recorder(api, doc);
  const [asAdmin, asService, alice] = [await admin(), await service(), 'alice'];
  const ok = async (status: number, r: Promise<{ status: number; text: string; json: any }>) => {
    const answer = await r;
    if (answer.status !== status) throw new Error(`expected ${status}, got ${answer.status} ${answer.text.slice(0, 300)}`);
    return answer.json;
  };

  // Books: created under an Idempotency-Key (then replayed, then the key reused), read with its ETag, edited under If-Match.
  const key = { 'idempotency-key': randomUUID() };
  const bookBody = { name: 'Contract book', validUntil: '2099-01-01T00:00:00.000Z', maxRedemptionsPerUser: 2, discount: { type: 'percentage', value: 15 } };
  const book = await ok(201, call('createBook', { token: asAdmin, body: bookBody, headers: key }));
  await ok(201, call('createBook', { token: asAdmin, body: bookBody, headers: key }));
  await ok(422, call('createBook', { token: asAdmin, body: { ...bookBody, name: 'Another' }, headers: key }));
  await ok(400, call('createBook', { token: asAdmin, body: { name: '', shards: 0 } }));
  await ok(400, call('createBook', { token: asAdmin, raw: '{"name":' }));
  await ok(403, call('createBook', { token: await user('mallory'), body: bookBody }));
  await ok(401, call('listBooks'));
  await ok(200, call('listBooks', { token: asAdmin }));
  const params = { bookId: book.id };
  const read = await call('getBook', { token: asAdmin, params });
  await ok(412, call('updateBook', { token: asAdmin, params, body: { name: 'Renamed' }, headers: { 'if-match': '"99"' } }));
  await ok(400, call('updateBook', { token: asAdmin, params, body: { name: 'Renamed' }, headers: { 'if-match': 'v1' } }));
  await ok(200, call('updateBook', { token: asAdmin, params, body: { name: 'Renamed' }, headers: { 'if-match': read.headers.get('etag')! } }));
  await ok(404, call('getBook', { token: asAdmin, params: { bookId: randomUUID() } }));

  // Codes: uploaded (one refused by the format), generated, and a job queued.
  const [named, spare] = [uniqueCode('CT'), uniqueCode('CT')];
  await ok(200, call('uploadCodes', { token: asAdmin, body: { bookId: book.id, codes: [named, spare, 'not a code!'] } }));
  await ok(201, call('generateCodes', { token: asAdmin, body: { bookId: book.id, count: 2, pattern: 'CTG-####-????' } }));
  const job = await ok(202, call('generateCodes', { token: asAdmin, body: { bookId: book.id, count: 10_001, pattern: 'CTJ-####-????-####' } }));
  await ok(200, call('getJob', { token: asAdmin, params: { jobId: job.jobId } }));
  await ok(404, call('getJob', { token: asAdmin, params: { jobId: randomUUID() } }));

  // A code's life: available, assigned, locked, unlocked, locked, redeemed, rolled back.
  await ok(200, call('getCode', { token: asAdmin, params: { code: spare } }));
  await ok(201, call('assignNamedCode', { token: asAdmin, params: { code: named }, body: { userId: alice } }));
  await ok(409, call('assignNamedCode', { token: asAdmin, params: { code: named }, body: { userId: 'bob' } }));
  await ok(201, call('assignRandomCode', { token: await user('carol'), body: { bookId: book.id, lock: true } }));
  const code = { code: named };
  const first = await ok(200, call('lockCode', { token: asService, params: code, body: { userId: alice } }));
  await ok(200, call('unlockCode', { token: asService, params: code, body: { userId: alice, lockId: first.lockId } }));
  const second = await ok(200, call('lockCode', { token: asService, params: code, body: { userId: alice, ttlSeconds: 60 } }));
  const redeemed = await ok(200, call('redeemCode', { token: asService, params: code, body: { userId: alice, lockId: second.lockId, orderId: 'order-1' } }));
  await ok(200, call('rollbackRedemption', { token: asAdmin, params: { redemptionId: redeemed.redemptionId }, body: { reason: 'order-1 cancelled' } }));
  await ok(409, call('rollbackRedemption', { token: asAdmin, params: { redemptionId: redeemed.redemptionId }, body: {} }));
  await waitFor('six history entries of the held code', async () => (await api.call('GET', `/coupons/codes/${named}`, { token: asAdmin })).json?.history?.length === 6, 30_000);
  await ok(200, call('getCode', { token: asAdmin, params: code }));
  await ok(404, call('getCode', { token: asAdmin, params: { code: uniqueCode('NONE') } }));
  await ok(200, call('listUserCoupons', { token: asAdmin, params: { userId: alice } }));
  await ok(200, call('listBookCodes', { token: asAdmin, params }));
  await ok(200, call('getBookActivity', { token: asAdmin, params, query: { from: '2026-12-01T00:00:00Z', to: '2026-12-01T03:00:00Z', interval: 'hour' } }));
  await ok(400, call('getBookActivity', { token: asAdmin, params, query: { from: '2026-12-01T00:00:00Z', to: '2026-12-03T00:00:00Z', interval: 'minute' } }));

  // A code guesser meets the miss limit (RATE_LIMITED with Retry-After) after its two misses.
  const guesser = await user('guesser');
  for (let miss = 0; miss < Number(ENV.RATE_LIMIT_MISSES_PER_10_MINUTES); miss++) await ok(404, call('lockCode', { token: guesser, params: { code: uniqueCode('GUESS') }, body: {} }));
  await ok(429, call('lockCode', { token: guesser, params: { code: uniqueCode('GUESS') }, body: {} }));

  // Erasure: queued (held here, as every job; test/erasure.test.ts runs it), its progress, a bad id, a service that may not.
  const erasure = await ok(202, call('eraseUser', { token: asAdmin, params: { userId: 'erase-me' } }));
  await ok(200, call('getJob', { token: asAdmin, params: { jobId: erasure.jobId } }));
  await ok(400, call('eraseUser', { token: asAdmin, params: { userId: 'has#hash' } }));
  await ok(403, call('eraseUser', { token: asService, params: { userId: 'erase-me' } }));

  // Webhooks: no delivery runs here (no webhook consumer), so resend finds no message.
  const hook = await ok(201, call('createWebhook', { token: asAdmin, body: { url: 'https://example.com/hooks/coupons', events: ['code.redeemed'] } }));
  const id = { id: hook.id };
  await ok(200, call('listWebhooks', { token: asAdmin }));
  await ok(200, call('getWebhook', { token: asAdmin, params: id }));
  await ok(200, call('rotateWebhookSecret', { token: asAdmin, params: id, body: { overlapSeconds: 60 } }));
  await ok(200, call('listWebhookDeliveries', { token: asAdmin, params: id }));
  await ok(404, call('resendWebhookDelivery', { token: asAdmin, params: { ...id, messageId: 'msg_none' } }));
  await ok(204, call('deleteWebhook', { token: asAdmin, params: id }));
  await ok(404, call('getWebhook', { token: asAdmin, params: id }));

  // API keys: created once under an Idempotency-Key (the replay answers without the key), listed, used, revoked.
  const keyBody = { name: 'Checkout backend', role: 'service' };
  const keyHeaders = { 'idempotency-key': randomUUID() };
  const created = await ok(201, call('createApiKey', { token: asAdmin, body: keyBody, headers: keyHeaders }));
  await ok(201, call('createApiKey', { token: asAdmin, body: keyBody, headers: keyHeaders }));
  await ok(403, call('createApiKey', { token: asService, body: keyBody }));
  await ok(200, call('listApiKeys', { token: asAdmin }));
  await ok(200, call('listUserCoupons', { token: created.key, params: { userId: alice } }));
  await ok(204, call('revokeApiKey', { token: asAdmin, params: { keyId: created.keyId } }));
  await ok(404, call('revokeApiKey', { token: asAdmin, params: { keyId: randomUUID() } }));

  return answers;
}
