import type { CoreContext } from '../context.ts';
import type { Role } from '../actor.ts';
import { conditionalWrite } from '../db/conditional-write.ts';
import { where } from '../db/condition.ts';
import { passRefusalsOf, refusedBy } from '../db/transition.ts';
import { createOnce, finishPendingCopy } from './transitions.ts';
import { recordKey } from '../idempotency/scope.ts';
import { encodeResponse, INLINE_BYTES, summarize } from '../idempotency/stored-response.ts';
import { deleteIfUnchanged, reread } from './legacy-writes.ts';
import { retried } from '../db/retried.ts';
import type { Migration, ItemOutcome, TableItem } from './migration.ts';

/** The previous release named no role in its records: a record is copied for each role that could have made it. */
const ROLES: readonly Role[] = ['admin', 'service', 'user'];
/** What must not change under the delete: the request and its state (the previous release sets the response with `state` and `status`). */
const WATCHED = ['requestHash', 'state', 'status', 'createdAt', 'expiresAt'] as const;

/** An idempotency record as the previous release stored it: entity version 1, key `T#t#IDEM#<sub>#<key>`, the response as JSON text. */
const isOldRecord = (item: TableItem) => item.__edb_e__ === 'idempotencyRecord' && item.__edb_v__ === '1';

/**
 * Idempotency records under the old key run again today: the previous release
 * kept a record under `T#t#IDEM#<sub>#<key>` with its response as JSON text,
 * and today's are under a hash of (role, sub, key) with the response gzipped
 * (commit 0dc09f9), so a client's retry after the upgrade finds nothing and
 * the work is done twice.
 *
 * A record still alive (they live 24 hours) is copied to today's key with
 * its response stored today's way, the same request hash, status, creation
 * time and expiry, so the retry replays the first answer. The old key names
 * no role, and the role is part of today's key, so the copy is made for each
 * role: a retry made with the same sub, key and request replays whatever
 * role its token has, as it did under the previous release (for records
 * that expire within the day). A record still `pending` (multi-step work the
 * previous release had under way) is copied pending, and made `done` when a
 * later run finds it done. `finish` deletes the old record.
 */
export const idempotencyRecordKeys: Migration = {
  id: '003-idempotency-record-keys',
  summary: 'idempotency records move from T#t#IDEM#<sub>#<key> to the hash of (role, sub, key), responses gzipped',
  filter: { expression: '#e = :e AND #v = :v', names: { '#e': '__edb_e__', '#v': '__edb_v__' }, values: { ':e': 'idempotencyRecord', ':v': '1' } },
  async migrate(ctx, item, phase) {
    if (!isOldRecord(item)) return 'unchanged';
    let old: TableItem | null = item;
    let outcome: ItemOutcome = 'unchanged';
    while (old) {
      if (old.expiresAt * 1000 > ctx.now()) {
        for (const role of ROLES) if ((await copyFor(ctx, old, role)) === 'changed') outcome = 'changed';
      }
      if (phase === 'prepare') return outcome;
      if (await deleteIfUnchanged(ctx.store, old, WATCHED)) return 'changed';
      old = await reread(ctx.store, old); // finished by the previous release meanwhile: copy what it is now
    }
    return outcome;
  },
};

async function copyFor(ctx: CoreContext, old: TableItem, role: Role): Promise<ItemOutcome> {
  const owner = { tenant: old.tenant as string, role, caller: old.caller as string, key: old.key as string };
  const answer = old.state === 'done' ? storedAnswer(old) : {};
  try {
    await retried(() =>
      conditionalWrite(ctx.store, (e) => e.idempotencyRecord
        .create({
          ...recordKey(owner),
          role,
          caller: owner.caller,
          key: owner.key,
          requestHash: old.requestHash,
          state: old.state,
          ...answer,
          createdAt: old.createdAt,
          expiresAt: old.expiresAt,
        }), (found) => createOnce.refusal(found, undefined)),
    );
    return 'changed';
  } catch (e) {
    passRefusalsOf(createOnce)(e);
  }
  if (old.state !== 'done') return 'unchanged';
  // A copy exists. If it is the pending copy of this very request, the previous release has finished it since.
  const pending = { createdAt: old.createdAt, requestHash: old.requestHash };
  try {
    await retried(() =>
      conditionalWrite(
        ctx.store,
        (e) => e.idempotencyRecord.patch(recordKey(owner)).set(answer).where(where(finishPendingCopy.condition(pending))),
        (found) => finishPendingCopy.refusal(found, pending),
      ),
    );
    return 'changed';
  } catch (e) {
    if (refusedBy(finishPendingCopy, e)) return 'unchanged'; // copied done before, or a record of today's code under that key
    throw e;
  }
}

/** The first answer as today's records keep it: gzipped JSON, summarised if it would not fit one item (never, for what the previous release could store). */
function storedAnswer(old: TableItem): { state: 'done'; status: number; body: Uint8Array } {
  const response: unknown = JSON.parse(old.response);
  let body = encodeResponse(response);
  if (body.length > INLINE_BYTES) body = encodeResponse(summarize(response, INLINE_BYTES));
  return { state: 'done', status: old.status, body };
}
