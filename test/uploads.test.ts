import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AppError,
  assignNamedCode,
  idempotencyScope,
  isMistypedCheckedCode,
  lockCode,
  redeemCode,
  unlockCode,
  withCheckChar,
  type CoreContext,
} from '@coupons/core';
import { admin, answer, bookStats, createBook, expectError, service, startTestApi, uniqueCode, type TestApi } from './support/harness.ts';
import { expectInvariants } from './support/invariants.ts';

// Uploads at scale and check characters, over real HTTP against DynamoDB Local. The table
// (api.scan()) is the ground truth: every code is written once, by exactly one request, into
// that request's book, and never touched again by a later or overlapping upload.
let api: TestApi;
beforeAll(async () => {
  api = await startTestApi('uploads');
});
afterAll(() => api.close());


const codeItems = async () => (await api.scan()).filter((i) => i.__edb_e__ === 'code' && i.tenant === 't1');
const stats = (bookId: string) => bookStats(api, bookId);
const upload = async (bookId: string, codes: string[], headers?: Record<string, string>) =>
  answer(api.client(await admin()).coupons.codes.$post({ json: { bookId, codes } }, headers && { headers }));

describe('overlapping uploads', () => {
  it('eight concurrent overlapping uploads into two books: each code written once, by one request, into its book; reports exact', async () => {
    const books = [await createBook(api, { name: 'Overlap A' }), await createBook(api, { name: 'Overlap B' })];
    const pool = Array.from({ length: 1500 }, () => uniqueCode('OV'));
    // Request r takes a window of 600 codes starting 150·r further: each overlaps the next
    // three. It also carries 10 codes of its own twice (the second time in lower case, padded)
    // and 2 invalid ones.
    const requests = Array.from({ length: 8 }, (_, r) => {
      const window = pool.slice(r * 150, r * 150 + 600);
      const own = Array.from({ length: 10 }, () => uniqueCode('RP'));
      const codes = [...window, ...own, ...own.map((c) => `  ${c.toLowerCase()} `), 'no!', `X${r}`];
      return { bookId: books[r % 2]!.id, window, own, codes };
    });
    const answers = await Promise.all(requests.map((q) => upload(q.bookId, q.codes)));

    const covered = pool.slice(0, 7 * 150 + 600);
    const all = await codeItems();
    const items = new Map(all.filter((i) => covered.includes(i.code)).map((i) => [i.code, i]));
    expect(items.size).toBe(covered.length);
    const insertedBy = new Map<string, number>();
    answers.forEach((a, r) => {
      expect(a.status).toBe(200);
      const q = requests[r]!;
      expect(a.json.invalid.map((x: any) => x.code).sort()).toEqual([`X${r}`, 'no!'].sort());
      // Every code appears at most once in the report; each repeat inside the request once.
      expect(new Set(a.json.duplicates).size).toBe(a.json.duplicates.length);
      for (const c of q.own) expect(a.json.duplicates).toContain(c);
      // The rest of the report is what other requests had already written.
      const existed = new Set<string>(a.json.duplicates.filter((c: string) => !q.own.includes(c)));
      for (const c of existed) expect(q.window).toContain(c);
      const insertedHere = [...q.window.filter((c) => !existed.has(c)), ...q.own];
      expect(insertedHere).toHaveLength(a.json.inserted);
      for (const c of insertedHere) {
        expect(insertedBy.has(c), `${c} inserted twice`).toBe(false);
        insertedBy.set(c, r);
        // In the book of the request that wrote it: nobody moved it afterwards.
        expect(all.find((i) => i.code === c)?.bookId).toBe(q.bookId);
      }
    });
    // Every code was inserted by exactly one request, and the reports add up to the table.
    expect(insertedBy.size).toBe(items.size + 8 * 10);
    const total = answers.reduce((n, a) => n + a.json.inserted, 0);
    expect(total).toBe(insertedBy.size);
    const [a, b] = await Promise.all(books.map((bk) => stats(bk.id)));
    expect(a.codes + b.codes).toBe(insertedBy.size);
    await expectInvariants(api);

    // The same eight again, at once: nothing inserted, nothing touched.
    const before = JSON.stringify(await api.scanState());
    const again = await Promise.all(requests.map((q) => upload(q.bookId, q.codes)));
    for (const [r, x] of again.entries()) {
      expect(x.json.inserted).toBe(0);
      expect([...x.json.duplicates].sort()).toEqual([...requests[r]!.window, ...requests[r]!.own].sort());
    }
    const after = (await api.scanState()).filter((i) => i.__edb_e__ !== 'idempotencyRecord');
    expect(JSON.stringify(after)).toBe(JSON.stringify(JSON.parse(before).filter((i: any) => i.__edb_e__ !== 'idempotencyRecord')));
    expect(await stats(books[0]!.id)).toEqual(a);
    expect(await stats(books[1]!.id)).toEqual(b);
  });

  it('5,000 codes in one request: pool shards within one code of each other, so a random pick is uniform', async () => {
    const book = await createBook(api, { name: 'Five thousand' });
    const r = await upload(book.id, Array.from({ length: 5000 }, () => uniqueCode('FK')));
    expect(r.json).toEqual({ inserted: 5000, duplicates: [], invalid: [] });
    const perShard = new Map<number, number>();
    for (const i of (await codeItems()).filter((x) => x.bookId === book.id)) perShard.set(i.shard, (perShard.get(i.shard) ?? 0) + 1);
    expect(perShard.size).toBe(16);
    expect(Math.max(...perShard.values()) - Math.min(...perShard.values())).toBeLessThanOrEqual(1);
    expect(await stats(book.id)).toEqual({ codes: 5000, available: 5000, assigned: 0, redeemed: 0 });
  });

  it('5,000 codes with 500 already taken in another book: exact report, exact stats, the taken ones untouched', async () => {
    const other = await createBook(api, { name: 'Taken' });
    const book = await createBook(api, { name: 'Mostly new' });
    const codes = Array.from({ length: 5000 }, () => uniqueCode('TK'));
    const taken = codes.filter((_, i) => i % 10 === 0);
    expect((await upload(other.id, taken)).json.inserted).toBe(500);
    const before = JSON.stringify((await codeItems()).filter((i) => i.bookId === other.id));
    const r = await upload(book.id, codes);
    expect(r.status).toBe(200);
    expect(r.json.inserted).toBe(4500);
    expect([...r.json.duplicates].sort()).toEqual([...taken].sort());
    expect(JSON.stringify((await codeItems()).filter((i) => i.bookId === other.id))).toBe(before);
    expect(await stats(book.id)).toEqual({ codes: 4500, available: 4500, assigned: 0, redeemed: 0 });
    expect(await stats(other.id)).toEqual({ codes: 500, available: 500, assigned: 0, redeemed: 0 });
    await expectInvariants(api);
  });

  it('writes codes only with conditional TransactWriteItems of at most 100 items, never BatchWriteItem', async () => {
    const book = await createBook(api, { name: 'Only conditional' });
    const seen: { command: string; input: any }[] = [];
    const client = api.core.store.client;
    client.middlewareStack.add(
      (next, context) => async (args) => {
        seen.push({ command: (context as { commandName?: string }).commandName ?? '', input: args.input });
        return next(args);
      },
      { step: 'initialize', name: 'recordCommands' },
    );
    try {
      const codes = Array.from({ length: 1500 }, () => uniqueCode('CW'));
      await upload(book.id, codes.slice(0, 300));
      const r = await upload(book.id, codes);
      expect(r.json.inserted).toBe(1200);
    } finally {
      client.middlewareStack.remove('recordCommands');
    }
    const commands = new Set(seen.map((s) => s.command));
    expect(commands.has('BatchWriteItemCommand')).toBe(false);
    const codePuts = seen.flatMap((s) => {
      if (s.command === 'PutItemCommand' || s.command === 'PutCommand') return [s.input];
      if (s.command === 'TransactWriteItemsCommand' || s.command === 'TransactWriteCommand') {
        expect(s.input.TransactItems.length).toBeLessThanOrEqual(100);
        return s.input.TransactItems.filter((t: any) => t.Put).map((t: any) => t.Put);
      }
      return [];
    }).filter((p) => String(p.Item?.pk).startsWith('T#t1#CODE#'));
    expect(codePuts.length).toBeGreaterThanOrEqual(1500);
    for (const p of codePuts) expect(p.ConditionExpression).toMatch(/attribute_not_exists/);
    // No code was written by anything but those puts (no Update that could create or move one).
    const codeUpdates = seen.flatMap((s) => (s.input.TransactItems ?? []).filter((t: any) => t.Update && String(t.Update.Key?.pk).startsWith('T#t1#CODE#')));
    expect(codeUpdates).toEqual([]);
    await expectInvariants(api);
  });
});

describe('an upload whose server died mid-request', () => {
  it('its Idempotency-Key is taken over by a retry once the pending record is stale, instead of 503 for a day', async () => {
    const book = await createBook(api, { name: 'Abandoned key' });
    const codes = [uniqueCode('AK'), uniqueCode('AK'), uniqueCode('AK')];
    const key = `abandoned-${book.id}`;
    const body = { bookId: book.id, codes };
    // The hash the idempotency middleware computes: method, path and the canonical body.
    const requestHash = createHash('sha256').update(`POST /coupons/codes\n${JSON.stringify(body)}`).digest('hex');
    const pending = (k: string, ageMs: number) =>
      api.core.store.idempotencyRecord
        .create({ tenant: 't1', scope: idempotencyScope({ role: 'admin', caller: 'admin-1', key: k }), role: 'admin', caller: 'admin-1', key: k, requestHash, state: 'pending', createdAt: new Date(Date.now() - ageMs).toISOString(), expiresAt: Math.floor(Date.now() / 1000) + 3600 })
        .go();
    // What a request that died ten minutes ago left: its claim on the key, and one code written.
    expect((await upload(book.id, [codes[0]])).json.inserted).toBe(1);
    await pending(key, 10 * 60_000);
    const retry = await answer(api.client(await admin()).coupons.codes.$post({ json: body }, { headers: { 'idempotency-key': key } }));
    expect(retry.status).toBe(200);
    expect(retry.json).toEqual({ inserted: 2, duplicates: [codes[0]], invalid: [] });
    // The key now holds the retry's answer.
    const again = await answer(api.client(await admin()).coupons.codes.$post({ json: body }, { headers: { 'idempotency-key': key } }));
    expect(again.json).toEqual(retry.json);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    // (A pending record younger than STALE_PENDING_MS still makes a retry wait for its answer.)
    await expectInvariants(api);
  });
});

describe('check characters', () => {
  it('a book with checkChar generates codes ending in "_" and a valid check character', async () => {
    const book = await createBook(api, { name: 'Checked', codePattern: 'CK-****-****', checkChar: true });
    expect(book.checkChar).toBe(true);
    const r = await answer(api.client(await admin()).coupons.codes.generate.$post({ json: { bookId: book.id, count: 200 } }));
    expect(r.status).toBe(201);
    for (const code of r.json.codes) {
      expect(code).toMatch(/^CK-[A-HJKMNP-Z2-9]{4}-[A-HJKMNP-Z2-9]{4}_[A-HJKMNP-Z2-9]$/);
      expect(withCheckChar(code.slice(0, -2))).toBe(code);
    }
    // The request may ask for it too, on a book without it; or turn it off on a book with it.
    const plain = await createBook(api, { name: 'Plain', codePattern: 'PL-******' });
    const asked = await answer(api.client(await admin()).coupons.codes.generate.$post({ json: { bookId: plain.id, count: 5, checkChar: true } }));
    expect(asked.json.codes).toHaveLength(5);
    for (const code of asked.json.codes) expect(isMistypedCheckedCode(code) || !code.includes('_')).toBe(false);
    const off = await answer(api.client(await admin()).coupons.codes.generate.$post({ json: { bookId: book.id, count: 5, checkChar: false } }));
    expect(off.json.codes).toHaveLength(5);
    for (const code of off.json.codes) expect(code).toMatch(/^CK-[^_]{4}-[^_]{4}$/);
    await expectInvariants(api);
  });

  it('the reserved form is refused in uploads when its check character is wrong, accepted when right', async () => {
    const book = await createBook(api, { name: 'Reserved form' });
    const good = withCheckChar(uniqueCode('RF'));
    const bad = `${good.slice(0, -1)}${good.at(-1) === 'A' ? 'B' : 'A'}`;
    const r = await upload(book.id, [good, bad, 'SALE_0']);
    expect(r.json.inserted).toBe(1);
    expect(r.json.invalid.map((x: any) => x.code).sort()).toEqual([bad, 'SALE_0'].sort());
    for (const x of r.json.invalid) expect(x.reason).toMatch(/check character/);
  });

  it('patterns that would make codes in the reserved form are refused without checkChar', async () => {
    const r = await answer(api.client(await admin()).coupons.$post({ json: { name: 'x', codePattern: 'SALE-##_#' } }));
    expectError(r, 400, 'VALIDATION_FAILED');
    const ok = await answer(api.client(await admin()).coupons.$post({ json: { name: 'x', codePattern: 'SALE-##_#', checkChar: true } }));
    expect(ok.status).toBe(201);
    const book = await createBook(api, { name: 'Pattern rules' });
    expectError(
      await answer(api.client(await admin()).coupons.codes.generate.$post({ json: { bookId: book.id, count: 1, pattern: 'X-###_#' } })),
      400,
      'VALIDATION_FAILED',
    );
    expectError(
      await answer(api.client(await admin()).coupons.codes.generate.$post({ json: { bookId: book.id, count: 1, pattern: '#'.repeat(63), checkChar: true } })),
      400,
      'VALIDATION_FAILED',
    );
  });

  it('a mistyped checked code is CODE_NOT_FOUND for lock, unlock, redeem and assign-by-name', async () => {
    const book = await createBook(api, { name: 'Typos', codePattern: 'TY-******', checkChar: true });
    const [code] = (await answer(api.client(await admin()).coupons.codes.generate.$post({ json: { bookId: book.id, count: 1 } }))).json.codes;
    // One character off, in the random part.
    const typo = code.slice(0, 3) + (code[3] === 'A' ? 'B' : 'A') + code.slice(4);
    expect(isMistypedCheckedCode(typo)).toBe(true);
    const svc = await service();
    expectError(await answer(api.client(svc).coupons.assign[':code'].$post({ param: { code: typo }, json: { userId: 'typist' } })), 404, 'CODE_NOT_FOUND');
    expect((await answer(api.client(svc).coupons.assign[':code'].$post({ param: { code }, json: { userId: 'typist' } }))).status).toBe(201);
    const coupons = api.client(svc).coupons;
    for (const action of ['lock', 'unlock', 'redeem'] as const) {
      expectError(await answer(coupons[action][':code'].$post({ param: { code: typo }, json: { userId: 'typist' } })), 404, 'CODE_NOT_FOUND');
    }
    expect((await answer(api.client(svc).coupons.redeem[':code'].$post({ param: { code }, json: { userId: 'typist' } }))).status).toBe(200);
    await expectInvariants(api);
  });

  it('…and is refused before any database read', async () => {
    // A context whose store fails on any use: the refusal must come before it is touched.
    const untouchable = new Proxy(
      {},
      {
        get() {
          throw new Error('the database was touched');
        },
      },
    );
    const ctx = { ...api.core, store: untouchable } as unknown as CoreContext;
    const typo = `${withCheckChar('TY-K7M2Q9').slice(0, -1)}${withCheckChar('TY-K7M2Q9').at(-1) === 'Z' ? 'Y' : 'Z'}`;
    const actor = { sub: 'svc', tenant: 't1', role: 'service' as const };
    const calls = [
      () => lockCode(ctx, actor, typo, { userId: 'u' }),
      () => unlockCode(ctx, actor, typo, { userId: 'u' }),
      () => redeemCode(ctx, actor, typo, { userId: 'u' }),
      () => assignNamedCode(ctx, actor, typo, { userId: 'u' }),
    ];
    for (const call of calls) {
      const e = await call().catch((x) => x);
      expect(e).toBeInstanceOf(AppError);
      expect(e.code).toBe('CODE_NOT_FOUND');
    }
  });
});
