/** `2026-12-04 14:36:13 UTC`: every time in the console is UTC, as the API and the activity buckets are. */
export function utc(iso: string | null | undefined): string {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return `${d.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

/** Counts are plain digits (no separators, no "1.2k"): what a person and a test read is the number itself. */
export const count = (n: number | undefined | null): string => (typeof n === 'number' ? String(n) : '—');
