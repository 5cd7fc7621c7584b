import { useState } from 'preact/hooks';
import { Link, useLocation } from 'wouter-preact';
import { unwrap } from '@coupons/client';
import { useApi } from '../api/client.ts';
import type { BookCodeStatus, BookCodes } from '../api/types.ts';
import { count } from '../lib/format.ts';
import { readFilteredPage } from '../lib/read-filtered-page.ts';
import { useAction } from '../lib/use-action.ts';
import { useResource } from '../lib/use-resource.ts';
import { DataTable } from './data-table.tsx';
import { ErrorMessage } from './error-message.tsx';
import { Pager, usePages } from './pager.tsx';
import { StatusBadge } from './status-badge.tsx';
import { StatusFilter, type StatusOption } from './status-filter.tsx';
import { Time } from './time.tsx';

const PAGE_SIZE = 25;
/**
 * `assigned` and `redeemed` are filters over every code read (docs/book-codes.md): a page of the
 * API may hold few matches, or none, and still have a cursor. A page here follows it, reading
 * 1,000 codes a request (a filtered read costs the same per code whatever the page size), until
 * it has a page's worth or has read this many requests.
 */
const FILTERED_READ_LIMIT = 1000;
const FILTERED_MAX_REQUESTS = 10;
const STATUSES: StatusOption<BookCodeStatus>[] = [
  { value: '', label: 'All' },
  { value: 'available', label: 'Available' },
  { value: 'assigned', label: 'Assigned' },
  { value: 'redeemed', label: 'Redeemed' },
];

/** A book's codes: find one by its code, or page through them filtered by status. */
export function BookCodesSection({ bookId, version }: { bookId: string; version: number }) {
  const client = useApi();
  const [status, setStatus] = useState<BookCodeStatus | ''>('');
  const pages = usePages();
  const codes = useResource(async (): Promise<BookCodes> => {
    const read = (limit: number, cursor: string | undefined) =>
      unwrap(client.coupons[':bookId'].codes.$get({ param: { bookId }, query: { limit: String(limit), ...(status ? { status } : {}), ...(cursor ? { cursor } : {}) } }));
    if (status === '' || status === 'available') return read(PAGE_SIZE, pages.cursor);
    return readFilteredPage((cursor) => read(FILTERED_READ_LIMIT, cursor), { cursor: pages.cursor, pageSize: PAGE_SIZE, maxRequests: FILTERED_MAX_REQUESTS });
  }, [bookId, status, pages.cursor, version]);

  return (
    <>
      <div class="toolbar">
        <CodeSearch />
        <StatusFilter value={status} options={STATUSES} onChange={setStatus} pages={pages} />
        <button type="button" class="secondary outline" onClick={() => void codes.reload()} aria-busy={codes.loading}>
          Refresh
        </button>
      </div>
      {codes.error ? <ErrorMessage error={codes.error} prefix="The codes could not be read." /> : null}
      {codes.data ? <CodesTable page={codes.data} filtered={status !== ''} /> : codes.loading ? <p aria-busy="true">Reading the codes…</p> : null}
      {codes.data ? <Pager pages={pages} nextCursor={codes.data.nextCursor} label="Codes pages" /> : null}
    </>
  );
}

/** Enter on a code opens its page; a code that is not there says so, in the API's words. */
function CodeSearch() {
  const client = useApi();
  const [, navigate] = useLocation();
  const { busy, error, run } = useAction();
  function search(e: Event) {
    e.preventDefault();
    const code = String(new FormData(e.currentTarget as HTMLFormElement).get('code') ?? '').trim().toUpperCase();
    if (!code) return;
    void run(async () => {
      const found = await unwrap(client.coupons.codes[':code'].$get({ param: { code }, query: { limit: '1' } }));
      navigate(`/codes/${encodeURIComponent(found.code)}`);
    });
  }
  return (
    <form role="search" aria-label="Codes" onSubmit={search} class="search">
      <input type="search" name="code" aria-label="Search codes" placeholder="Search codes" autoComplete="off" spellcheck={false} aria-busy={busy} />
      {error ? <ErrorMessage error={error} /> : null}
    </form>
  );
}

function CodesTable({ page, filtered }: { page: BookCodes; filtered: boolean }) {
  if (page.items.length === 0) {
    return (
      <p>
        {filtered && page.nextCursor
          ? `None with this status among the next ${FILTERED_READ_LIMIT * FILTERED_MAX_REQUESTS} codes; Next page reads on.`
          : filtered
            ? 'No codes with this status.'
            : 'No codes yet: upload or generate some.'}
      </p>
    );
  }
  return (
    <DataTable label="Codes" compact columns={['Code', 'Status', 'Holder', 'Assigned', { label: 'Redemptions', numeric: true }, 'Lock expires']}>
      {page.items.map((c) => (
        <tr key={c.code}>
          <th scope="row">
            <Link href={`/codes/${encodeURIComponent(c.code)}`}>{c.code}</Link>
          </th>
          <td>
            <StatusBadge status={c.status} />
          </td>
          <td>{c.userId ?? <span class="muted">—</span>}</td>
          <td>
            <Time iso={c.assignedAt} />
          </td>
          <td class="num">
            {count(c.redemptionCount)} of {count(c.maxRedemptions)}
          </td>
          <td>
            <Time iso={c.lockExpiresAt} />
          </td>
        </tr>
      ))}
    </DataTable>
  );
}
