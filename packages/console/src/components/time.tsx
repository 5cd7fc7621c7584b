import { utc } from '../lib/format.ts';

export function Time({ iso }: { iso: string | null | undefined }) {
  if (!iso) return <span class="muted">—</span>;
  return <time dateTime={iso}>{utc(iso)}</time>;
}
