/** Codes are 3 to 64 characters of A-Z 0-9 - _, stored upper-case. */
export const CODE_PATTERN = /^[A-Z0-9_-]{3,64}$/;

export const normalizeCode = (raw: string): string => raw.trim().toUpperCase();

export type CodeCheck = { ok: true; code: string } | { ok: false; reason: string };

export function checkCode(raw: unknown): CodeCheck {
  if (typeof raw !== 'string') return { ok: false, reason: 'not a string' };
  // Upper-casing can turn non-ASCII into ASCII ('ſ' → 'S'); refuse it before, so a code is what was typed.
  if (/[^\x20-\x7e]/.test(raw.trim())) return { ok: false, reason: 'only A-Z, 0-9, - and _ are allowed' };
  const code = normalizeCode(raw);
  if (code.length < 3) return { ok: false, reason: 'shorter than 3 characters' };
  if (code.length > 64) return { ok: false, reason: 'longer than 64 characters' };
  if (!CODE_PATTERN.test(code)) return { ok: false, reason: 'only A-Z, 0-9, - and _ are allowed' };
  return { ok: true, code };
}
