import type { CoreContext } from '../context.ts';
import { requireRole, resolveUserId, type Actor } from '../actor.ts';
import { refuseErased } from '../erased-users.ts';
import { AppError } from '../errors.ts';
import { refusedBy, type Transition } from '../db/transition.ts';
import { isMistypedCheckedCode } from '../code-format/check-char.ts';
import { codeNotFound } from './transitions.ts';
import type { CodeRecord } from './state.ts';
import { loadBookCached } from '../book/load-book.ts';
import type { BookRecord } from '../book/book.ts';

/**
 * Reads a code the caller may act on. A code that exists but is not the
 * caller's (or not the named user's) answers exactly as one that does not
 * exist, so codes cannot be enumerated.
 */
export async function loadHeldCode(ctx: CoreContext, actor: Actor, code: string, userId: string | undefined): Promise<CodeRecord> {
  // A checked code whose check character is wrong is a typo: refused before any read.
  if (isMistypedCheckedCode(code)) throw codeNotFound(code);
  const { data } = await ctx.store.code.get({ tenant: actor.tenant, code }).go({ consistent: true });
  if (data?.status !== 'assigned') throw codeNotFound(code);
  const holder = actor.role === 'user' ? actor.sub : userId;
  if (holder !== undefined && data.userId !== holder) throw codeNotFound(code);
  // Whoever acts on it, a code held by an erased user is not written again under that user's id.
  await refuseErased(ctx, actor.tenant, data.userId!);
  return data as CodeRecord;
}

/**
 * What lock, unlock and redeem start from: any role may call them, a user
 * only for itself; the code must be held by the caller (or the named user),
 * and its book comes from the hot path's cache.
 */
export async function loadHeldCodeWithBook(
  ctx: CoreContext,
  actor: Actor,
  code: string,
  userId: string | undefined,
): Promise<{ current: CodeRecord; book: BookRecord }> {
  requireRole(actor, 'admin', 'service', 'user');
  const named = resolveUserId(actor, userId, { required: false });
  const current = await loadHeldCode(ctx, actor, code, named);
  return { current, book: await loadBookCached(ctx, actor.tenant, current.bookId) };
}


/** How many times a write is built again from the item other transitions left, before 503 (cost/model.ts RACE_ON_ONE_CODE). */
const MOVED_ATTEMPTS = 8;

/**
 * Runs a write on a held code from the code as read and, each time another
 * transition of the code landed in between (the write refused as `moved`,
 * code/transitions.ts), again from the item as that transition left it, so
 * the write's answer is the state it made. No extra read: the refused write
 * hands the item back. Every retry means another transition of this one code
 * committed; a code that keeps moving is answered 503 after a few.
 */
export async function fromLatestRead<T>(t: Transition<any, any, string>, read: CodeRecord, write: (current: CodeRecord) => Promise<T>): Promise<T> {
  let current = read;
  for (let attempt = 1; ; attempt++) {
    try {
      return await write(current);
    } catch (e) {
      const moved = refusedBy(t, e);
      if (!moved?.item) throw e;
      if (attempt >= MOVED_ATTEMPTS) throw new AppError('UNAVAILABLE', `Code ${read.code} is changing too fast; retry shortly.`, { retryAfterSeconds: 1 });
      current = moved.item as CodeRecord;
    }
  }
}
