import { describe, expect, it } from 'vitest';
import { chunks, parseCodeFile, UPLOAD_CHUNK } from './code-file.ts';

// A file an operator picks, read as the CLI reads one (scripts/lib/code-format.ts).

describe('parseCodeFile', () => {
  it('one code per line: blank lines skipped, CRLF and a BOM fine, a final newline is not a blank line', () => {
    expect(parseCodeFile('\uFEFFAAA-1\r\n\r\nBBB-2\r\n  CCC-3  \n')).toEqual({ codes: ['AAA-1', 'BBB-2', 'CCC-3'], blank: 1, header: false });
  });

  it('a CSV with a code column anywhere, quoted fields included, header skipped', () => {
    const csv = 'note,Code\n"a, b",X-1\n"say ""hi""",X-2\n';
    expect(parseCodeFile(csv)).toEqual({ codes: ['X-1', 'X-2'], blank: 0, header: true });
  });

  it('without a header, the first column; semicolons and tabs too', () => {
    expect(parseCodeFile('A-1;first\nA-2;second').codes).toEqual(['A-1', 'A-2']);
    expect(parseCodeFile('coupon\tnote\nT-1\tx').codes).toEqual(['T-1']);
  });

  it('keeps what the API must judge (invalid, duplicate) for the API to report', () => {
    expect(parseCodeFile('ok-1\nno!\nok-1').codes).toEqual(['ok-1', 'no!', 'ok-1']);
  });
});

describe('chunks', () => {
  it('requests of at most 5,000 codes, in file order', () => {
    const codes = Array.from({ length: 12_001 }, (_, i) => `C-${i}`);
    const parts = chunks(codes);
    expect(UPLOAD_CHUNK).toBe(5000);
    expect(parts.map((p) => p.length)).toEqual([5000, 5000, 2001]);
    expect(parts.flat()).toEqual(codes);
    expect(chunks([])).toEqual([]);
  });
});
