import { describe, expect, it } from 'vitest';
import {
  assertCapacity,
  DIGITS,
  generateCode,
  LETTERS,
  LETTERS_AND_DIGITS,
  MAX_SPACE_SHARE,
  parsePattern,
  PatternError,
  RandomPicker,
} from './pattern.ts';
import { CODE_PATTERN } from './code-format.ts';

// Pure: no database. Patterns, their space, generation and its randomness.

const LOOK_ALIKES = /[01OIL]/;

/** The regular expression a pattern's codes must match, built independently of the implementation. */
function patternRegex(pattern: string): RegExp {
  const cls = (s: string) => `[${s}]`;
  const body = [...pattern.trim().toUpperCase()]
    .map((ch) => (ch === '#' ? cls('23456789') : ch === '?' ? cls('ABCDEFGHJKMNPQRSTUVWXYZ') : ch === '*' ? cls('ABCDEFGHJKMNPQRSTUVWXYZ23456789') : ch.replace(/[-_]/g, (c) => `\\${c}`)))
    .join('');
  return new RegExp(`^${body}$`);
}

/**
 * Upper critical value of chi-square with `df` degrees of freedom at the
 * standard normal quantile `z` (Wilson–Hilferty). z = 5 is p ≈ 3e-7: loose
 * enough never to flake, tight enough to catch a modulo bias or a dead symbol.
 */
function chiSquareCritical(df: number, z = 5): number {
  const a = 2 / (9 * df);
  return df * (1 - a + z * Math.sqrt(a)) ** 3;
}

function chiSquare(counts: Map<string, number>, alphabet: string, total: number): number {
  const expected = total / alphabet.length;
  let chi = 0;
  for (const ch of alphabet) chi += ((counts.get(ch) ?? 0) - expected) ** 2 / expected;
  return chi;
}

describe('alphabets', () => {
  it('have no look-alikes and no repeats', () => {
    expect(DIGITS).toBe('23456789');
    expect(LETTERS).toBe('ABCDEFGHJKMNPQRSTUVWXYZ');
    for (const a of [DIGITS, LETTERS, LETTERS_AND_DIGITS]) {
      expect(a).not.toMatch(LOOK_ALIKES);
      expect(new Set(a).size).toBe(a.length);
    }
    expect(LETTERS_AND_DIGITS.length).toBe(31);
  });
});

describe('parsePattern', () => {
  it('computes the space size from the placeholders', () => {
    expect(parsePattern('###').space).toBe(8 ** 3);
    expect(parsePattern('A?B').space).toBe(23);
    expect(parsePattern('X-*').space).toBe(31);
    expect(parsePattern('AB-##').space).toBe(64);
    expect(parsePattern('X-#?*').space).toBe(8 * 23 * 31);
    expect(parsePattern('SUMMER-****-****').space).toBe(31 ** 8);
  });

  it('trims and upper-cases, and keeps literals as literals', () => {
    const p = parsePattern('  sum_#-?  ');
    expect(p.pattern).toBe('SUM_#-?');
    expect(p.slots).toEqual([
      { literal: 'S' },
      { literal: 'U' },
      { literal: 'M' },
      { literal: '_' },
      { alphabet: DIGITS },
      { literal: '-' },
      { alphabet: LETTERS },
    ]);
  });

  it('refuses patterns that cannot make valid codes, or make only one', () => {
    const bad = [
      '', // empty
      '#', // 1 character
      '##', // 2 characters
      '   ##   ', // 2 after trimming
      '#'.repeat(65), // too long
      'AB!##', // bad character
      'AB ##', // space inside
      'ÄB-##', // not A-Z
      'PLAIN', // no placeholder: space of 1
      'ABC-123', // no placeholder either
    ];
    for (const raw of bad) expect(() => parsePattern(raw), JSON.stringify(raw)).toThrow(PatternError);
    expect(() => parsePattern('PLAIN')).toThrow(/#, \? or \*/);
  });

  it('accepts the edges: 3 and 64 characters', () => {
    expect(parsePattern('A-#').space).toBe(8);
    expect(parsePattern('#'.repeat(64)).space).toBe(8 ** 64);
  });
});

describe('generateCode', () => {
  it('makes codes that match their pattern and are valid codes', () => {
    const picker = new RandomPicker();
    for (const raw of ['SUMMER-****-****', 'bf-####-????', 'A_#?*', '###', '??????', `${'*'.repeat(64)}`]) {
      const parsed = parsePattern(raw);
      const re = patternRegex(raw);
      for (let i = 0; i < 200; i++) {
        const code = generateCode(parsed, picker);
        expect(code).toMatch(re);
        expect(code).toMatch(CODE_PATTERN);
      }
    }
  });

  it('never produces a look-alike character in a placeholder position', () => {
    const parsed = parsePattern('********');
    const picker = new RandomPicker();
    for (let i = 0; i < 20_000; i++) expect(generateCode(parsed, picker)).not.toMatch(LOOK_ALIKES);
    // Literal look-alikes are kept as written, the placeholders still avoid them.
    const literal = parsePattern('OIL-####');
    for (let i = 0; i < 1000; i++) {
      const code = generateCode(literal, picker);
      expect(code.startsWith('OIL-')).toBe(true);
      expect(code.slice(4)).not.toMatch(LOOK_ALIKES);
    }
  });

  it('works with its default picker', () => {
    expect(generateCode(parsePattern('X-##'))).toMatch(/^X-[2-9]{2}$/);
  });

  it("is uniform: chi-square of each position of '********' over 100,000 codes", () => {
    const parsed = parsePattern('********');
    const picker = new RandomPicker();
    const n = 100_000;
    const counts = Array.from({ length: 8 }, () => new Map<string, number>());
    for (let i = 0; i < n; i++) {
      const code = generateCode(parsed, picker);
      for (let p = 0; p < 8; p++) counts[p]!.set(code[p]!, (counts[p]!.get(code[p]!) ?? 0) + 1);
    }
    const critical = chiSquareCritical(LETTERS_AND_DIGITS.length - 1);
    expect(critical).toBeGreaterThan(70);
    expect(critical).toBeLessThan(90);
    for (const [p, c] of counts.entries()) {
      expect([...c.keys()].sort().join(''), `position ${p}`).toBe([...LETTERS_AND_DIGITS].sort().join(''));
      const chi = chiSquare(c, LETTERS_AND_DIGITS, n);
      expect(chi, `position ${p}: chi-square ${chi.toFixed(1)} > ${critical.toFixed(1)}`).toBeLessThan(critical);
    }
  });

  it('is uniform for the digit and letter alphabets too', () => {
    const picker = new RandomPicker();
    for (const [pattern, alphabet] of [
      ['#', DIGITS],
      ['?', LETTERS],
    ] as const) {
      const parsed = parsePattern(`XX${pattern}`);
      const n = 50_000;
      const c = new Map<string, number>();
      for (let i = 0; i < n; i++) {
        const ch = generateCode(parsed, picker)[2]!;
        c.set(ch, (c.get(ch) ?? 0) + 1);
      }
      expect(c.size).toBe(alphabet.length);
      expect(chiSquare(c, alphabet, n)).toBeLessThan(chiSquareCritical(alphabet.length - 1));
    }
  });

  it('the chi-square check would catch a modulo-biased source', () => {
    // What `byte % 31` without rejection gives: the first 8 symbols come up 9/256, the rest 8/256.
    const n = 100_000;
    const c = new Map<string, number>();
    for (let b = 0, i = 0; i < n; i++, b = (b + 1) % 256) {
      const ch = LETTERS_AND_DIGITS[b % 31]!;
      c.set(ch, (c.get(ch) ?? 0) + 1);
    }
    expect(chiSquare(c, LETTERS_AND_DIGITS, n)).toBeGreaterThan(chiSquareCritical(30));
  });
});

describe('assertCapacity', () => {
  const parsed = parsePattern('####'); // 4096 codes; 5% is 204

  it('allows up to 5% of the space, counting what the book already holds', () => {
    expect(MAX_SPACE_SHARE).toBe(0.05);
    expect(() => assertCapacity(parsed, 204, 0)).not.toThrow();
    expect(() => assertCapacity(parsed, 100, 104)).not.toThrow();
    expect(() => assertCapacity(parsed, 1, 0)).not.toThrow();
  });

  it('refuses above 5% with a message that gives the space size and the limit', () => {
    expect(() => assertCapacity(parsed, 205, 0)).toThrow(PatternError);
    expect(() => assertCapacity(parsed, 100, 105)).toThrow(PatternError);
    expect(() => assertCapacity(parsed, 1, 204)).toThrow(PatternError);
    let message = '';
    try {
      assertCapacity(parsePattern('AB-##'), 100, 0);
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/\b64\b/); // the space
    expect(message).toMatch(/\b3\b/); // the limit: floor(64 × 5%)
    expect(message).toMatch(/5%/);
  });

  it('a space too small for even one code refuses everything', () => {
    const tiny = parsePattern('AB#'); // 8 codes, 5% rounds down to 0
    expect(() => assertCapacity(tiny, 1, 0)).toThrow(PatternError);
  });
});

describe('RandomPicker', () => {
  it('only ever returns members of the alphabet, including over buffer refills', () => {
    const picker = new RandomPicker();
    for (const alphabet of ['AB', DIGITS, LETTERS, LETTERS_AND_DIGITS, 'XYZ']) {
      const seen = new Set<string>();
      for (let i = 0; i < 5000; i++) seen.add(picker.pick(alphabet));
      expect([...seen].sort().join('')).toBe([...alphabet].sort().join(''));
    }
  });
});
