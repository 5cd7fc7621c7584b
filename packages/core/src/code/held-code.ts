import type { CoreContext } from '../context.ts';
import { requireRole, resolveUserId, type Actor } from '../actor.ts';
import { refuseErased } from '../erased-users.ts';
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
  if (!data || data.status !== 'assigned') throw codeNotFound(code);
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
