import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { messageIdOf, recordDelivery, useJobDispatcher } from '@coupons/core';
import { unwrap } from '@coupons/client';
import { admin, answer, bookWithCodes, startTestApi, uniqueCode, user, type CallResult, type TestApi } from './support/harness.ts';

// Property-based fuzzing of every route's input: bodies from arbitrary JSON
// and from near-valid mutations of a valid body, path parameters, query
// strings. Whatever comes in:
// - never a 5xx;
// - every 4xx in the documented shape, with a documented code for its status;
// - nothing of the inside in any body: stack frames, file paths, AWS error
//   names, DynamoDB expression text (unless the request itself said it: an
//   echoed input is not a leak);
// - a 4xx leaves the table exactly as it was (a 2xx moves the snapshot on);
// - no prototype pollution (the server runs in this process).
//
// Runs are reproducible: FUZZ_SEED=<seed> fixes the seed; on failure fast-check
// prints the seed and the path of the counterexample. FUZZ_RUNS sets the runs
// per property, FUZZ_STATS=1 prints what the runs answered, by route.
//
// Rate limits are off for the caller (RATE_LIMIT_CALLER_PER_MINUTE=0) and for
// code guessing (RATE_LIMIT_MISSES_PER_10_MINUTES=0): one fuzzing caller sends
// hundreds of requests, most for codes that do not exist, and would otherwise
// be answered 429 before its input reaches validation and the domain. The
// limits have their own tests (rate-limit.test.ts).

const SEED = process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED);
const params = (numRuns: number): fc.Parameters<any> => ({ numRuns, ...(SEED === undefined ? {} : { seed: SEED }) });
/** Runs per property; FUZZ_RUNS=500 for a longer hunt. */
const RUNS = Number(process.env.FUZZ_RUNS ?? 30);

/** The documented error table (docs/api.md#errors): every code a status may carry. */
const DOCUMENTED: Record<number, string[]> = {
  400: ['VALIDATION_FAILED', 'MALFORMED_JSON'],
  401: ['UNAUTHENTICATED'],
  403: ['FORBIDDEN'],
  404: ['BOOK_NOT_FOUND', 'CODE_NOT_FOUND', 'JOB_NOT_FOUND', 'ROUTE_NOT_FOUND', 'REDEMPTION_NOT_FOUND', 'WEBHOOK_NOT_FOUND', 'DELIVERY_NOT_FOUND', 'API_KEY_NOT_FOUND'],
  409: [
    'BOOK_EXHAUSTED',
    'BOOK_NOT_ACTIVE',
    'USER_CODE_LIMIT_REACHED',
    'CODE_ALREADY_ASSIGNED',
    'CODE_LOCKED',
    'CODE_NOT_LOCKED',
    'REDEMPTION_LIMIT_REACHED',
    'LOCK_LIMIT_REACHED',
    'CODE_EXPIRED',
    'REDEMPTION_ALREADY_ROLLED_BACK',
    'TENANT_LIMIT_REACHED',
    'DELIVERY_NOT_FAILED',
  ],
  413: ['PAYLOAD_TOO_LARGE'],
  422: ['IDEMPOTENCY_KEY_REUSED'],
  429: ['RATE_LIMITED'],
};

/** What must never reach a client (unless the client sent it). */
const LEAKS: RegExp[] = [
  /\bat [\w$.<>[\] ]+ \(/g, // a stack frame
  /[\w-]+\.(?:ts|js|mjs|cjs):\d+/g, // file:line
  /(?:\/work\/|\/home\/|\/usr\/|\/tmp\/|file:\/\/)/g,
  /node_modules/g,
  /Exception|ValidationException|ConditionalCheck|DynamoDB/g,
  /ElectroError|electrodb|TypeError|ReferenceError|RangeError|SyntaxError|Cannot read propert|is not a function|Unexpected token|in JSON at position/gi,
  /attribute_(?:not_)?exists|attribute_type|begins_with\(|\w+Expression|#\w+\s*(?:=|<>|<=?|>=?)\s*:\w+/g,
];

let api: TestApi;
let adminToken: string;
let userToken: string;
let snapshot: Record<string, any>[];
let protoKeys: string[];
const f = {} as {
  bookId: string; // uploads, generation, named assignment, and the held codes' book
  patchBookId: string; // PATCH only: a paused or expired book must not starve the others
  poolBookId: string; // random assignment
  freeCodes: string[];
  heldCodes: string[];
  userCursor: string;
  bookCursor: string;
  /** Redemptions of the held codes, to roll back. */
  redemptionIds: string[];
  bookCodesCursor: string;
  jobId: string;
  webhookId: string;
  /** Only the DELETE property uses these. */
  webhooksToDelete: string[];
  /** Failed messages to `webhookId`, to send again. */
  failedMessages: string[];
};

beforeAll(async () => {
  api = await startTestApi('fuzz', { RATE_LIMIT_CALLER_PER_MINUTE: '0', RATE_LIMIT_MISSES_PER_10_MINUTES: '0' });
  adminToken = await admin();
  userToken = await user('fuzzer');
  const [main, patch, pool] = await Promise.all([
    bookWithCodes(api, 12, { codePattern: 'BK-###', maxRedemptionsPerUser: 1_000_000 }),
    bookWithCodes(api, 1),
    bookWithCodes(api, 12),
  ]);
  f.bookId = main.book.id;
  f.patchBookId = patch.book.id;
  f.poolBookId = pool.book.id;
  f.freeCodes = main.codes.slice(0, 8);
  f.heldCodes = main.codes.slice(8);
  const asAdmin = api.client(adminToken);
  for (const code of f.heldCodes) await unwrap(asAdmin.coupons.assign[':code'].$post({ param: { code }, json: { userId: 'fuzzer' } }));
  f.redemptionIds = [];
  for (const code of f.heldCodes) {
    f.redemptionIds.push((await unwrap(asAdmin.coupons.redeem[':code'].$post({ param: { code }, json: { userId: 'fuzzer' } }))).redemptionId);
  }
  // Real cursors, to forge from.
  const one = { limit: '1' };
  f.userCursor = (await unwrap(api.client(userToken).users[':userId'].coupons.$get({ param: { userId: 'fuzzer' }, query: one }))).nextCursor!;
  f.bookCursor = (await unwrap(asAdmin.coupons.$get({ query: one }))).nextCursor!;
  f.bookCodesCursor = (await unwrap(asAdmin.coupons[':bookId'].codes.$get({ param: { bookId: f.bookId }, query: one }))).nextCursor!;
  if (!f.userCursor || !f.bookCursor || !f.bookCodesCursor) throw new Error('fixture: no cursors');
  // A job that stays queued (a dispatcher that runs nothing): no 10,001 codes written in the background.
  useJobDispatcher(api.core, { kind: 'test-noop', dispatch: async () => undefined });
  const job = await asAdmin.coupons.codes.generate.$post({ json: { bookId: f.patchBookId, count: 10_001, pattern: 'FJ-********' } });
  if (job.status !== 202) throw new Error(`fixture job: ${job.status} ${await job.text()}`);
  f.jobId = (await job.json()).jobId;
  const hooks = await Promise.all(Array.from({ length: 4 }, async () => (await unwrap(asAdmin.webhooks.$post({ json: { url: 'https://example.com/hooks' } }))).id));
  [f.webhookId, ...f.webhooksToDelete] = hooks as [string, ...string[]];
  // Failed messages, as the dispatcher records one whose retries ran out.
  f.failedMessages = await Promise.all(
    [1, 2, 3].map(async (n) => {
      const messageId = messageIdOf(Date.now(), 'fuzz', n);
      await recordDelivery(api.core, { tenant: 't1', webhookId: f.webhookId, messageId, eventType: 'book.exhausted', lane: 'fuzz', order: '0', body: '{}' }, { status: 'failed', attempts: 4 });
      return messageId;
    }),
  );
  snapshot = await api.scanState();
  protoKeys = Object.getOwnPropertyNames(Object.prototype).sort();
});
afterAll(() => api?.close());

// ---------------------------------------------------------------------------
// Checking one request

/** Every string in a JSON value, keys included. */
function strings(v: unknown, out: string[] = []): string[] {
  if (typeof v === 'string') out.push(v);
  else if (Array.isArray(v)) for (const x of v) strings(x, out);
  else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) {
    out.push(k);
    strings(x, out);
  }
  return out;
}

const safeDecode = (s: string) => {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
};

function leaksIn(r: CallResult, input: string): string[] {
  const haystack = input.toLowerCase();
  const texts = r.json === undefined ? [r.text] : strings(r.json);
  const found: string[] = [];
  for (const text of texts) {
    for (const re of LEAKS) {
      for (const m of text.matchAll(re)) if (!haystack.includes(m[0].toLowerCase())) found.push(m[0]);
    }
  }
  return found;
}

interface Probe {
  method: string;
  path: string;
  token?: string;
  /** The body as sent (raw JSON text, so keys like __proto__ go out as they are). */
  raw?: string;
}

/** What the runs answered, by route (FUZZ_STATS=1 prints it): are inputs reaching the domain? */
const seen = new Map<string, Map<string, number>>();
function tally(p: Probe, r: CallResult) {
  const route = `${p.method} ${p.path.split('?')[0]!.replace(/^\/(coupons\/(?:lock|unlock|redeem|assign)|users|jobs)\/[^/]+/, '/$1/:x').replace(/^\/coupons\/(?!codes$|codes\/generate$|assign$)[^/]+$/, '/coupons/:id')}`;
  const key = r.status < 300 ? String(r.status) : `${r.status} ${r.json?.error?.code}`;
  const m = seen.get(route) ?? new Map<string, number>();
  m.set(key, (m.get(key) ?? 0) + 1);
  seen.set(route, m);
}
afterAll(() => {
  if (process.env.FUZZ_STATS) for (const [route, m] of seen) console.log(route.padEnd(40), JSON.stringify(Object.fromEntries(m)));
});

/** Sends one request and checks every property; throws (for fast-check) with what went wrong. */
async function check(p: Probe): Promise<void> {
  const r = await api.call(p.method, p.path, { token: p.token, raw: p.raw });
  tally(p, r);
  const problems: string[] = [];
  if (r.status >= 500) problems.push(`a ${r.status}`);
  if (r.status >= 400) {
    const e = r.json?.error;
    const shapeOk =
      r.json &&
      typeof r.json === 'object' &&
      Object.keys(r.json).join() === 'error' &&
      typeof e?.code === 'string' &&
      typeof e?.message === 'string' &&
      Object.keys(e).every((k) => ['code', 'message', 'details'].includes(k));
    if (!shapeOk) problems.push('not the documented error shape');
    else if (r.status < 500 && !DOCUMENTED[r.status]?.includes(e.code)) problems.push(`${e.code} is not a documented code for ${r.status}`);
  }
  let parsedInput: unknown;
  try {
    parsedInput = p.raw === undefined ? undefined : JSON.parse(p.raw);
  } catch {
    parsedInput = undefined;
  }
  const input = [p.path, safeDecode(p.path), ...p.path.split(/[/?&=]/).map(safeDecode), p.raw ?? '', ...strings(parsedInput)].join('\n');
  const leaks = leaksIn(r, input);
  if (leaks.length) problems.push(`leaks ${JSON.stringify(leaks)}`);
  const now = await api.scanState();
  if (r.status >= 300 && JSON.stringify(now) !== JSON.stringify(snapshot)) problems.push(`a ${r.status} changed the table`);
  snapshot = now; // move on either way, so one failure does not spoil the runs (and shrinks) after it
  if (({} as any).polluted !== undefined || Object.getOwnPropertyNames(Object.prototype).sort().join() !== protoKeys.join()) {
    problems.push('Object.prototype was polluted');
  }
  if (problems.length) {
    throw new Error(`${p.method} ${p.path.slice(0, 300)} body ${String(p.raw).slice(0, 300)}\n→ ${r.status} ${r.text.slice(0, 500)}\n${problems.join('; ')}`);
  }
}

// ---------------------------------------------------------------------------
// Inputs

/** Pre-serialized JSON: sent as is, so `__proto__` stays an own key. */
class Raw {
  constructor(readonly text: string) {}
}
const ser = (v: unknown): string => {
  if (v instanceof Raw) return v.text;
  if (Array.isArray(v)) return `[${v.map(ser).join(',')}]`;
  if (v && typeof v === 'object') return `{${Object.entries(v).map(([k, x]) => `${JSON.stringify(k)}:${ser(x)}`).join(',')}}`;
  return JSON.stringify(v) ?? 'null';
};
const nest = (depth: number, leaf: unknown = 1): unknown => (depth === 0 ? leaf : { a: nest(depth - 1, leaf) });
const nestArrays = (depth: number): unknown => (depth === 0 ? 1 : [nestArrays(depth - 1)]);

const PROTO_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf', '__defineGetter__'];
const protoPayload = fc.constantFrom(
  new Raw('{"__proto__":{"polluted":"yes"}}'),
  new Raw('{"constructor":{"prototype":{"polluted":"yes"}}}'),
  new Raw('{"__proto__":null}'),
  new Raw('{"toString":"x","valueOf":1}'),
);

const unicode = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  // biome-ignore lint/suspicious/noTemplateCurlyInString: '${x}' is one of the hostile strings, sent as it is
  fc.constantFrom('\u0000', '\u202e', 'ﬀ', 'ß', 'ı', 'İ', 'ＡＢＣ', '💥💥💥', '\ud800', '\udfff', ' ', '', '\t\n', 'a\u0301', '%2F', '../..', '${x}', '<script>', "'; --"),
);
const hugeString = fc.constantFrom(65, 129, 257, 2001, 4097, 100_000).map((n) => 'x'.repeat(n));
const oddNumber = fc.oneof(
  fc.constantFrom(0, -0, -1, 0.5, 1.5, -1.5, 1e21, 2 ** 53 + 2, 1e126, 1e308, -1e308, 5e-324, 1e-131, 86_401, 1_000_001, 10_000_001, 2 ** 31),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
);
const deep = fc.oneof(
  fc.integer({ min: 20, max: 300 }).map((d) => nest(d)),
  fc.integer({ min: 20, max: 300 }).map(nestArrays),
);
/** A value of any kind, mostly wrong for whatever field it lands in. */
const weird: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(null, true, false, [], {}, ''),
  oddNumber,
  unicode,
  hugeString,
  deep,
  protoPayload,
  fc.jsonValue({ maxDepth: 3 }),
  fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 5 }),
  fc.dictionary(fc.oneof(fc.string(), fc.constantFrom(...PROTO_KEYS, '')), fc.oneof(oddNumber, unicode, deep), { maxKeys: 4 }),
);

type Mutation = { drop: string } | { set: string; value: unknown } | { extra: string; value: unknown };

/**
 * Bodies near a valid one: one to three mutations (drop a field, give a field
 * a value from `weird` or from its own arbitrary, add an unknown or
 * prototype key), serialized key by key.
 */
function nearValid(valid: Record<string, unknown>, fieldValues: Record<string, fc.Arbitrary<unknown>> = {}): fc.Arbitrary<string> {
  const fields = Object.keys(valid);
  const mutation: fc.Arbitrary<Mutation> = fc.oneof(
    fc.constantFrom(...fields).map((drop) => ({ drop })),
    fc.constantFrom(...fields).chain((set) => (fieldValues[set] ? fc.oneof(fieldValues[set], weird) : weird).map((value) => ({ set, value }))),
    fc.record({ extra: fc.oneof(fc.constantFrom(...PROTO_KEYS, 'tenant', 'pk', 'sk', 'status', 'id'), fc.string()), value: weird }),
  );
  return fc.array(mutation, { minLength: 1, maxLength: 3 }).map((ms) => {
    const entries: [string, unknown][] = Object.entries(valid);
    for (const m of ms) {
      if ('drop' in m) {
        const i = entries.findIndex(([k]) => k === m.drop);
        if (i >= 0) entries.splice(i, 1);
      } else if ('set' in m) {
        const i = entries.findIndex(([k]) => k === m.set);
        if (i >= 0) entries[i] = [m.set, m.value];
        else entries.push([m.set, m.value]);
      } else entries.push([m.extra, m.value]);
    }
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${ser(v)}`).join(',')}}`;
  });
}

/** A body for a route: arbitrary JSON, an arbitrary object, garbage text, or (mostly) a near-valid mutation. */
const bodyFor = (valid: Record<string, unknown>, fieldValues?: Record<string, fc.Arbitrary<unknown>>) =>
  fc.oneof(
    { weight: 1, arbitrary: fc.jsonValue().map(ser) },
    { weight: 1, arbitrary: fc.object({ maxDepth: 2 }).map(ser) },
    { weight: 1, arbitrary: fc.oneof(fc.string(), fc.constantFrom('', '{', '[', '{"a":', 'null', '"str"', '{"name":"x"}}', '\u0000')) },
    { weight: 6, arbitrary: nearValid(valid, fieldValues) },
  );

const encode = (s: string) => encodeURIComponent(s.toWellFormed());
/** A path segment: a fixture (as is, lower-cased, padded), or anything (encoded, or raw nasties), sometimes very long. */
const segment = (fixtures: string[]) =>
  fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...fixtures) },
    { weight: 1, arbitrary: fc.constantFrom(...fixtures).map((s) => encode(` ${s.toLowerCase()} `)) },
    { weight: 2, arbitrary: fc.oneof(fc.string({ unit: 'binary', maxLength: 80 }), fc.string({ unit: 'grapheme', minLength: 65, maxLength: 300 })).map(encode) },
    {
      weight: 2,
      arbitrary: fc.constantFrom('%2F', 'A%2FB', 'ABC%2F..%2F', '..', '.', '%00', 'AB%00C', '%', '%E0%A4%A', '%C0%AF', '%20ABC%20', 'ÄÖÜ', '💥💥💥', 'İSTANBUL', 'ﬀﬀﬀ', '__proto__', 'constructor', 'x'.repeat(2000), '%252F', 'a;b', 'a,b'),
    },
  );

/** Query strings: known keys and random ones, repeated keys, numbers at the edges, forged cursors. */
function queryFor(keys: string[], realCursor: string): fc.Arbitrary<string> {
  const b64 = (s: string) => Buffer.from(s).toString('base64url');
  const forged = fc.oneof(
    fc.jsonValue({ maxDepth: 2 }).map((v) => b64(JSON.stringify(v))),
    fc.dictionary(fc.constantFrom('pk', 'sk', 'gsi1pk', 'gsi1sk', 'gsi2pk', 'gsi2sk'), fc.oneof(fc.string(), fc.constantFrom('T#t2#USER#fuzzer', 'T#t1#BOOK#x', 'T#t2#CODE#ABC')), { minKeys: 1 }).map((v) => b64(JSON.stringify(v))),
    fc.constantFrom(realCursor, realCursor.slice(0, -2), `${realCursor}A`, realCursor.split('').reverse().join('')),
    fc.nat({ max: realCursor.length - 1 }).chain((i) => fc.string({ minLength: 1, maxLength: 1 }).map((c) => realCursor.slice(0, i) + c + realCursor.slice(i + 1))),
    fc.constant(b64(JSON.stringify({ ...JSON.parse(Buffer.from(realCursor, 'base64url').toString() || '{}'), pk: 'T#t2#x' }))),
  );
  const value = fc.oneof(
    fc.constantFrom('0', '-1', '1', '1.5', '1e2', '100', '101', 'NaN', 'Infinity', ' 5', '0x10', '', 'active', 'locked', 'redeemed', 'expired', 'gone'),
    unicode,
    hugeString.map((s) => s.slice(0, 3000)),
    forged,
  );
  const pair = fc.tuple(fc.oneof(fc.constantFrom(...keys, ...PROTO_KEYS), fc.string({ maxLength: 10 })), value);
  return fc.array(pair, { maxLength: 5 }).map((pairs) => (pairs.length ? `?${pairs.map(([k, v]) => `${encode(k)}=${encode(v)}`).join('&')}` : ''));
}

const userIdValue = fc.oneof(fc.constantFrom('fuzzer', 'someone-else', 'a'.repeat(129), 'a b', 'ü', ''), unicode);
const uuidish = fc.oneof(fc.uuid(), fc.constantFrom('00000000-0000-0000-0000-000000000000', 'not-a-uuid'), unicode);
const ttlValue = fc.oneof(fc.constantFrom(1, 2, 86_400, 86_401, 0), oddNumber);

// ---------------------------------------------------------------------------

/** The operations the properties below send to; the last test compares them with /openapi.json. */
const FUZZED = new Set<string>();
const fuzzes = (...ops: string[]) => {
  for (const op of ops) FUZZED.add(op);
  return ops.join(' and ');
};

describe('fuzzing every route', () => {
  const T = 30_000 + RUNS * 1_000;

  it(`${fuzzes('POST /coupons')} (admin)`, { timeout: T }, async () => {
    const valid = {
      name: 'Fuzz',
      description: 'd',
      validFrom: '2020-01-01T00:00:00Z',
      validUntil: '2099-01-01T00:00:00Z',
      maxRedemptionsPerUser: 2,
      maxCodesPerUser: 3,
      lockTtlSeconds: 60,
      discount: { type: 'percentage', value: 10 },
      codePattern: 'FZ-****',
      metadata: { campaign: 'fuzz' },
    };
    const values = {
      discount: fc.record({ type: fc.constantFrom('percentage', 'fixed', 'other'), value: oddNumber, currency: fc.oneof(fc.constantFrom('EUR', 'eur', 'EURO'), unicode) }, { requiredKeys: [] }),
      metadata: fc.oneof(fc.dictionary(fc.oneof(fc.string(), fc.constantFrom(...PROTO_KEYS, '')), weird, { maxKeys: 5 }), deep, protoPayload),
      validFrom: fc.oneof(fc.date({ noInvalidDate: true }).map((d) => d.toISOString()), fc.constantFrom('2020-02-30T00:00:00Z', '2020-01-01', '2020-01-01T00:00:00+25:00', '9999-12-31T23:59:59Z')),
      codePattern: fc.oneof(fc.stringMatching(/^[A-Z#?*_-]{1,70}$/), unicode),
    };
    await fc.assert(
      fc.asyncProperty(bodyFor(valid, values), (raw) => check({ method: 'POST', path: '/coupons', token: adminToken, raw })),
      params(RUNS + 10),
    );
  });

  it(`${fuzzes('PATCH /coupons/{bookId}')} (admin)`, { timeout: T }, async () => {
    const valid = { name: 'Renamed', description: 'd', validFrom: '2020-01-01T00:00:00Z', validUntil: '2099-01-01T00:00:00Z', status: 'active' };
    const values = {
      description: fc.constantFrom(null, ''),
      validUntil: fc.oneof(fc.constant(null), fc.date({ noInvalidDate: true }).map((d) => d.toISOString())),
      status: fc.constantFrom('paused', 'closed', 'ACTIVE'),
    };
    await fc.assert(
      fc.asyncProperty(segment([f.patchBookId, f.bookId.slice(0, 8), 'nope']), bodyFor(valid, values), (id, raw) =>
        check({ method: 'PATCH', path: `/coupons/${id}`, token: adminToken, raw }),
      ),
      params(RUNS),
    );
  });

  it(`${fuzzes('POST /coupons/codes')} (admin)`, { timeout: T }, async () => {
    const valid = { bookId: f.bookId, codes: ['FZU-0001', 'FZU-0002'] };
    const values = {
      bookId: fc.constantFrom(f.patchBookId, 'nope', f.bookId.toUpperCase()),
      codes: fc.oneof(
        fc.array(fc.oneof(fc.stringMatching(/^[A-Za-z0-9_ -]{1,70}$/), unicode, hugeString.map((s) => s.slice(0, 300))), { maxLength: 20 }),
        fc.array(fc.constantFrom(...f.freeCodes, ...f.heldCodes, 'fzu-0001 '), { minLength: 1, maxLength: 5 }),
        fc.constant(Array.from({ length: 5001 }, (_, i) => `FZU-${i}`)),
      ),
    };
    await fc.assert(
      fc.asyncProperty(bodyFor(valid, values), (raw) => check({ method: 'POST', path: '/coupons/codes', token: adminToken, raw })),
      params(RUNS),
    );
  });

  it(`${fuzzes('POST /coupons/codes/generate')} (admin)`, { timeout: T }, async () => {
    // Small patterns and small or invalid counts only: a valid large count would generate thousands of codes (or queue a job).
    const valid = { bookId: f.bookId, count: 2, pattern: 'FG-####', checkChar: false };
    const count = fc.oneof(fc.constantFrom(0, -1, 1, 3, 1.5, 10_001, 10_000_001, 2 ** 53, 1e308, -0), fc.integer({ max: 0 }), fc.integer({ min: 10_000_001 }));
    const values = {
      count,
      pattern: fc.oneof(fc.stringMatching(/^[A-Z#?*_-]{1,70}$/), fc.constantFrom('##', 'AB-##', 'ABCDEF', 'fg-##', ' FG-#### '), unicode),
      bookId: fc.constantFrom(f.patchBookId, 'nope'),
    };
    await fc.assert(
      fc.asyncProperty(bodyFor(valid, values), (raw) => {
        // Keep the generated volume small: a mutation to a large valid count is replaced by an invalid one.
        const parsed = (() => {
          try {
            return JSON.parse(raw);
          } catch {
            return undefined;
          }
        })();
        if (typeof parsed?.count === 'number' && Number.isInteger(parsed.count) && parsed.count > 3 && parsed.count <= 10_000_000) {
          raw = raw.replace(/"count":[^,}]+/, '"count":10000001');
        }
        return check({ method: 'POST', path: '/coupons/codes/generate', token: adminToken, raw });
      }),
      params(RUNS),
    );
  });

  it(`${fuzzes('POST /coupons/assign')} (user)`, { timeout: T }, async () => {
    const valid = { bookId: f.poolBookId, userId: 'fuzzer', lock: true, ttlSeconds: 1 };
    const values = { bookId: fc.constantFrom(f.patchBookId, 'nope', f.poolBookId.toUpperCase()), userId: userIdValue, ttlSeconds: ttlValue, lock: fc.constantFrom(false, 'true', 1) };
    await fc.assert(
      fc.asyncProperty(bodyFor(valid, values), (raw) => check({ method: 'POST', path: '/coupons/assign', token: userToken, raw })),
      params(RUNS),
    );
  });

  it(`${fuzzes('POST /coupons/assign/{code}')} (admin)`, { timeout: T }, async () => {
    const valid = { userId: 'fuzzer-2', bookId: f.bookId, lock: false, ttlSeconds: 1 };
    const values = { userId: userIdValue, bookId: fc.constantFrom(f.patchBookId, 'nope'), ttlSeconds: ttlValue, lock: fc.constantFrom(true, 'false', 0) };
    await fc.assert(
      fc.asyncProperty(segment([...f.freeCodes, ...f.heldCodes]), bodyFor(valid, values), (code, raw) =>
        check({ method: 'POST', path: `/coupons/assign/${code}`, token: adminToken, raw }),
      ),
      params(RUNS),
    );
  });

  for (const [action, valid, values] of [
    ['lock', { userId: 'fuzzer', ttlSeconds: 1 }, { userId: userIdValue, ttlSeconds: ttlValue }],
    ['unlock', { userId: 'fuzzer', lockId: '1b9d6bcd-bbfd-4b2d-9b5d-ab8dfbbd4bed' }, { userId: userIdValue, lockId: uuidish }],
    [
      'redeem',
      { userId: 'fuzzer', orderId: 'order-1', context: { pos: 'web' } },
      {
        userId: userIdValue,
        lockId: uuidish,
        orderId: fc.oneof(unicode, hugeString),
        context: fc.oneof(fc.dictionary(fc.oneof(fc.string(), fc.constantFrom(...PROTO_KEYS, '')), weird, { maxKeys: 5 }), deep, protoPayload),
      },
    ],
  ] as const) {
    it(`${fuzzes(`POST /coupons/${action}/{code}`)} (user)`, { timeout: T }, async () => {
      // The body is optional on these routes: sometimes there is none.
      await fc.assert(
        fc.asyncProperty(segment(f.heldCodes), fc.option(bodyFor(valid, values), { freq: 5 }), (code, raw) =>
          check({ method: 'POST', path: `/coupons/${action}/${code}`, token: userToken, raw: raw ?? undefined }),
        ),
        params(RUNS),
      );
    });
  }

  it(`${fuzzes('GET /coupons', 'GET /coupons/{bookId}')} (admin)`, { timeout: T }, async () => {
    await fc.assert(
      fc.asyncProperty(queryFor(['limit', 'cursor'], f.bookCursor), (q) => check({ method: 'GET', path: `/coupons${q}`, token: adminToken })),
      params(RUNS),
    );
    await fc.assert(
      fc.asyncProperty(segment([f.bookId, f.bookId.toUpperCase(), 'nope']), (id) => check({ method: 'GET', path: `/coupons/${id}`, token: adminToken })),
      params(Math.max(1, RUNS - 10)),
    );
  });

  it(`${fuzzes('GET /coupons/{bookId}/codes')} (admin)`, { timeout: T }, async () => {
    await fc.assert(
      fc.asyncProperty(
        segment([f.bookId, f.bookId, f.bookId.toUpperCase(), 'nope']),
        queryFor(['limit', 'cursor', 'status'], f.bookCodesCursor),
        (id, q) => check({ method: 'GET', path: `/coupons/${id}/codes${q}`, token: adminToken }),
      ),
      params(RUNS),
    );
  });

  it(`${fuzzes('GET /coupons/{bookId}/activity')} (admin)`, { timeout: T }, async () => {
    const instants = fc.oneof(
      fc.constantFrom('2026-12-01T00:00:00Z', '2026-12-01T00:00:00.000+01:00', '2026-12-02T00:00:00Z', '2026-11-01T00:00:00Z', '2026-12-01', '2026-13-01T00:00:00Z', 'yesterday', ''),
      fc.date({ min: new Date('1970-01-01'), max: new Date('2100-01-01'), noInvalidDate: true }).map((d) => d.toISOString()),
    );
    const query = fc
      .record({ from: fc.option(instants, { nil: undefined }), to: fc.option(instants, { nil: undefined }), interval: fc.option(fc.constantFrom('minute', 'hour', 'day', 'week', 'HOUR', ''), { nil: undefined }) })
      .map((q) => `?${Object.entries(q).filter(([, v]) => v !== undefined).map(([k, v]) => `${k}=${encodeURIComponent(v!)}`).join('&')}`);
    await fc.assert(
      fc.asyncProperty(segment([f.bookId, f.bookId, 'nope']), fc.oneof(query, queryFor(['from', 'to', 'interval'], f.bookCodesCursor)), (id, q) =>
        check({ method: 'GET', path: `/coupons/${id}/activity${q}`, token: adminToken }),
      ),
      params(RUNS),
    );
  });

  it(`${fuzzes('GET /users/{userId}/coupons')} (user, or admin for any userId)`, { timeout: T }, async () => {
    await fc.assert(
      fc.asyncProperty(
        segment(['fuzzer', 'fuzzer', 'FUZZER', 'fuzzer-2']),
        queryFor(['limit', 'cursor', 'bookId', 'status'], f.userCursor),
        fc.boolean(),
        (id, q, asAdmin) => check({ method: 'GET', path: `/users/${id}/coupons${q}`, token: asAdmin ? adminToken : userToken }),
      ),
      params(RUNS),
    );
  });

  it(`${fuzzes('DELETE /users/{userId}')} (admin; ids of no fixture, the job queued but not run)`, { timeout: T }, async () => {
    await fc.assert(
      fc.asyncProperty(segment(['erase-fuzz', 'erase.fuzz@example|1', 'ERASE-FUZZ']), (id) => check({ method: 'DELETE', path: `/users/${id}`, token: adminToken })),
      params(Math.max(1, RUNS - 10)),
    );
  });

  it(`${fuzzes('POST /redemptions/{redemptionId}/rollback')} (admin)`, { timeout: T }, async () => {
    const id = fc.oneof(
      fc.constantFrom(...f.redemptionIds),
      fc.constantFrom(...f.redemptionIds).map((r) => r.toLowerCase()),
      fc.constantFrom(...f.redemptionIds).map((r) => r.replace(/\.[^.]+$/, '.00000000-0000-4000-8000-000000000000')),
      fc.constantFrom(...f.heldCodes).map((c) => `${c}.${c}`),
      unicode,
    );
    await fc.assert(
      fc.asyncProperty(fc.oneof(segment(f.redemptionIds), id.map(encode)), fc.option(bodyFor({ reason: 'fuzz' }, { reason: fc.oneof(unicode, hugeString, oddNumber) }), { freq: 4 }), (path, raw) =>
        check({ method: 'POST', path: `/redemptions/${path}/rollback`, token: adminToken, raw: raw ?? undefined }),
      ),
      params(RUNS),
    );
  });

  it(`${fuzzes('GET /coupons/codes/{code}')} (admin)`, { timeout: T }, async () => {
    await fc.assert(
      fc.asyncProperty(segment([...f.freeCodes, ...f.heldCodes, 'NO-SUCH-CODE']), (code) => check({ method: 'GET', path: `/coupons/codes/${code}`, token: adminToken })),
      params(RUNS),
    );
  });

  it(`${fuzzes('GET /jobs/{jobId}')} (admin)`, { timeout: T }, async () => {
    await fc.assert(
      fc.asyncProperty(segment([f.jobId, f.jobId, 'nope', f.bookId]), (id) => check({ method: 'GET', path: `/jobs/${id}`, token: adminToken })),
      params(Math.max(1, RUNS - 10)),
    );
  });

  it(`${fuzzes('POST /webhooks')} (admin)`, { timeout: T }, async () => {
    const valid = { url: 'https://example.com/hooks/fuzz', events: ['code.redeemed', 'book.exhausted'] };
    const values = {
      url: fc.oneof(
        fc.webUrl({ withQueryParameters: true, withFragments: true }),
        fc.constantFrom('http://127.0.0.1/x', 'http://[::1]/x', 'http://169.254.169.254/latest', 'ftp://example.com/x', 'https://', 'example.com', `https://example.com/${'x'.repeat(2100)}`),
        unicode,
      ),
      events: fc.oneof(fc.array(fc.constantFrom('code.redeemed', 'book.exhausted', 'code.assigned', 'CODE.REDEEMED', 'nope', ''), { maxLength: 12 }), weird),
    };
    await fc.assert(
      fc.asyncProperty(bodyFor(valid, values), (raw) => check({ method: 'POST', path: '/webhooks', token: adminToken, raw })),
      params(RUNS),
    );
  });

  it(`${fuzzes('GET /webhooks', 'GET /webhooks/{id}', 'GET /webhooks/{id}/deliveries')} (admin)`, { timeout: T }, async () => {
    await check({ method: 'GET', path: '/webhooks', token: adminToken });
    await fc.assert(
      fc.asyncProperty(segment([f.webhookId, f.webhookId, 'nope']), queryFor(['limit', 'status'], f.bookCursor), fc.boolean(), (id, q, list) =>
        check({ method: 'GET', path: list ? `/webhooks/${id}/deliveries${q}` : `/webhooks/${id}`, token: adminToken }),
      ),
      params(RUNS),
    );
  });

  it(`${fuzzes('POST /webhooks/{id}/rotate-secret', 'DELETE /webhooks/{id}')} (admin)`, { timeout: T }, async () => {
    await fc.assert(
      fc.asyncProperty(
        segment([f.webhookId, 'nope']),
        fc.option(bodyFor({ overlapSeconds: 60 }, { overlapSeconds: fc.oneof(oddNumber, fc.constantFrom(604_800, 604_801)) }), { freq: 4 }),
        (id, raw) => check({ method: 'POST', path: `/webhooks/${id}/rotate-secret`, token: adminToken, raw: raw ?? undefined }),
      ),
      params(RUNS),
    );
    // Deletion, last: the fixtures it may remove are its own.
    await fc.assert(
      fc.asyncProperty(segment([...f.webhooksToDelete, 'nope']), (id) => check({ method: 'DELETE', path: `/webhooks/${id}`, token: adminToken })),
      params(Math.max(1, RUNS - 10)),
    );
  });

  it(`${fuzzes('POST /webhooks/{id}/deliveries/{messageId}/resend')} (admin)`, { timeout: T }, async () => {
    await fc.assert(
      fc.asyncProperty(segment([f.webhookId, 'nope']), segment([...f.failedMessages, 'msg_nope']), fc.option(fc.constantFrom('{}', '{"x":1}', 'null'), { freq: 4 }), (id, message, raw) =>
        check({ method: 'POST', path: `/webhooks/${id}/deliveries/${message}/resend`, token: adminToken, raw: raw ?? undefined }),
      ),
      params(RUNS),
    );
  });

  it(`${fuzzes('POST /api-keys', 'GET /api-keys', 'DELETE /api-keys/{keyId}')} (admin)`, { timeout: T }, async () => {
    const values = {
      name: fc.oneof(fc.constantFrom('', 'x'.repeat(200), 'x'.repeat(201), ' '), unicode, weird),
      role: fc.oneof(fc.constantFrom('service', 'admin', 'user', 'ADMIN', ''), weird),
    };
    await fc.assert(
      fc.asyncProperty(bodyFor({ name: 'Fuzzed backend', role: 'service' }, values), (raw) => check({ method: 'POST', path: '/api-keys', token: adminToken, raw })),
      params(RUNS),
    );
    await fc.assert(
      fc.asyncProperty(queryFor(['limit', 'cursor'], f.bookCursor), (q) => check({ method: 'GET', path: `/api-keys${q}`, token: adminToken })),
      params(RUNS),
    );
    const keys = await Promise.all([1, 2].map(async (i) => (await unwrap(api.client(adminToken)['api-keys'].$post({ json: { name: `fuzz ${i}`, role: 'service' } }))).keyId));
    snapshot = await api.scanState(); // the fixtures just written are no refusal's doing
    await fc.assert(
      fc.asyncProperty(segment([...keys, 'nope']), (keyId) => check({ method: 'DELETE', path: `/api-keys/${keyId}`, token: adminToken })),
      params(Math.max(1, RUNS - 10)),
    );
  });

  it('covers every operation /openapi.json documents', async () => {
    const doc = (await api.call('GET', '/openapi.json')).json as { paths: Record<string, Record<string, unknown>> };
    const documented = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((method) => `${method.toUpperCase()} ${path}`));
    expect(documented.length).toBeGreaterThan(20);
    expect(documented.filter((op) => !FUZZED.has(op))).toEqual([]);
    expect([...FUZZED].filter((op) => !documented.includes(op))).toEqual([]);
  });
});

// ---------------------------------------------------------------------------
// Bugs the fuzzing found, pinned with fixed inputs.

describe('found by fuzzing', () => {
  /** Values zod accepts for a free-form JSON object and the AWS marshaller or DynamoDB refuses. */
  const UNSTORABLE: [string, Record<string, unknown>][] = [
    ['a "constructor" key', { constructor: 1 }],
    ['a nested "constructor" key', { a: { constructor: 'x' } }],
    ['an empty key', { '': 1 }],
    ['a number above MAX_SAFE_INTEGER', { a: 2 ** 53 + 2 }],
    ['1e200', { a: 1e200 }],
    ['5e-324', { a: 5e-324 }],
    ['40 levels of nesting', { a: nest(40) as Record<string, unknown> }],
  ];
  const outcomes = async (sends: [string, () => Promise<CallResult>][]) => {
    const out: Record<string, string> = {};
    for (const [name, send] of sends) {
      const before = await api.scanState();
      const r = await send();
      const wrote = JSON.stringify(await api.scanState()) !== JSON.stringify(before);
      out[name] = `${r.status} ${r.json?.error?.code ?? ''}${wrote ? ' +wrote' : ''}`;
    }
    return out;
  };

  it('POST /coupons: metadata or a discount DynamoDB cannot store is a 400, not a 500', async () => {
    const sends: [string, () => Promise<CallResult>][] = [
      ...UNSTORABLE.map(([name, metadata]): [string, () => Promise<CallResult>] => [
        `metadata with ${name}`,
        () => api.call('POST', '/coupons', { token: adminToken, body: { name: 'x', metadata } }),
      ]),
      ...[1e200, 5e-324, 2 ** 53 + 2].map((value): [string, () => Promise<CallResult>] => [
        `fixed discount of ${value}`,
        () => api.call('POST', '/coupons', { token: adminToken, body: { name: 'x', discount: { type: 'fixed', value, currency: 'EUR' } } }),
      ]),
    ];
    const actual = await outcomes(sends);
    expect(actual).toEqual(Object.fromEntries(sends.map(([name]) => [name, '400 VALIDATION_FAILED'])));
  });

  it('POST /coupons/redeem/{code}: a context DynamoDB cannot store is a 400, not a 500', async () => {
    // A code of its own: the fuzzing may have left the shared ones locked.
    const code = uniqueCode('KB');
    const asAdmin = api.client(adminToken);
    await unwrap(asAdmin.coupons.codes.$post({ json: { bookId: f.bookId, codes: [code] } }));
    await unwrap(asAdmin.coupons.assign[':code'].$post({ param: { code }, json: { userId: 'fuzzer' } }));
    const sends = UNSTORABLE.map(([name, context]): [string, () => Promise<CallResult>] => [
      `context with ${name}`,
      () => api.call('POST', `/coupons/redeem/${code}`, { token: userToken, body: { context } }),
    ]);
    const actual = await outcomes(sends);
    expect(actual).toEqual(Object.fromEntries(sends.map(([name]) => [name, '400 VALIDATION_FAILED'])));
  });

  it('POST /coupons/codes/generate: a crowded pattern never gives a refusal that wrote', async () => {
    const token = await admin('t-crowded');
    const D = '23456789'; // the pattern alphabet's digits: CR-## has 64 codes, 5% of which (3) one book may ask for
    const all = [...D].flatMap((a) => [...D].map((b) => `CR-${a}${b}`));
    const { coupons } = api.client(token);
    const other = await unwrap(coupons.$post({ json: { name: 'holds 62 of the 64' } }));
    await unwrap(coupons.codes.$post({ json: { bookId: other.id, codes: all.slice(0, 62) } }));
    const book = await unwrap(coupons.$post({ json: { name: 'asks for 3' } }));
    const actual = await outcomes([
      ['generate 3 of CR-##', () => answer(coupons.codes.generate.$post({ json: { bookId: book.id, count: 3, pattern: 'CR-##' } }))],
    ]);
    // Either refused with nothing written, or made (perhaps fewer than asked, and said so); never a refusal that wrote.
    expect(actual['generate 3 of CR-##']).toMatch(/^(400 VALIDATION_FAILED|201 +(\+wrote)?)$/);
  });
});
