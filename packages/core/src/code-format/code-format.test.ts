import { describe, expect, it } from 'vitest';
import { checkCode, CODE_PATTERN, normalizeCode } from './code-format.ts';

// Pure: no database. What a code is, and how input becomes one.

describe('CODE_PATTERN', () => {
  it('is 3 to 64 characters of A-Z, 0-9, - and _', () => {
    for (const ok of ['ABC', 'A-1', 'A_B', '---', '___', '000', 'SUMMER-7K2M-QX9P', 'Z'.repeat(64)]) expect(ok).toMatch(CODE_PATTERN);
    for (const bad of ['', 'AB', 'abc', 'A B', 'A.B', 'A/B', 'A#B', 'ÄBC', 'Z'.repeat(65), 'ABC\n']) expect(bad).not.toMatch(CODE_PATTERN);
  });
});

describe('normalizeCode', () => {
  it('trims and upper-cases', () => {
    expect(normalizeCode('  summer-7k2m  ')).toBe('SUMMER-7K2M');
    expect(normalizeCode('\tabc_def\r\n')).toBe('ABC_DEF');
    expect(normalizeCode('ABC')).toBe('ABC');
  });
});

describe('checkCode', () => {
  it('accepts valid codes, stored trimmed and upper-cased', () => {
    expect(checkCode('ABC')).toEqual({ ok: true, code: 'ABC' });
    expect(checkCode('  bf-0001 ')).toEqual({ ok: true, code: 'BF-0001' });
    expect(checkCode('x_y-z')).toEqual({ ok: true, code: 'X_Y-Z' });
    expect(checkCode('a'.repeat(64))).toEqual({ ok: true, code: 'A'.repeat(64) });
    // Length counts after trimming.
    expect(checkCode(`  ${'A'.repeat(64)}  `)).toEqual({ ok: true, code: 'A'.repeat(64) });
    expect(checkCode(' ab ')).toEqual({ ok: false, reason: expect.stringMatching(/3/) });
  });

  it('refuses codes shorter than 3 characters', () => {
    for (const raw of ['', ' ', 'A', 'AB', '  AB  ']) {
      const r = checkCode(raw);
      expect(r.ok, JSON.stringify(raw)).toBe(false);
      if (!r.ok) expect(r.reason).toMatch(/shorter than 3/);
    }
  });

  it('refuses codes longer than 64 characters', () => {
    const r = checkCode('A'.repeat(65));
    expect(r).toEqual({ ok: false, reason: expect.stringMatching(/longer than 64/) });
  });

  it('refuses characters outside A-Z, 0-9, - and _', () => {
    for (const raw of ['AB C', 'ABC!', 'A.BC', 'ÄBCD', 'ABC#1', 'A\tBC', 'AB/C', 'ABC😀', 'AB+C']) {
      const r = checkCode(raw);
      expect(r.ok, JSON.stringify(raw)).toBe(false);
      if (!r.ok) expect(r.reason).toMatch(/A-Z/);
    }
  });

  it('refuses what is not a string', () => {
    for (const raw of [null, undefined, 123, {}, ['ABC'], true]) {
      expect(checkCode(raw)).toEqual({ ok: false, reason: 'not a string' });
    }
  });

  it('whatever it accepts matches CODE_PATTERN', () => {
    const samples = ['abc', ' Mixed-Case_1 ', 'Z'.repeat(64), '---', '0_0'];
    for (const raw of samples) {
      const r = checkCode(raw);
      expect(r.ok).toBe(true);
      if (r.ok) {
        expect(r.code).toMatch(CODE_PATTERN);
        expect(checkCode(r.code)).toEqual(r); // idempotent
      }
    }
  });
  it('refuses non-ASCII that upper-casing would turn into ASCII', () => {
    expect(checkCode('ſale').ok).toBe(false);
    expect(checkCode('straße').ok).toBe(false);
  });
});
