/** A book's or a code's status, in words (colour only repeats what the word says). */
export function StatusBadge({ status }: { status: string }) {
  return <span class={`badge badge-${status}`}>{status}</span>;
}
