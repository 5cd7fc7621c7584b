import { useState } from 'preact/hooks';

/** Cursor paging: the API gives the next page's cursor; going back replays the ones seen. */
export function usePages() {
  const [cursors, setCursors] = useState<(string | undefined)[]>([undefined]);
  return {
    cursor: cursors[cursors.length - 1],
    number: cursors.length,
    next: (cursor: string) => setCursors((c) => [...c, cursor]),
    previous: () => setCursors((c) => (c.length > 1 ? c.slice(0, -1) : c)),
    reset: () => setCursors([undefined]),
  };
}

export type Pages = ReturnType<typeof usePages>;

export function Pager({ pages, nextCursor, label }: { pages: Pages; nextCursor: string | null | undefined; label: string }) {
  if (pages.number === 1 && !nextCursor) return null;
  return (
    <nav aria-label={label} class="pager">
      <button type="button" class="secondary outline" disabled={pages.number === 1} onClick={pages.previous}>
        Previous page
      </button>
      <span>Page {pages.number}</span>
      <button type="button" class="secondary outline" disabled={!nextCursor} onClick={() => nextCursor && pages.next(nextCursor)}>
        Next page
      </button>
    </nav>
  );
}
