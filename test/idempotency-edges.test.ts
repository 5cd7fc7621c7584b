import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { idempotencyPut, runIdempotent, type IdempotencyClaim } from '@coupons/core';
import { admin, answer, bookStats, bookWithCodes, createBook, expectError, service, startTestApi, uniqueCode, user, type HttpAnswer, type TestApi } from './support/harness.ts';
import { checkInvariants, expectInvariants } from './support/invariants.ts';

// Idempotency at its edges, over real HTTP against DynamoDB Local, checked
// against the table: responses too large for one item, copies of one keyed
// request racing each other, and keys that must never cross callers.
let api: TestApi;
beforeAll(async () => {
  api = await startTestApi('idem-edges', { RATE_LIMIT_CALLER_PER_MINUTE: '0' });
});
afterAll(() => api.close());

const idemItems = async () => (await api.scan()).filter((i) => String(i.__edb_e__).startsWith('idempotency'));
/** Printable ASCII without quote or backslash: incompressible, and JSON-encodes to itself. */
const noise = (n: number) =>
  Array.from(randomBytes(n), (b) => String.fromCharCode(0x23 + (b % 0x39)))
    .join('')
    .replace(/\\/g, '!');

describe('responses too large for one DynamoDB item', () => {
  it('5 codes and 3,900 invalid 256-character entries (~1 MB body) under a key: 200, a replay answers the same, no key left pending', async () => {
    const book = await createBook(api);
    const valid = Array.from({ length: 5 }, () => uniqueCode('BIG'));
    const codes = [...valid, ...Array.from({ length: 3900 }, () => noise(256))];
    const body = { bookId: book.id, codes };
    expect(JSON.stringify(body).length).toBeGreaterThan(1_000_000);
    expect(JSON.stringify(body).length).toBeLessThan(1024 * 1024);
    const headers = { 'idempotency-key': randomUUID() };
    const first = await answer(api.client(await admin()).coupons.codes.$post({ json: body }, { headers }));
    expect(first.status).toBe(200);
    expect(first.json.inserted).toBe(5);
    expect(first.json.invalid).toHaveLength(3900);
    const again = await answer(api.client(await admin()).coupons.codes.$post({ json: body }, { headers }));
    expect(again.status).toBe(200);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.json).toEqual(first.json);
    const record = (await idemItems()).find((i) => i.__edb_e__ === 'idempotencyRecord' && i.key === headers['idempotency-key'])!;
    expect(record.state).toBe('done');
    expect(record.parts).toBeGreaterThanOrEqual(2);
    const parts = (await idemItems()).filter((i) => i.__edb_e__ === 'idempotencyPart' && i.pk === record.pk);
    expect(parts).toHaveLength(record.parts);
    for (const p of parts) expect((p.body as Uint8Array).length).toBeLessThanOrEqual(350_000);
    expect((await idemItems()).filter((i) => i.state === 'pending')).toEqual([]);
    await expectInvariants(api);
  });

  it('5,000 new 64-character codes, then the same 5,000 again as duplicates, each under a key: replays are identical', async () => {
    const book = await createBook(api);
    const codes = Array.from({ length: 5000 }, () => `${uniqueCode('L')}-${noise(64).replace(/[^A-Z0-9]/gi, 'X').toUpperCase()}`.slice(0, 64));
    for (const expected of [{ inserted: 5000, duplicates: 0 }, { inserted: 0, duplicates: 5000 }]) {
      const headers = { 'idempotency-key': randomUUID() };
      const first = await answer(api.client(await admin()).coupons.codes.$post({ json: { bookId: book.id, codes } }, { headers }));
      expect(first.status).toBe(200);
      expect(first.json.inserted).toBe(expected.inserted);
      expect(first.json.duplicates).toHaveLength(expected.duplicates);
      const again = await answer(api.client(await admin()).coupons.codes.$post({ json: { bookId: book.id, codes } }, { headers }));
      expect(again.headers.get('idempotent-replayed')).toBe('true');
      expect(again.json).toEqual(first.json);
    }
    await expectInvariants(api);
  });

  it('10,000 codes from a 62-character pattern under a key: 201, a replay answers the same 10,000 codes', async () => {
    const book = await createBook(api);
    const pattern = `G${'*'.repeat(61)}`;
    const headers = { 'idempotency-key': randomUUID() };
    const body = { bookId: book.id, count: 10_000, pattern };
    const first = await answer(api.client(await admin()).coupons.codes.generate.$post({ json: body }, { headers }));
    expect(first.status).toBe(201);
    expect(first.json.codes).toHaveLength(10_000);
    const again = await answer(api.client(await admin()).coupons.codes.generate.$post({ json: body }, { headers }));
    expect(again.status).toBe(201);
    expect(again.json).toEqual(first.json);
    const stats = await bookStats(api, book.id);
    expect(stats.codes).toBe(10_000);
    const record = (await idemItems()).find((i) => i.__edb_e__ === 'idempotencyRecord' && i.key === headers['idempotency-key'])!;
    expect(record.state).toBe('done');
    await expectInvariants(api);
  }, 120_000);

  it('a book at its largest (4 KB metadata, 2,000-character description) under a key replays whole', async () => {
    const metadata = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`k${i}`, noise(80)]));
    const body = { name: 'n'.repeat(200), description: 'd'.repeat(2000), metadata, codePattern: `X${'*'.repeat(63)}` };
    const headers = { 'idempotency-key': randomUUID() };
    const first = await answer(api.client(await admin()).coupons.$post({ json: body }, { headers }));
    expect(first.status, first.text).toBe(201);
    const again = await answer(api.client(await admin()).coupons.$post({ json: body }, { headers }));
    expect(again.json).toEqual(first.json);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
  });

  it('claim-and-lock, unlock, lock and redeem at their largest inputs (4 KB context, 128-character ids) replay whole under their keys', async () => {
    const { codes } = await bookWithCodes(api, 1, { maxRedemptionsPerUser: 1 });
    const userId = `u${'x'.repeat(127)}`;
    const token = await service();
    const context = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`k${i}`, noise(80)]));
    const client = api.client(token);
    const code = codes[0]!;
    const keyed = async (send: (init: { headers: Record<string, string> }) => Promise<HttpAnswer>) => {
      const headers = { 'idempotency-key': `${'k'.repeat(150)}-${randomUUID()}` };
      const first = await answer(send({ headers }));
      const again = await answer(send({ headers }));
      expect(again.status).toBe(first.status);
      expect(again.json).toEqual(first.json);
      expect(again.headers.get('idempotent-replayed')).toBe('true');
      return first;
    };
    const claimed = await keyed((init) => client.coupons.assign[':code'].$post({ param: { code }, json: { userId, lock: true, ttlSeconds: 86_400 } }, init));
    expect(claimed.status).toBe(201);
    expect((await keyed((init) => client.coupons.unlock[':code'].$post({ param: { code }, json: { userId, lockId: claimed.json.lockId } }, init))).status).toBe(200);
    const locked = await keyed((init) => client.coupons.lock[':code'].$post({ param: { code }, json: { userId, ttlSeconds: 86_400 } }, init));
    expect(locked.status).toBe(200);
    const redeemed = await keyed((init) =>
      client.coupons.redeem[':code'].$post({ param: { code }, json: { userId, lockId: locked.json.lockId, orderId: 'o'.repeat(128), context } }, init),
    );
    expect(redeemed.status).toBe(200);
    expect((await idemItems()).filter((i) => i.state === 'pending')).toEqual([]);
    await expectInvariants(api);
  });

  it('when the response cannot be stored, the answer still stands and the key is released, not left pending', async () => {
    // DynamoDB Local accepts every valid write, so this test refuses the one that stores the
    // response, shaped as DynamoDB refuses an oversized item (a ValidationException).
    const client = api.core.store.client;
    let refused = 0;
    client.middlewareStack.add(
      (next) => async (args: any) => {
        const input = args.input;
        if (String(input?.Key?.pk).includes('#IDEM#') && /SET/.test(input?.UpdateExpression ?? '') && JSON.stringify(input.ExpressionAttributeValues ?? {}).includes('"done"')) {
          refused++;
          throw Object.assign(new Error('Item size has exceeded the maximum allowed size'), { name: 'ValidationException', $fault: 'client', $metadata: { httpStatusCode: 400 } });
        }
        return next(args);
      },
      { step: 'initialize', name: 'refuseStoredResponse' },
    );
    try {
      const book = await createBook(api);
      const headers = { 'idempotency-key': randomUUID() };
      const codes = [uniqueCode('RS'), uniqueCode('RS')];
      const first = await answer(api.client(await admin()).coupons.codes.$post({ json: { bookId: book.id, codes } }, { headers }));
      expect(first.status).toBe(200);
      expect(first.json.inserted).toBe(2);
      expect(refused).toBeGreaterThan(0);
      expect((await idemItems()).filter((i) => i.key === headers['idempotency-key'])).toEqual([]);
    } finally {
      client.middlewareStack.remove('refuseStoredResponse');
    }
  });
});

describe('copies of one keyed request racing each other', () => {
  it('150 users each send their claim twice at once (50 codes, cap 1): both copies answer alike; the table has 50 holders', async () => {
    const { book } = await bookWithCodes(api, 50, { maxCodesPerUser: 1 });
    const users = Array.from({ length: 150 }, (_, i) => `racer-${i}-${randomUUID().slice(0, 6)}`);
    const tokens = await Promise.all(users.map((u) => user(u)));
    const answers = await Promise.all(
      users.map(async (u, i) => {
        const headers = { 'idempotency-key': `claim-${u}` };
        const send = () => answer(api.client(tokens[i]!).coupons.assign.$post({ json: { bookId: book.id } }, { headers }));
        return { user: u, copies: await Promise.all([send(), send()]) };
      }),
    );
    const split = answers.filter((a) => a.copies[0]!.status !== a.copies[1]!.status);
    expect(split.map((a) => `${a.user}: ${a.copies.map((c) => `${c.status} ${c.json?.error?.code ?? ''}`).join(' / ')}`)).toEqual([]);
    const winners = answers.filter((a) => a.copies[0]!.status === 201);
    expect(winners).toHaveLength(50);
    for (const w of winners) expect(w.copies[1]!.json.code).toBe(w.copies[0]!.json.code);
    for (const l of answers.filter((a) => a.copies[0]!.status !== 201)) for (const c of l.copies) expectError(c, 409, 'BOOK_EXHAUSTED');
    // The table: each winner holds exactly the code both its copies named, and nobody else holds one.
    const items = await api.scan();
    const held = items.filter((i) => i.__edb_e__ === 'code' && i.bookId === book.id && i.status === 'assigned');
    expect(held).toHaveLength(50);
    expect(new Map(held.map((c) => [c.userId, c.code]))).toEqual(new Map(winners.map((w) => [w.user, w.copies[0]!.json.code])));
    const records = items.filter((i) => i.__edb_e__ === 'idempotencyRecord' && i.key.startsWith('claim-racer-'));
    expect(new Set(records.map((r) => r.caller))).toEqual(new Set(winners.map((w) => w.user)));
    expect(checkInvariants(items).violations).toEqual([]);
  }, 120_000);

  it('eight simultaneous assign-by-name under one key: all 201 with one answer; the code is assigned once', async () => {
    for (let round = 0; round < 3; round++) {
      const { book, codes } = await bookWithCodes(api, 1);
      const headers = { 'idempotency-key': randomUUID() };
      const token = await service();
      const results = await Promise.all(
        Array.from({ length: 8 }, () => answer(api.client(token).coupons.assign[':code'].$post({ param: { code: codes[0] }, json: { userId: `named-${round}` } }, { headers }))),
      );
      expect(results.map((r) => `${r.status} ${r.json?.error?.code ?? ''}`.trim())).toEqual(Array(8).fill('201'));
      expect(new Set(results.map((r) => JSON.stringify(r.json))).size).toBe(1);
      const items = await api.scan();
      const code = items.find((i) => i.__edb_e__ === 'code' && i.bookId === book.id)!;
      expect(code).toMatchObject({ status: 'assigned', userId: `named-${round}` });
      expect(items.filter((i) => i.__edb_e__ === 'idempotencyRecord' && i.key === headers['idempotency-key'])).toHaveLength(1);
      expect(checkInvariants(items).violations).toEqual([]);
    }
  });

  it('a refusal that no copy caused is still answered as a refusal, and writes no record', async () => {
    const book = await createBook(api);
    const headers = { 'idempotency-key': randomUUID() };
    expectError(await answer(api.client(await user('empty-handed')).coupons.assign.$post({ json: { bookId: book.id } }, { headers })), 409, 'BOOK_EXHAUSTED');
    expect((await idemItems()).filter((i) => i.key === headers['idempotency-key'])).toEqual([]);
  });
});

describe('a stored response is never replayed to another caller', () => {
  it('sub "alice-is" with key "K#1" and sub "alice-is#K" with key "1" never share a record', async () => {
    // "alice-is#K" is not a valid user id, so over HTTP its token is refused (401) before any record is read...
    const { book } = await bookWithCodes(api, 4);
    const first = await answer(api.client(await user('alice-is')).coupons.assign.$post({ json: { bookId: book.id } }, { headers: { 'idempotency-key': 'K#1' } }));
    expect(first.status).toBe(201);
    expectError(
      await answer(api.client(await user('alice-is#K')).coupons.assign.$post({ json: { bookId: book.id } }, { headers: { 'idempotency-key': '1' } })),
      401,
      'UNAUTHENTICATED',
    );
    // ...and the record's key itself keeps the two apart, whatever the parts hold.
    const claim = (caller: string, key: string): IdempotencyClaim => ({ tenant: 't1', role: 'user', caller, key, requestHash: 'same', status: 201 });
    // The first request's work commits its record the way every one-transaction use case does.
    const a = await runIdempotent(api.core, claim('alice-is', 'K#2'), 201, async (c) => {
      await api.core.store.service.transaction.write((e) => [idempotencyPut(e, c!, { who: 'alice-is' }, Date.now())]).go();
      return { who: 'alice-is' };
    });
    let ranSecond = false;
    const b = await runIdempotent(api.core, claim('alice-is#K', '2'), 201, async () => {
      ranSecond = true;
      return { who: 'alice-is#K' };
    });
    expect(a).toEqual({ status: 201, body: { who: 'alice-is' }, replayed: false });
    expect(ranSecond).toBe(true);
    expect(b.body).toEqual({ who: 'alice-is#K' });
    const keys = (await idemItems()).filter((i) => ['K#1', '1', 'K#2', '2'].includes(i.key));
    expect(keys.map((k) => `${k.caller} ${k.key}`).sort()).toEqual(['alice-is K#1', 'alice-is K#2']);
  });

  it("a user token whose sub is a service's sub does not get the service's replay: 403, as without the key, and nothing changes", async () => {
    const { book } = await bookWithCodes(api, 3);
    const headers = { 'idempotency-key': randomUUID() };
    const body = { bookId: book.id, userId: 'someone-else' };
    const served = await answer(api.client(await service('t1', 'svc-shared')).coupons.assign.$post({ json: body }, { headers }));
    expect(served.status).toBe(201);
    const before = await api.scanState();
    const impostor = await answer(api.client(await user('svc-shared')).coupons.assign.$post({ json: body }, { headers }));
    expectError(impostor, 403, 'FORBIDDEN');
    expect(impostor.text).not.toContain(served.json.code);
    expect(await api.scanState()).toEqual(before);
  });
});

