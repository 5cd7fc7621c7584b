/**
 * The formats a file of codes may have, shared by the CLI (code-file.ts, streaming from disk) and
 * the console (packages/console, a file the operator picks in the browser): no Node import here.
 *
 * Accepted: one code per line (text), or CSV/TSV/semicolon-separated with the
 * code in a column named `code` (any case; `codes`, `coupon`, `coupon_code`
 * too) or, without such a header, in the first column. Blank lines are
 * skipped; CRLF and a UTF-8 BOM are fine.
 */
export interface FileFormat {
  delimiter: ',' | ';' | '\t' | null;
  /** Column of the code (0 without a header). */
  column: number;
  /** The first line is a header (skipped). */
  header: boolean;
}

const HEADER_NAMES = new Set(['code', 'codes', 'coupon', 'coupon_code', 'couponcode', 'coupon code']);

/** Splits one CSV line on `delimiter`, honouring double quotes ("a,b" and "" for a quote). */
export function splitFields(line: string, delimiter: string): string[] {
  const fields: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"' && field.trim() === '') {
      quoted = true;
      field = '';
    } else if (ch === delimiter) {
      fields.push(field);
      field = '';
    } else field += ch;
  }
  fields.push(field);
  return fields;
}

export function detectFormat(firstLine: string): FileFormat {
  const line = firstLine.replace(/^\uFEFF/, '').replace(/\r$/, '');
  const delimiter = ([',', ';', '\t'] as const).find((d) => line.includes(d)) ?? null;
  const fields = delimiter ? splitFields(line, delimiter) : [line];
  const column = fields.findIndex((f) => HEADER_NAMES.has(f.trim().toLowerCase()));
  return column >= 0 ? { delimiter, column, header: true } : { delimiter, column: 0, header: false };
}

export function fieldOf(line: string, format: FileFormat): string {
  if (!format.delimiter) return line.trim();
  return (splitFields(line, format.delimiter)[format.column] ?? '').trim();
}
