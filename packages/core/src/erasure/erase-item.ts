import { setTimeout as sleep } from 'node:timers/promises';
import { gunzipSync } from 'node:zlib';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { CoreContext } from '../context.ts';
import { conditionalWrite } from '../db/conditional-write.ts';
import { where } from '../db/condition.ts';
import { retried } from '../db/retried.ts';
import { backoffMs, transact } from '../db/transact.ts';
import { AppError } from '../errors.ts';
import { Refused } from '../db/transition.ts';
import { ownerKeyOf } from '../entities/code.ts';
import { idempotencyScope } from '../idempotency/scope.ts';
import { encodeResponse, INLINE_BYTES, splitParts } from '../idempotency/stored-response.ts';
import type { TableItem } from '../jobs/scan-lanes.ts';
import { asRead, makeOnce } from './transitions.ts';

/** Whom an erasure job erases: the id it replaces and what replaces it, in one tenant. */
export interface Erasee {
  tenant: string;
  userId: string;
  pseudonym: string;
}

export type ItemOutcome = 'changed' | 'unchanged';

/** Refused (or busy) writes of one item tried again before the page gives up (the job retries it later). */
const ATTEMPTS = 8;

/**
 * Replaces the user's id in one item the scan read, by its entity: in place
 * where the id is only in attributes, moved (the new item written and the old
 * deleted in one transaction) where it is in the key. Every write is
 * conditioned on what was read (transitions.ts); a refused one reads the item
 * again and starts over, so a page handed over twice, or a request that
 * changed the item meanwhile, is handled. An item that no longer names the
 * user is 'unchanged'.
 */
export async function eraseItem(ctx: CoreContext, who: Erasee, first: TableItem): Promise<ItemOutcome> {
  if (first.tenant !== who.tenant) return 'unchanged';
  let item: TableItem | null = first;
  for (let attempt = 0; attempt < ATTEMPTS && item; attempt++) {
    try {
      return await rewrite(ctx, who, item);
    } catch (e) {
      // A write that lost to requests on the same items (conflicts, throttling) is tried again: a job is not in a hurry.
      if (e instanceof AppError && e.code === 'UNAVAILABLE') {
        await sleep(backoffMs(attempt, 50, 2000));
        continue;
      }
      if (!(e instanceof Refused)) throw e;
      item = await reread(ctx, item);
    }
  }
  if (!item) return 'unchanged';
  // Not the item's key: a key may hold the id this job is removing, and the error reaches the logs.
  throw new Error(`erasure: a ${item.__edb_e__ ?? 'table'} item kept changing; the page is tried again`);
}

/** The id replaced where it is a whole value, or a whole `#`-separated segment of a key-like value. */
const swapped = (who: Erasee, v: unknown) =>
  typeof v !== 'string' ? v : v === who.userId ? who.pseudonym : v.includes('#') ? v.split('#').map((s) => (s === who.userId ? who.pseudonym : s)).join('#') : v;

/** A JSON value with every string equal to the id replaced, at any depth. */
function deepSwapped(who: Erasee, v: unknown): unknown {
  if (typeof v === 'string') return v === who.userId ? who.pseudonym : v;
  if (Array.isArray(v)) return v.map((x) => deepSwapped(who, x));
  if (v && typeof v === 'object' && !(v instanceof Uint8Array)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, deepSwapped(who, x)]));
  return v;
}

const names = (who: Erasee, v: unknown) => JSON.stringify(deepSwapped(who, v)) !== JSON.stringify(v);
const refused = (item: Record<string, any> | null) => asRead.refusal(item, {});

/** The attributes of `item` that name the user, and what they become. */
function pseudonymized(who: Erasee, item: TableItem, attributes: readonly string[]) {
  const read: Record<string, string | number | undefined> = {};
  const set: Record<string, unknown> = {};
  for (const a of attributes) {
    if (item[a] === who.userId) {
      read[a] = item[a];
      set[a] = who.pseudonym;
    }
  }
  return { read, set };
}

async function rewrite(ctx: CoreContext, who: Erasee, item: TableItem): Promise<ItemOutcome> {
  const s = ctx.store;
  switch (item.__edb_e__) {
    case 'code': {
      const lastChange = item.lastChange && deepSwapped(who, item.lastChange);
      const holder = item.userId === who.userId;
      if (!holder && !names(who, item.lastChange)) return 'unchanged';
      // `changeSeq` moves with every transition: a lock or redeem since the read makes this refuse.
      const read = { changeSeq: item.changeSeq, userId: item.userId };
      const set = { ...(holder ? { userId: who.pseudonym, ownerKey: ownerKeyOf(who.tenant, who.pseudonym), ownerSort: item.ownerSort } : {}), ...(lastChange ? { lastChange } : {}) };
      await conditionalWrite(s, (e) => e.code.patch({ tenant: item.tenant, code: item.code }).set(set).where(where(asRead.condition(read))), refused);
      return 'changed';
    }
    case 'codeHistory':
      return inPlace(ctx, pseudonymized(who, item, ['by', 'userId']), (e) => e.codeHistory.patch({ tenant: item.tenant, code: item.code, seq: item.seq }));
    case 'redemption': {
      const { read, set } = pseudonymized(who, item, ['userId', 'redeemedBy', 'rolledBackBy']);
      if (item.context !== undefined && names(who, item.context)) set.context = deepSwapped(who, item.context);
      return inPlace(ctx, { read, set }, (e) => e.redemption.patch({ tenant: item.tenant, code: item.code, redemptionId: item.redemptionId }));
    }
    case 'job':
      // An unfinished erasure of the same user (this one, or a second request) still needs the id; its own finish removes it.
      if (item.kind === 'erasure' && item.pseudonym === who.pseudonym) return 'unchanged';
      return inPlace(ctx, pseudonymized(who, item, ['createdBy']), (e) => e.job.patch({ tenant: item.tenant, jobId: item.jobId }));
    case 'apiKey':
      return inPlace(ctx, pseudonymized(who, item, ['createdBy', 'revokedBy']), (e) => e.apiKey.patch({ tenant: item.tenant, keyId: item.keyId }));
    case 'webhookDelivery': {
      if (!item.body.includes(JSON.stringify(who.userId))) return 'unchanged';
      const body = JSON.stringify(deepSwapped(who, JSON.parse(item.body)));
      if (body === item.body) return 'unchanged';
      return inPlace(ctx, { read: { body: item.body }, set: { body } }, (e) =>
        e.webhookDelivery.patch({ tenant: item.tenant, webhookId: item.webhookId, shard: item.shard, messageId: item.messageId }),
      );
    }
    case 'userBookHolding': {
      if (item.userId !== who.userId) return 'unchanged';
      const { tenant, bookId, held } = item;
      const target = { tenant, userId: who.pseudonym, bookId };
      // The pseudonym holds codes of this book already only if the id claimed again after an earlier erasure: the counts add up.
      const { data: there } = await s.userBookHolding.get(target).go({ consistent: true });
      await move(ctx, (e) => ({
        add: there
          ? e.userBookHolding.patch(target).set({ held: there.held + held }).where(where(asRead.condition({ held: there.held }))).commit()
          : e.userBookHolding.create({ ...target, held }).commit(),
        drop: e.userBookHolding.delete({ tenant, userId: item.userId, bookId }).where(where(asRead.condition({ held }))).commit(),
      }));
      return 'changed';
    }
    case 'rateCounter': {
      const scope = swapped(who, item.scope) as string;
      if (scope === item.scope) return 'unchanged';
      const { tenant, window, misses, expiresAt } = item;
      const { data: there } = await s.rateCounter.get({ tenant, scope, window }).go({ consistent: true });
      await move(ctx, (e) => ({
        add: there
          ? e.rateCounter.patch({ tenant, scope, window }).set({ misses: (there.misses ?? 0) + (misses ?? 0) }).where(where(asRead.condition({ misses: there.misses }))).commit()
          : e.rateCounter.create({ tenant, scope, window, misses, expiresAt }).commit(),
        drop: e.rateCounter.delete({ tenant, scope: item.scope, window }).where(where(asRead.condition({ misses, expiresAt }))).commit(),
      }));
      return 'changed';
    }
    case 'idempotencyRecord':
      return eraseIdempotencyRecord(ctx, who, item);
    default:
      // idempotencyPart: rewritten with its record. Books, webhook endpoints, stats, activity counters,
      // jobs' lanes and the erased-user mark hold no user id (docs/erasure.md lists what is rewritten).
      return 'unchanged';
  }
}

async function inPlace(ctx: CoreContext, change: { read: Record<string, any>; set: Record<string, unknown> }, patch: (e: any) => any): Promise<ItemOutcome> {
  if (!Object.keys(change.set).length) return 'unchanged';
  await conditionalWrite(ctx.store, (e) => patch(e).set(change.set).where(where(asRead.condition(change.read))), refused);
  return 'changed';
}

/**
 * The new item (`add`: a create, absent until now, `makeOnce`; or an existing one added to, as read) and the
 * old one (`drop`: still as read, `asRead`) in one transaction: both or neither. Any refusal sends the job
 * back to read the item again.
 */
async function move(ctx: CoreContext, build: (e: any) => Record<string, unknown>) {
  await transact(ctx.store, build as any, {
    onConditionFailed: (reasons) => (reasons.add?.rejected ? makeOnce.refusal(reasons.add.item, undefined) : refused(null)),
  });
}

/**
 * An idempotency record of the user's own requests is keyed by a hash of
 * their id: it moves, with its parts, to the key the pseudonym would have.
 * One of a service acting for the user keeps its key; its stored response
 * (gzip, inline or in parts) is rewritten wherever it names the user.
 */
async function eraseIdempotencyRecord(ctx: CoreContext, who: Erasee, item: TableItem): Promise<ItemOutcome> {
  const ownedBy = item.caller === who.userId;
  const { data: parts } = item.parts
    ? await ctx.store.idempotencyPart.query.byScope({ tenant: item.tenant, scope: item.scope }).go({ pages: 'all', consistent: true })
    : { data: [] as { part: number; body: Uint8Array }[] };
  const gzip = item.body ?? (parts.length ? Buffer.concat([...parts].sort((a, b) => a.part - b.part).map((p) => p.body as Uint8Array)) : undefined);
  const response = gzip ? JSON.parse(gunzipSync(gzip).toString('utf8')) : undefined;
  const namesInResponse = response !== undefined && names(who, response);
  if (!ownedBy && !namesInResponse) return 'unchanged';
  const bytes = response !== undefined ? encodeResponse(deepSwapped(who, response)) : undefined;
  const newParts = bytes && bytes.length > INLINE_BYTES ? splitParts(bytes) : [];
  const stored = bytes === undefined ? {} : newParts.length ? { parts: newParts.length } : { body: bytes };
  const read = { createdAt: item.createdAt, requestHash: item.requestHash, state: item.state };
  const scope = ownedBy ? idempotencyScope({ role: item.role, caller: who.pseudonym, key: item.key }) : item.scope;
  const { tenant, expiresAt } = item;
  // The pseudonym's record under the same key exists only if the id made a request again after an earlier erasure: that one is kept.
  const taken = ownedBy && (await ctx.store.idempotencyRecord.get({ tenant: item.tenant, scope }).go({ consistent: true })).data;
  await move(ctx, (e) => {
    const writes: Record<string, unknown> = {};
    if (ownedBy) {
      const { role, key, requestHash, state, status, createdAt } = item;
      if (!taken) writes.add = e.idempotencyRecord.create({ tenant, scope, role, caller: who.pseudonym, key, requestHash, state, createdAt, expiresAt, ...(status !== undefined ? { status } : {}), ...stored }).commit();
      writes.drop = e.idempotencyRecord.delete({ tenant, scope: item.scope }).where(where(asRead.condition(read))).commit();
      for (const p of parts) writes[`dropPart${p.part}`] = e.idempotencyPart.delete({ tenant, scope: item.scope, part: p.part }).commit();
    } else {
      const update = e.idempotencyRecord.patch({ tenant, scope }).set(stored);
      writes.add = (newParts.length ? update.remove(['body']) : item.parts ? update.remove(['parts']) : update).where(where(asRead.condition(read))).commit();
      for (const p of parts.filter((p) => p.part >= newParts.length)) writes[`dropPart${p.part}`] = e.idempotencyPart.delete({ tenant, scope, part: p.part }).commit();
    }
    if (!taken) for (const [part, body] of newParts.entries()) writes[`part${part}`] = e.idempotencyPart.put({ tenant, scope, part, body, expiresAt }).commit();
    return writes;
  });
  return 'changed';
}

/** The item as it is now (consistent read), or null once it is gone. */
async function reread(ctx: CoreContext, item: TableItem): Promise<TableItem | null> {
  const { Item } = await retried(() => ctx.store.client.send(new GetCommand({ TableName: ctx.store.table, Key: { pk: item.pk, sk: item.sk }, ConsistentRead: true })));
  return Item ?? null;
}
