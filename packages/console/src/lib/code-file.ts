import { detectFormat, fieldOf } from '../../../../scripts/lib/code-format.ts';

/** The API's limit for one upload request. */
export const UPLOAD_CHUNK = 5000;

export interface ParsedFile {
  codes: string[];
  blank: number;
  header: boolean;
}

/**
 * The codes in a file's text, in the formats the CLI reads (scripts/lib/code-format.ts): one per
 * line, or CSV/TSV with a `code` column or the code first; blank lines skipped. Whether each is a
 * valid code is the API's to say.
 */
export function parseCodeFile(text: string): ParsedFile {
  const lines = text.replace(/^\uFEFF/, '').split('\n');
  const format = detectFormat(lines[0] ?? '');
  const codes: string[] = [];
  let blank = 0;
  lines.forEach((raw, i) => {
    if (i === 0 && format.header) return;
    const code = fieldOf(raw.endsWith('\r') ? raw.slice(0, -1) : raw, format);
    if (code === '') blank++;
    else codes.push(code);
  });
  // A file ending in a newline has no line after it.
  if (lines.length > 1 && lines[lines.length - 1] === '') blank--;
  return { codes, blank, header: format.header };
}

/** Requests of at most `size` codes each, in file order. */
export function chunks<T>(items: T[], size = UPLOAD_CHUNK): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
