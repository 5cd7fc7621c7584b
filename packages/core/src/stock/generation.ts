import type { CoreContext } from '../context.ts';
import { validationFailed } from '../errors.ts';
import { assertCapacity, generateCode, parsePattern, PatternError, type RandomPicker, type ParsedPattern } from '../code-format/pattern.ts';
import { assertPatternForCheckChar, withCheckChar } from '../code-format/check-char.ts';
import { readBookStats } from '../book/read-books.ts';
import type { BookRecord } from '../book/book.ts';
import { and, eq, where } from '../db/condition.ts';

/** What a generation draws from, once checked: shared by the in-request generation and jobs. */
export interface GenerationPlan {
  pattern: string;
  parsed: ParsedPattern;
  checkChar: boolean;
}

function refuse(field: string, e: unknown): never {
  if (e instanceof PatternError) throw validationFailed([{ field, reason: e.message }], e.message);
  throw e;
}

/** The pattern and check-character choice of a generation, without the capacity check (a job re-reads it when it runs). */
export function resolvePattern(book: Pick<BookRecord, 'codePattern' | 'checkChar'>, input: { pattern?: string; checkChar?: boolean }): GenerationPlan {
  const pattern = input.pattern ?? book.codePattern;
  if (!pattern) throw validationFailed([{ field: 'pattern', reason: 'required when the book has no codePattern' }]);
  let parsed: ParsedPattern;
  try {
    parsed = parsePattern(pattern);
  } catch (e) {
    refuse('pattern', e);
  }
  const checkChar = input.checkChar ?? book.checkChar ?? false;
  try {
    assertPatternForCheckChar(parsed, checkChar);
  } catch (e) {
    refuse('pattern', e);
  }
  return { pattern: parsed.pattern, parsed, checkChar };
}

/**
 * Codes still to come from this book's unfinished jobs. A new generation
 * counts them as if they existed already, so two large jobs queued back to
 * back cannot crowd a pattern between them.
 */
export async function pendingJobCodes(ctx: CoreContext, tenant: string, bookId: string): Promise<number> {
  const { data: jobs } = await ctx.store.job.query
    .unfinished({})
    .where(where(and(eq('tenant', tenant), eq('bookId', bookId))))
    .go({ pages: 'all' });
  let pending = 0;
  for (const job of jobs) {
    const { data: lanes } = await ctx.store.jobLane.query.byJob({ tenant, jobId: job.jobId }).go({ pages: 'all' });
    pending += job.total - lanes.reduce((n, l) => n + l.generated, 0);
  }
  return pending;
}

/**
 * Resolves the pattern and refuses a count too large for its space: more
 * than 5% of it, counting the codes the book already holds and those its
 * unfinished jobs will still make (400 that gives the space size and
 * suggests a longer pattern).
 */
export async function planGeneration(
  ctx: CoreContext,
  book: BookRecord,
  input: { count: number; pattern?: string; checkChar?: boolean },
): Promise<GenerationPlan> {
  const plan = resolvePattern(book, input);
  const [stats, pending] = await Promise.all([readBookStats(ctx, book), pendingJobCodes(ctx, book.tenant, book.bookId)]);
  try {
    assertCapacity(plan.parsed, input.count, stats.codes + pending);
  } catch (e) {
    refuse('count', e);
  }
  return plan;
}

/** One random code of the plan, with its check character if it has one. */
export function makeCode(plan: Pick<GenerationPlan, 'parsed' | 'checkChar'>, picker: RandomPicker): string {
  const code = generateCode(plan.parsed, picker);
  return plan.checkChar ? withCheckChar(code) : code;
}

/** `n` codes of the plan, distinct among themselves and from `avoid`. */
export function drawCodes(plan: Pick<GenerationPlan, 'parsed' | 'checkChar'>, n: number, picker: RandomPicker, avoid?: Set<string>): string[] {
  const out = new Set<string>();
  while (out.size < n) {
    const code = makeCode(plan, picker);
    if (!avoid?.has(code)) out.add(code);
  }
  return [...out];
}
