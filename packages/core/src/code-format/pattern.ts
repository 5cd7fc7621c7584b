import { randomBytes } from 'node:crypto';
import { CODE_PATTERN, isAsciiText } from './code-format.ts';

/** No look-alikes: no 0/O, no 1/I/L. */
export const DIGITS = '23456789';
export const LETTERS = 'ABCDEFGHJKMNPQRSTUVWXYZ';
export const LETTERS_AND_DIGITS = LETTERS + DIGITS;

const PLACEHOLDERS: Record<string, string> = { '#': DIGITS, '?': LETTERS, '*': LETTERS_AND_DIGITS };

/** Refuse a generation that would fill more than this share of a pattern's space: collisions then dominate. */
export const MAX_SPACE_SHARE = 0.05;

export type PatternSlot = { literal: string } | { alphabet: string };

export interface ParsedPattern {
  pattern: string;
  slots: PatternSlot[];
  /** How many distinct codes the pattern can make. */
  space: number;
}

export class PatternError extends Error {}

export function parsePattern(raw: string): ParsedPattern {
  // ASCII before case folding, as for codes: 'ſ' would otherwise become the literal 'S'.
  if (!isAsciiText(raw)) throw new PatternError('a pattern is ASCII only: A-Z, 0-9, - and _, with # digit, ? letter, * either');
  const pattern = raw.trim().toUpperCase();
  const slots: PatternSlot[] = [...pattern].map((ch) => (PLACEHOLDERS[ch] ? { alphabet: PLACEHOLDERS[ch] } : { literal: ch }));
  const sample = slots.map((s) => ('literal' in s ? s.literal : 'A')).join('');
  if (!CODE_PATTERN.test(sample)) {
    throw new PatternError('a pattern must make codes of 3 to 64 characters of A-Z, 0-9, - and _ (with # digit, ? letter, * either)');
  }
  let space = 1;
  for (const s of slots) if ('alphabet' in s) space *= s.alphabet.length;
  if (space === 1) throw new PatternError('a pattern needs at least one of #, ? or *');
  return { pattern, slots, space };
}

/**
 * How many more codes a pattern can take without heavy collisions, given how
 * many it already holds. Throws a PatternError that says the space size and
 * what to do.
 */
export function assertCapacity(parsed: ParsedPattern, count: number, existing: number): void {
  const limit = Math.floor(parsed.space * MAX_SPACE_SHARE);
  if (count + existing > limit) {
    throw new PatternError(
      `pattern ${parsed.pattern} has ${parsed.space} possible codes; ${count} more (with ${existing} already in the book) ` +
        `would fill more than ${MAX_SPACE_SHARE * 100}% of it (limit ${limit}) and collide heavily: use a longer pattern`,
    );
  }
}

/** Uniform picks from node:crypto, by rejection sampling over a byte buffer (no modulo bias). */
export class RandomPicker {
  private buffer = Buffer.alloc(0);
  private offset = 0;

  private nextByte(): number {
    if (this.offset >= this.buffer.length) {
      this.buffer = randomBytes(4096);
      this.offset = 0;
    }
    return this.buffer[this.offset++]!;
  }

  pick(alphabet: string): string {
    const n = alphabet.length;
    const ceiling = 256 - (256 % n);
    for (;;) {
      const b = this.nextByte();
      if (b < ceiling) return alphabet[b % n]!;
    }
  }
}

export function generateCode(parsed: ParsedPattern, picker = new RandomPicker()): string {
  let out = '';
  for (const s of parsed.slots) out += 'literal' in s ? s.literal : picker.pick(s.alphabet);
  return out;
}
