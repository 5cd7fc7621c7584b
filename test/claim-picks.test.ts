import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { assignRandomCode, createBook, uploadCodes, type Actor, type CoreContext } from '@coupons/core';
import { createCoreContext } from '@coupons/api';
import { answer, bookStats, bookWithCodes, startTestApi, user, type TestApi } from './support/harness.ts';
import { expectInvariants } from './support/invariants.ts';

// How a claim picks its code (packages/core/src/code/pick.ts), over real
// concurrent HTTP requests on one instance: claims waiting on the same shard
// share one pool Query, never try a code another claim here is committing,
// and skip shards seen empty a moment ago, yet a book answers BOOK_EXHAUSTED
// only once every code is assigned. Requests are counted as the service
// sends them to DynamoDB Local.

interface Sent {
  command: string;
  outcome: string;
  /** A Query's pool partition and how many keys it found. */
  partition?: string;
  found?: number;
  /** A Query's direction: false reads downwards from its start key. */
  forward?: boolean;
}

let api: TestApi;
const sent: Sent[] = [];

beforeAll(async () => {
  api = await startTestApi('claim-picks', {}, {
    instrument: (client: DynamoDBClient) =>
      client.middlewareStack.add(
        (next, context: any) => async (args: any) => {
          const command = String(context.commandName).replace(/Command$/, '');
          // The document client's input, not yet marshalled at this step.
          const partition = command === 'Query' ? String(args.input.ExpressionAttributeValues?.[':pk']) : command === 'GetItem' ? String(args.input.Key?.pk) : undefined;
          try {
            const out: any = await next(args);
            sent.push({ command, outcome: 'ok', partition, found: out.output?.Count, forward: args.input.ScanIndexForward ?? true });
            return out;
          } catch (e) {
            sent.push({ command, outcome: (e as Error).name, partition });
            throw e;
          }
        },
        { step: 'initialize', name: 'pickCounter' },
      ),
  });
});
afterAll(() => api.close());

const take = () => sent.splice(0, sent.length);
const poolQueries = (s: Sent[]) => s.filter((r) => r.command === 'Query' && r.partition?.includes('#POOL#'));

async function claimAll(bookId: string, users: number, prefix: string) {
  const tokens = await Promise.all(Array.from({ length: users }, (_, i) => user(`${prefix}-${i}`)));
  take();
  const results = await Promise.all(tokens.map((token) => answer(api.client(token).coupons.assign.$post({ json: { bookId } }))));
  return { results, sent: take() };
}

describe('picking a code under concurrency, on one instance', () => {
  it('64 simultaneous claims share pool Queries and never race each other: no transaction is cancelled', async () => {
    const { book, codes } = await bookWithCodes(api, 400, { maxCodesPerUser: 1, shards: 8 });
    const { results, sent: out } = await claimAll(book.id, 64, 'sharer');
    expect(results.map((r) => r.status)).toEqual(Array(64).fill(201));
    expect(new Set(results.map((r) => r.json.code)).size).toBe(64);
    for (const r of results) expect(codes).toContain(r.json.code);
    // Spread over the key space: the 64 taken are not a run of neighbouring slots.
    const slots = (await api.scan()).filter((i) => i.__edb_e__ === 'code' && i.bookId === book.id).sort((a, b) => a.poolSlot.localeCompare(b.poolSlot));
    const ranks = slots.flatMap((item, rank) => (item.status === 'assigned' ? [rank] : []));
    expect(ranks[0]).toBeLessThan(100);
    expect(ranks.at(-1)).toBeGreaterThan(300);

    const transactions = out.filter((r) => r.command === 'TransactWriteItems');
    expect(transactions.filter((r) => r.outcome !== 'ok')).toEqual([]);
    expect(transactions).toHaveLength(64);
    // 64 claims over 8 shards, 8 codes a Query: claims waiting on a shard take from one Query, so
    // there are fewer Queries than claims (15 to 41 here on a quiet machine; one each without sharing).
    console.log('pool queries for 64 claims', poolQueries(out).length);
    expect(poolQueries(out).length).toBeLessThan(64);
    // Each Query reads from a random slot toward the larger side of the key space: both directions occur.
    expect(new Set(poolQueries(out).map((q) => q.forward))).toEqual(new Set([true, false]));
    // And the book was read once for all of them, not once each (again if its copy turns a second old);
    // besides it, each claimer's erased mark once (docs/erasure.md), on the claimer's own key.
    const reads = out.filter((r) => r.command === 'GetItem');
    const marks = reads.filter((r) => r.partition?.includes('#ERASED#'));
    expect(marks).toHaveLength(64);
    expect(new Set(marks.map((r) => r.partition)).size).toBe(64);
    expect(reads.length - marks.length).toBeLessThanOrEqual(3);
    await expectInvariants(api);
  });

  it('64 clients claiming one after another for a while: pages are reused for a moment, yet no claim tries a code already gone', async () => {
    const { book } = await bookWithCodes(api, 700, { maxCodesPerUser: 1, shards: 4 });
    const tokens = await Promise.all(Array.from({ length: 640 }, (_, i) => user(`stream-${i}`)));
    take();
    let next = 0;
    const statuses: number[] = [];
    await Promise.all(
      Array.from({ length: 64 }, async () => {
        while (next < tokens.length) {
          const token = tokens[next++]!;
          statuses.push((await answer(api.client(token).coupons.assign.$post({ json: { bookId: book.id } }))).status);
        }
      }),
    );
    const out = take();
    expect(statuses.filter((s) => s !== 201)).toEqual([]);
    // A Query sent before a commit here may answer after it, and its page is offered to the next
    // claims for PICK_REUSE_MS: the codes this instance saw leave the pool are skipped, so not one
    // transaction is spent on a code already gone.
    const transactions = out.filter((r) => r.command === 'TransactWriteItems');
    expect(transactions.filter((r) => r.outcome !== 'ok')).toEqual([]);
    expect(transactions).toHaveLength(640);
    console.log('pool queries for 640 claims', poolQueries(out).length);
    expect(poolQueries(out).length).toBeLessThan(640 / 2);
    await expectInvariants(api);
  });

  it.each([1, 2, 3])('a book drained by a crowd larger than it (run %i): every code is assigned before anyone sees BOOK_EXHAUSTED', async (run) => {
    const { book, codes } = await bookWithCodes(api, 60, { maxCodesPerUser: 1, shards: 4 });
    const { results } = await claimAll(book.id, 100, `drain${run}`);
    const won = results.filter((r) => r.status === 201);
    expect(won).toHaveLength(60);
    expect(new Set(won.map((r) => r.json.code))).toEqual(new Set(codes));
    expect(results.filter((r) => r.status !== 201).every((r) => r.status === 409 && r.json.error.code === 'BOOK_EXHAUSTED')).toBe(true);

    const left = (await api.scan()).filter((i) => i.__edb_e__ === 'code' && i.bookId === book.id && i.status === 'available');
    expect(left).toEqual([]);
    const stats = await bookStats(api, book.id);
    expect(stats).toEqual({ codes: 60, available: 0, assigned: 60, redeemed: 0 });
    await expectInvariants(api);
  });

  it('a shard seen empty is skipped for a moment: refused claims do not each walk every empty partition, and later ones read nothing', async () => {
    const { book } = await bookWithCodes(api, 3, { shards: 8 });
    const { results, sent: out } = await claimAll(book.id, 40, 'sparse');
    expect(results.filter((r) => r.status === 201)).toHaveLength(3);
    expect(results.filter((r) => r.status === 409).every((r) => r.json.error.code === 'BOOK_EXHAUSTED')).toBe(true);

    // The five shards that never held a code: walking every shard (a Query from a random slot, then
    // one wrapping round) would read each of them twice for each of the 37 refused claims. Here one
    // claim reads it (those reaching it meanwhile share that read) and the others skip it: 2 reads
    // each, or 4 should a slow machine let the memo lapse or a claim slip in as it is written.
    const held = new Set((await api.scan()).filter((i) => i.__edb_e__ === 'code' && i.bookId === book.id).map((i) => Number(i.shard)));
    expect(held.size).toBe(3);
    const reads = new Map<string, number>();
    for (const q of poolQueries(out)) reads.set(q.partition!, (reads.get(q.partition!) ?? 0) + 1);
    const neverHeld = [...reads].filter(([partition]) => !held.has(Number(partition.slice(partition.lastIndexOf('#') + 1))));
    console.log('reads of the partitions that never held a code', neverHeld.map(([, n]) => n));
    expect(neverHeld.length).toBeLessThanOrEqual(5);
    for (const [partition, n] of neverHeld) expect(n, partition).toBeLessThanOrEqual(4);

    // Now the book is known sold out here: a claim reads nothing at all.
    const { results: again, sent: after } = await claimAll(book.id, 10, 'late');
    expect(again.every((r) => r.status === 409 && r.json.error.code === 'BOOK_EXHAUSTED')).toBe(true);
    expect(poolQueries(after)).toEqual([]);
  });
});

// The same picks on a core context whose clock and DynamoDB answers the test controls: a walk slower
// than the empty-shard memo, and an upload landing while a Query of the book is in flight.
describe('picking a code at the edges of the memos', () => {
  const tenant = 'picks-edge';
  const adminActor: Actor = { sub: 'edge-admin', tenant, role: 'admin' };
  const claimant = (sub: string): Actor => ({ sub, tenant, role: 'user' });
  let ctx: CoreContext;
  let clock = Date.now();
  /** Milliseconds each pool Query advances the clock by. */
  let queryTakesMs = 0;
  /** When armed, the pool Query `at` (counting from 1) answers only when the test lets it. */
  let hold: { at: number; seen: number; reached: () => void; release: Promise<void> } | undefined;

  beforeAll(() => {
    ctx = createCoreContext({ DYNAMODB_ENDPOINT: inject('dynamoDbEndpoint'), TABLE_NAME: api.table, AWS_REGION: 'us-east-1' }, undefined, {
      instrument: (client: DynamoDBClient) =>
        client.middlewareStack.add(
          (next, context: any) => async (args: any) => {
            const out = await next(args);
            if (context.commandName === 'QueryCommand' && args.input.IndexName === 'pool') {
              clock += queryTakesMs;
              if (hold && ++hold.seen === hold.at) {
                const { reached, release } = hold;
                hold = undefined;
                reached();
                await release;
              }
            }
            return out;
          },
          { step: 'initialize', name: 'edgeControl' },
        ),
    });
    ctx.now = () => clock;
  });

  async function soldOutBook(shards: number) {
    const book = await createBook(ctx, adminActor, { name: 'Edge', shards, validUntil: '2099-12-31T23:59:59.000Z', discount: { type: 'percentage', value: 10 } } as any);
    await uploadCodes(ctx, adminActor, { bookId: book.id, codes: [`EDGE-${randomUUID().slice(0, 8).toUpperCase()}`] });
    await assignRandomCode(ctx, claimant(randomUUID()), { bookId: book.id });
    return book;
  }

  it('a walk of the shards slower than the empty-shard memo still ends in BOOK_EXHAUSTED, not UNAVAILABLE', async () => {
    const book = await soldOutBook(16);
    clock += 60_000; // forget what the first claim learnt
    queryTakesMs = 400; // 16 shards x 2 Queries: the first memos lapse long before the walk ends
    try {
      await expect(assignRandomCode(ctx, claimant(randomUUID()), { bookId: book.id })).rejects.toMatchObject({ code: 'BOOK_EXHAUSTED' });
    } finally {
      queryTakesMs = 0;
    }
  });

  it('a claim made after an upload on this instance finds the new code, even while a Query sent before it is in flight', async () => {
    const book = await soldOutBook(1);
    clock += 60_000;
    let reached!: () => void;
    const atQuery = new Promise<void>((res) => (reached = res));
    let release!: () => void;
    hold = { at: 2, seen: 0, reached, release: new Promise<void>((res) => (release = res)) };
    // A's walk: its first Query finds nothing, the one wrapping round is held after DynamoDB answered (nothing).
    const first = assignRandomCode(ctx, claimant(randomUUID()), { bookId: book.id }).then(
      () => 'claimed',
      (e) => e.code,
    );
    await atQuery;
    const uploaded = `EDGE-${randomUUID().slice(0, 8).toUpperCase()}`;
    await uploadCodes(ctx, adminActor, { bookId: book.id, codes: [uploaded] });
    const second = await assignRandomCode(ctx, claimant(randomUUID()), { bookId: book.id }).finally(release);
    expect(second.code).toBe(uploaded);
    expect(await first).toBe('BOOK_EXHAUSTED');
  });
});
