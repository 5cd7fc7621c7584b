import type { CoreContext } from '../context.ts';
import { requireRole, type Actor } from '../actor.ts';
import { AppError, validationFailed } from '../errors.ts';
import { checkCode } from '../codes/code-format.ts';
import { assertCapacity, generateCode, parsePattern, PatternError, RandomPicker, type ParsedPattern } from '../codes/pattern.ts';
import { loadBook, readBookStats } from './books.ts';
import { insertCodes } from './insert-codes.ts';

export const MAX_UPLOAD_CODES = 5000;
export const MAX_SYNC_GENERATION = 10_000;

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

function parseOrRefuse(pattern: string): ParsedPattern {
  try {
    return parsePattern(pattern);
  } catch (e) {
    if (e instanceof PatternError) throw validationFailed([{ field: 'pattern', reason: e.message }], e.message);
    throw e;
  }
}

/**
 * Generates `count` new codes from a pattern (the book's by default) with a
 * cryptographic source, retrying collisions with existing codes until the
 * book has exactly `count` more.
 */
export async function generateCodes(
  ctx: CoreContext,
  actor: Actor,
  input: { bookId: string; count: number; pattern?: string },
): Promise<{ generated: number; codes: string[] }> {
  requireRole(actor, 'admin');
  const book = await loadBook(ctx, actor.tenant, input.bookId);
  const pattern = input.pattern ?? book.codePattern;
  if (!pattern) {
    throw validationFailed([{ field: 'pattern', reason: 'required when the book has no codePattern' }]);
  }
  if (input.count > MAX_SYNC_GENERATION) {
    throw validationFailed([{ field: 'count', reason: `at most ${MAX_SYNC_GENERATION} per request` }]);
  }
  const parsed = parseOrRefuse(pattern);
  const stats = await readBookStats(ctx, actor.tenant, book.bookId);
  try {
    assertCapacity(parsed, input.count, stats.codes);
  } catch (e) {
    if (e instanceof PatternError) throw validationFailed([{ field: 'count', reason: e.message }], e.message);
    throw e;
  }
  const picker = new RandomPicker();
  const made: string[] = [];
  const tried = new Set<string>();
  // Within the capacity limit a round rarely loses more than a few percent; bound the rounds anyway.
  for (let round = 0; made.length < input.count && round < 20; round++) {
    const batch: string[] = [];
    while (batch.length < input.count - made.length) {
      const code = generateCode(parsed, picker);
      if (tried.has(code)) continue;
      tried.add(code);
      batch.push(code);
    }
    const { inserted } = await insertCodes(ctx, book, batch);
    made.push(...inserted);
  }
  if (made.length < input.count) {
    throw new AppError('VALIDATION_FAILED', `Only ${made.length} of ${input.count} codes could be made: the pattern is too crowded.`, {
      details: [{ field: 'pattern', reason: 'too many collisions; use a longer pattern' }],
    });
  }
  return { generated: made.length, codes: made };
}
