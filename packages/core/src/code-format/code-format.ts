/** Codes are 3 to 64 characters of A-Z 0-9 - _, stored upper-case. */
export const CODE_PATTERN = /^[A-Z0-9_-]{3,64}$/;

const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

/** Only ASCII whitespace is trimmed: Unicode trimming would accept a code wrapped in characters no one typed. */
const trimAscii = (raw: string) => raw.replace(/^[\t\n\r ]+|[\t\n\r ]+$/g, '');

/**
 * Trimmed and upper-cased, for a string already known to be ASCII: upper-casing
 * turns some non-ASCII into ASCII ('ſ' → 'S', 'ı' → 'I'), so `checkCode` (or
 * `isAsciiText`) comes first on every path a code enters by.
 */
export const normalizeCode = (raw: string): string => trimAscii(raw).toUpperCase();

/** True when case folding cannot change what the string means: printable ASCII only (after ASCII trimming). */
export const isAsciiText = (raw: string): boolean => PRINTABLE_ASCII.test(trimAscii(raw));

export type CodeCheck = { ok: true; code: string } | { ok: false; reason: string };

export const CODE_RULE = 'only A-Z, 0-9, - and _ are allowed';

/** The one check every route applies to a code it is given (path, upload, CLI). */
export function checkCode(raw: unknown): CodeCheck {
  if (typeof raw !== 'string') return { ok: false, reason: 'not a string' };
  if (!isAsciiText(raw)) return { ok: false, reason: CODE_RULE };
  const code = normalizeCode(raw);
  if (code.length < 3) return { ok: false, reason: 'shorter than 3 characters' };
  if (code.length > 64) return { ok: false, reason: 'longer than 64 characters' };
  if (!CODE_PATTERN.test(code)) return { ok: false, reason: CODE_RULE };
  return { ok: true, code };
}
