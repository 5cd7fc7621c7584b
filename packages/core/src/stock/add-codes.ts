import type { CoreContext } from '../context.ts';
import { requireRole, type Actor } from '../actor.ts';
import { validationFailed } from '../errors.ts';
import { checkCode } from '../code-format/code-format.ts';
import { RandomPicker } from '../code-format/pattern.ts';
import { isMistypedCheckedCode } from '../code-format/check-char.ts';
import { loadBook } from '../book/load-book.ts';
import { insertCodes } from './insert-codes.ts';
import { drawCodes, planGeneration } from './generation.ts';

export const MAX_UPLOAD_CODES = 5000;
export const MAX_SYNC_GENERATION = 10_000;

const RESERVED_FORM =
  'ends in "_" and one character, the form reserved for codes with a check character, and that character is not its check character';

export interface UploadResult {
  inserted: number;
  duplicates: string[];
  invalid: { code: string; reason: string }[];
}

/**
 * Inserts what is new, reports what already exists (in this tenant, or twice
 * in this request, once) and what is not a valid code. Never overwrites or
 * moves an existing code.
 */
export async function uploadCodes(ctx: CoreContext, actor: Actor, input: { bookId: string; codes: string[] }): Promise<UploadResult> {
  requireRole(actor, 'admin');
  const book = await loadBook(ctx, actor.tenant, input.bookId);
  const invalid: UploadResult['invalid'] = [];
  const seen = new Set<string>();
  const repeated = new Set<string>();
  const fresh: string[] = [];
  for (const raw of input.codes) {
    const checked = checkCode(raw);
    if (!checked.ok) {
      invalid.push({ code: String(raw), reason: checked.reason });
      continue;
    }
    if (isMistypedCheckedCode(checked.code)) {
      invalid.push({ code: String(raw), reason: RESERVED_FORM });
      continue;
    }
    if (seen.has(checked.code)) {
      repeated.add(checked.code);
      continue;
    }
    seen.add(checked.code);
    fresh.push(checked.code);
  }
  const { inserted, duplicates } = await insertCodes(ctx, book, fresh);
  const reported = new Set(duplicates);
  for (const code of repeated) reported.add(code);
  return { inserted: inserted.length, duplicates: [...reported], invalid };
}

/**
 * Generates `count` new codes from a pattern (the book's by default) with a
 * cryptographic source, retrying collisions with existing codes until the
 * book has exactly `count` more. Up to MAX_SYNC_GENERATION: larger counts
 * are jobs (stock/generation-job.ts).
 */
export async function generateCodes(
  ctx: CoreContext,
  actor: Actor,
  input: { bookId: string; count: number; pattern?: string; checkChar?: boolean },
): Promise<{ generated: number; requested: number; codes: string[] }> {
  requireRole(actor, 'admin');
  const book = await loadBook(ctx, actor.tenant, input.bookId);
  if (input.count > MAX_SYNC_GENERATION) {
    throw validationFailed([{ field: 'count', reason: `at most ${MAX_SYNC_GENERATION} per request` }]);
  }
  const plan = await planGeneration(ctx, book, input);
  const picker = new RandomPicker();
  const made: string[] = [];
  const tried = new Set<string>();
  // Within the capacity limit a round rarely loses more than a few percent; bound the rounds anyway.
  for (let round = 0; made.length < input.count && round < 20; round++) {
    const batch = drawCodes(plan, input.count - made.length, picker, tried);
    for (const code of batch) tried.add(code);
    const { inserted } = await insertCodes(ctx, book, batch);
    made.push(...inserted);
  }
  // Codes are unique per tenant, and the capacity check can only count this book's: other books
  // using the same pattern can crowd it. What was made stays made (a refusal now would be a 4xx
  // that wrote); the answer says how many, and `generated < requested` tells the caller.
  return { generated: made.length, requested: input.count, codes: made };
}
