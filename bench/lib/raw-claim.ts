import { randomBytes } from 'node:crypto';
import type { TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';
import type { Store } from '@coupons/core';
import { pool } from './measure.ts';

/**
 * The baseline of bench:assign: the transaction of a random claim on a capped book, built by the
 * service's own entities (ElectroDB `.params()`: keys, attribute names, index keys and
 * expressions as the service's writes have them), sent straight to DynamoDB. What it cannot take
 * from the entities (the fields a claim sets, its conditions) is checked against a transaction the
 * service really sent in the same run (`claimShapeDiff`), so the two cannot drift apart unseen.
 */

export interface RawCode {
  code: string;
  shard: number;
  poolSlot: string;
}

// The conditions as the service renders them (code/condition.ts): each operand in parentheses.
const all = (...xs: string[]) => xs.map((x) => `(${x})`).join(' AND ');
const any = (...xs: string[]) => xs.map((x) => `(${x})`).join(' OR ');

/** A book's stats shards (gate open, no window) and `count` available codes, written through the entities. */
export async function seedRawBook(store: Store, tenant: string, bookId: string, count: number, shards: number, prefix: string): Promise<RawCode[]> {
  const createdAt = new Date().toISOString();
  const codes: RawCode[] = Array.from({ length: count }, (_, i) => ({
    code: `${prefix}-${i.toString(36).toUpperCase().padStart(5, '0')}-${randomBytes(4).toString('hex').toUpperCase()}`,
    shard: i % shards,
    poolSlot: randomBytes(8).toString('hex'),
  }));
  await Promise.all(
    Array.from({ length: shards }, (_, shard) => {
      const n = codes.filter((c) => c.shard === shard).length;
      return store.bookStatsShard.put({ tenant, bookId, shard, codes: n, available: n, assigned: 0, redeemed: 0, bookStatus: 'active' }).go();
    }),
  );
  const batches: RawCode[][] = [];
  for (let i = 0; i < codes.length; i += 25) batches.push(codes.slice(i, i + 25));
  let next = 0;
  await pool(8, async () => {
    const batch = batches[next++];
    if (!batch) return false;
    const items = batch.map((c) => ({ tenant, code: c.code, bookId, shard: c.shard, poolSlot: c.poolSlot, status: 'available' as const, redemptionCount: 0, createdAt }));
    const { unprocessed } = await store.code.put(items).go();
    if (unprocessed.length) throw new Error(`${unprocessed.length} seed items unprocessed`);
    return true;
  });
  return codes;
}

/**
 * Where a held code sits in the byOwner index: the holder's partition is the holding's own key,
 * and a user's codes sort by book (compared with the service's own claim in `claimShapeDiff`).
 */
export function ownerKeys(store: Store, tenant: string, userId: string, bookId: string, code: string) {
  const holding = store.userBookHolding.get({ tenant, userId, bookId }).params().Key as { pk: string; sk: string };
  return { ownerKey: holding.pk, ownerSort: `${holding.sk}#CODE#${code}` };
}

/**
 * The claim's three items, as `services/assignment.ts` commits them: the code leaves the pool for
 * the user, the shard counter moves under the book's gate, the user's holding grows under the cap.
 */
export function claimTransaction(
  store: Store,
  claim: { tenant: string; bookId: string; userId: string; code: RawCode; now: number; cap: number; maxRedemptions: number },
): TransactWriteCommandInput {
  const { tenant, bookId, userId, code, now, cap } = claim;
  const owner = ownerKeys(store, tenant, userId, bookId, code.code);
  const at = new Date(now).toISOString();
  return store.service.transaction
    .write(({ code: codeEntity, bookStatsShard, userBookHolding }) => [
      codeEntity
        .patch({ tenant, code: code.code })
        .set({
          bookId,
          shard: code.shard,
          poolSlot: code.poolSlot,
          status: 'assigned',
          userId,
          ...owner,
          assignedAt: at,
          maxRedemptions: claim.maxRedemptions,
          lastChange: { type: 'assigned', at, by: userId, userId },
        })
        .add({ changeSeq: 1 })
        .where((a, op) => all(op.eq(a.status, 'available'), op.eq(a.bookId, bookId)))
        .commit({ response: 'all_old' }),
      bookStatsShard
        .patch({ tenant, bookId, shard: code.shard })
        .add({ available: -1, assigned: 1 })
        .where((a, op) =>
          all(op.eq(a.bookStatus, 'active'), all(any(op.notExists(a.validFromMs), op.lte(a.validFromMs, now)), any(op.notExists(a.validUntilMs), op.gt(a.validUntilMs, now)))),
        )
        .commit({ response: 'all_old' }),
      userBookHolding
        .upsert({ tenant, userId, bookId })
        .add({ held: 1 })
        .where((a, op) => any(op.notExists(a.held), op.lt(a.held, cap)))
        .commit(),
    ])
    .params() as TransactWriteCommandInput;
}

/** The ids a claim transaction names, replaced by placeholders before two are compared. */
export interface ClaimIds {
  tenant: string;
  bookId: string;
  code: string;
  userId: string;
}

/** A claim transaction's ids, read from the values the service gave its code item. */
export function idsOf(tx: TransactWriteCommandInput, tenant: string): ClaimIds {
  const values = (tx.TransactItems?.[0]?.Update?.ExpressionAttributeValues ?? {}) as Record<string, unknown>;
  return { tenant, bookId: String(values[':bookId0']), code: String(values[':code_u0']), userId: String(values[':userId_u0']) };
}

function normalize(value: unknown, ids: ClaimIds): unknown {
  if (typeof value === 'number') return '<number>';
  if (typeof value === 'string') {
    if (value === ids.tenant) return '<tenant>';
    if (/^\d{4}-\d\d-\d\dT[\d:.]+Z$/.test(value)) return '<time>';
    if (/^[0-9a-f]{16}$/.test(value)) return '<slot>';
    return value
      .replaceAll(ids.bookId, '<book>')
      .replaceAll(`#${ids.tenant}#`, '#<tenant>#')
      .replaceAll(ids.code, '<code>')
      .replaceAll(ids.userId, '<user>')
      .replace(/#(STATS|CODES|POOL)#\d+$/, '#$1#<shard>');
  }
  if (Array.isArray(value)) return value.map((v) => normalize(v, ids));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, normalize(v, ids)]));
  return value;
}

/**
 * Where the raw transaction differs from one the service sent, ids, times and numbers aside: each
 * item's kind, key, expressions, names and values. Empty when they are the same shape.
 */
export function claimShapeDiff(service: TransactWriteCommandInput, serviceIds: ClaimIds, raw: TransactWriteCommandInput, rawIds: ClaimIds): string[] {
  const shape = (tx: TransactWriteCommandInput, ids: ClaimIds) =>
    (tx.TransactItems ?? []).map((item) => {
      const [kind, body] = Object.entries(item)[0] as [string, Record<string, unknown>];
      const { TableName: _table, ...rest } = body;
      return normalize({ kind, ...rest }, ids) as Record<string, unknown>;
    });
  const a = shape(service, serviceIds);
  const b = shape(raw, rawIds);
  const diffs: string[] = [];
  if (a.length !== b.length) diffs.push(`the service's claim has ${a.length} items, the baseline ${b.length}`);
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    for (const key of new Set([...Object.keys(a[i]!), ...Object.keys(b[i]!)])) {
      const [x, y] = [JSON.stringify(a[i]![key]), JSON.stringify(b[i]![key])];
      if (x !== y) diffs.push(`item ${i} ${key}: service ${x}, baseline ${y}`);
    }
  }
  return diffs;
}
