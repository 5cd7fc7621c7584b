import { LETTERS_AND_DIGITS, PatternError, type ParsedPattern } from './pattern.ts';

/**
 * Check characters, recognisable from the code alone.
 *
 * A code carries a check character exactly when its second-to-last
 * character is `_` (the marker): `SUMMER-7K2M-QX9P_R`. Its last character
 * is the check character of everything before the marker. The rule is
 * global and stateless, so lock, unlock, redeem, assign-by-name and the code
 * read refuse a mistyped checked code as CODE_NOT_FOUND before any database
 * read: no per-book or per-tenant setting has to be looked up first.
 *
 * The price is that the form `…_X` is reserved: an upload of a code in that
 * form whose last character is not its check character is refused as
 * invalid, and a pattern whose second-to-last character is `_` is refused
 * unless it asks for a check character (it would make codes in the
 * reserved form with a random last character).
 *
 * The check is a weighted sum modulo 31 over the look-alike-free alphabet
 * (31 characters; 31 is prime), in the manner of ISO/IEC 7064's pure
 * systems: reading the alphabet characters from the right, the i-th (the
 * check character is the 0th) weighs (i mod 30) + 1, and the sum must be
 * 0 mod 31. Every weight is invertible mod 31 and neighbours differ by a
 * non-zero amount, so it catches every single mistyped alphabet character
 * and every swap of two adjacent alphabet characters. (Luhn mod N was the
 * obvious candidate, but Luhn needs an even N: with N = 31 its doubling
 * step is not a permutation and 60 single substitutions go unnoticed.)
 *
 * Characters outside the alphabet (the look-alikes 0 O 1 I L, `-` and `_`
 * in the payload) are not weighed; they occur only as a pattern's literals.
 * Typing one of them in place of an alphabet character removes a weighed
 * character, which the check catches in 30 cases out of 31; moving a literal
 * `-` is not caught. A code whose marker itself is mistyped is not
 * recognised as checked: it is looked up as usual and not found.
 */
export const CHECK_MARKER = '_';
const N = LETTERS_AND_DIGITS.length;
const POINT = new Map([...LETTERS_AND_DIGITS].map((ch, i) => [ch, i]));

const weight = (i: number) => (i % 30) + 1;

/** The check character of `payload` (characters outside the alphabet are skipped). */
export function checkCharFor(payload: string): string {
  let sum = 0;
  let i = 1;
  for (let j = payload.length - 1; j >= 0; j--) {
    const point = POINT.get(payload[j]!);
    if (point === undefined) continue;
    sum = (sum + weight(i++) * point) % N;
  }
  // The check character weighs 1: it is whatever makes the whole sum 0 mod N.
  return LETTERS_AND_DIGITS[(N - sum) % N]!;
}

/** `payload` followed by the marker and its check character. */
export const withCheckChar = (payload: string): string => `${payload}${CHECK_MARKER}${checkCharFor(payload)}`;

/** The code is in the reserved form: it claims to carry a check character. */
export const hasCheckCharForm = (code: string): boolean => code.length >= 3 && code[code.length - 2] === CHECK_MARKER;

/** A code in the reserved form whose check character is wrong: a typo, refused without a database read. */
export function isMistypedCheckedCode(code: string): boolean {
  if (!hasCheckCharForm(code)) return false;
  return checkCharFor(code.slice(0, -2)) !== code[code.length - 1];
}

/** Characters a check character adds to a generated code. */
export const CHECK_CHAR_LENGTH = 2;

/**
 * A pattern that can generate with (or without) a check character: with one,
 * the code grows by two characters and must stay within 64; without one, the
 * pattern may not end in `_` plus one character, the form reserved for
 * checked codes.
 */
export function assertPatternForCheckChar(parsed: ParsedPattern, checkChar: boolean): void {
  const length = parsed.slots.length;
  if (checkChar) {
    if (length + CHECK_CHAR_LENGTH > 64) {
      throw new PatternError(`with a check character (2 more characters, "_" and the check) the pattern may have at most 62 characters, not ${length}`);
    }
    return;
  }
  const beforeLast = parsed.slots[length - 2];
  if (beforeLast && 'literal' in beforeLast && beforeLast.literal === CHECK_MARKER) {
    throw new PatternError('a pattern may not end in "_" and one character: that form is reserved for codes with a check character ("checkChar": true)');
  }
}
