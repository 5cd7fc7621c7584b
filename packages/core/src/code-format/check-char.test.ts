import { describe, expect, it } from 'vitest';
import { assertPatternForCheckChar, checkCharFor, hasCheckCharForm, isMistypedCheckedCode, withCheckChar } from './check-char.ts';
import { generateCode, LETTERS_AND_DIGITS, parsePattern, PatternError, RandomPicker } from './pattern.ts';
import { CODE_PATTERN } from './code-format.ts';

// Pure: no database. The check character, and what it promises to catch.

const A = LETTERS_AND_DIGITS;

describe('check characters', () => {
  it('are appended after the "_" marker, from the look-alike-free alphabet, and verify', () => {
    const picker = new RandomPicker();
    const parsed = parsePattern('SUMMER-****-****');
    for (let i = 0; i < 2000; i++) {
      const code = withCheckChar(generateCode(parsed, picker));
      expect(code).toMatch(/^SUMMER-[A-Z2-9]{4}-[A-Z2-9]{4}_[A-Z2-9]$/);
      expect(code).toMatch(CODE_PATTERN);
      expect(A).toContain(code.at(-1));
      expect(hasCheckCharForm(code)).toBe(true);
      expect(isMistypedCheckedCode(code)).toBe(false);
    }
  });

  it('catch every single mistyped alphabet character, at every position', () => {
    const picker = new RandomPicker();
    const parsed = parsePattern('BF-********');
    for (let n = 0; n < 20; n++) {
      const code = withCheckChar(generateCode(parsed, picker));
      const positions = [...code].flatMap((ch, i) => (A.includes(ch) ? [i] : []));
      for (const i of positions) {
        for (const typo of A) {
          if (typo === code[i]) continue;
          const wrong = code.slice(0, i) + typo + code.slice(i + 1);
          expect(isMistypedCheckedCode(wrong), `${code} -> ${wrong}`).toBe(true);
        }
      }
    }
  });

  it('catch every swap of two adjacent, different alphabet characters', () => {
    // Exhaustive over all pairs at every offset up to 62 characters (the weights cycle every 30).
    for (let pre = 0; pre < 62; pre++) {
      const prefix = 'K'.repeat(pre);
      for (const a of A) {
        for (const b of A) {
          if (a === b) continue;
          expect(checkCharFor(`${prefix}${a}${b}Q`)).not.toBe(checkCharFor(`${prefix}${b}${a}Q`));
        }
      }
    }
  });

  it('recognise the form from the code alone: "_" second to last', () => {
    expect(hasCheckCharForm('ABC_D')).toBe(true);
    expect(hasCheckCharForm('ABC-D')).toBe(false);
    expect(hasCheckCharForm('AB_CD')).toBe(false);
    expect(hasCheckCharForm('ABCD_')).toBe(false);
    // Not in the form: never refused, whatever it looks like.
    expect(isMistypedCheckedCode('SUMMER-2026')).toBe(false);
    // In the form with a character that is not its check character: refused.
    const good = withCheckChar('SALE');
    const wrong = `SALE_${A[(A.indexOf(good.at(-1)!) + 1) % A.length]}`;
    expect(isMistypedCheckedCode(wrong)).toBe(true);
    // A check "character" outside the alphabet (0, O, 1, I, L, -, _) is never right.
    for (const ch of '0O1IL-_') expect(isMistypedCheckedCode(`SALE_${ch}`)).toBe(true);
  });

  it('skip characters outside the alphabet, so literals like O, 0 and "-" do not weigh', () => {
    expect(checkCharFor('A-B')).toBe(checkCharFor('AB'));
    expect(checkCharFor('OIL-2K')).toBe(checkCharFor('2K'));
  });
});

describe('patterns and check characters', () => {
  it('refuse a pattern ending in "_" and one character unless it asks for a check character', () => {
    expect(() => assertPatternForCheckChar(parsePattern('SALE_#'), false)).toThrow(PatternError);
    expect(() => assertPatternForCheckChar(parsePattern('SALE_X#'), false)).not.toThrow();
    expect(() => assertPatternForCheckChar(parsePattern('SALE_#'), true)).not.toThrow();
  });

  it('leave room for the two characters a check character adds', () => {
    expect(() => assertPatternForCheckChar(parsePattern('#'.repeat(62)), true)).not.toThrow();
    expect(() => assertPatternForCheckChar(parsePattern('#'.repeat(63)), true)).toThrow(/62/);
    expect(() => assertPatternForCheckChar(parsePattern('#'.repeat(64)), false)).not.toThrow();
  });
});
