import { useState } from 'preact/hooks';
import { Link, useLocation } from 'wouter-preact';
import { unwrap } from '@coupons/client';
import { useApi } from '../api/client.ts';
import type { BookPage } from '../api/types.ts';
import { DataTable } from '../components/data-table.tsx';
import { Dialog } from '../components/dialog.tsx';
import { CreateBookForm } from '../components/book-form.tsx';
import { ErrorMessage } from '../components/error-message.tsx';
import { Pager, usePages } from '../components/pager.tsx';
import { ResourceStatus } from '../components/resource-status.tsx';
import { StatusBadge } from '../components/status-badge.tsx';
import { count } from '../lib/format.ts';
import { useResource } from '../lib/use-resource.ts';
import { useTitle } from '../lib/use-title.ts';

const PAGE_SIZE = 25;
/** The list has no stats; each row reads its book's, and keeps them fresh. */
const ROW_REFRESH_MS = 10_000;

export function BooksPage() {
  useTitle('Books');
  const client = useApi();
  const [, navigate] = useLocation();
  const pages = usePages();
  const [creating, setCreating] = useState(false);
  const books = useResource(
    () => unwrap(client.coupons.$get({ query: { limit: String(PAGE_SIZE), ...(pages.cursor ? { cursor: pages.cursor } : {}) } })),
    [pages.cursor],
  );

  return (
    <>
      <div class="page-head">
        <h1>Books</h1>
        <button type="button" onClick={() => setCreating(true)}>
          Create book
        </button>
      </div>
      {creating ? (
        <Dialog title="Create a book" onClose={() => setCreating(false)}>
          <CreateBookForm onCancel={() => setCreating(false)} onCreated={(book) => navigate(`/books/${encodeURIComponent(book.id)}`)} />
        </Dialog>
      ) : null}
      <ResourceStatus resource={books} failed="The books could not be read." reading="Reading the books…" />
      {books.data ? <BooksTable page={books.data} /> : null}
      {books.data ? <Pager pages={pages} nextCursor={books.data.nextCursor} label="Books pages" /> : null}
    </>
  );
}

function BooksTable({ page }: { page: BookPage }) {
  if (page.items.length === 0) return <p>No books yet. Create one to start.</p>;
  return (
    <DataTable
      label="Books"
      columns={['Name', { label: 'Available', numeric: true }, { label: 'Assigned', numeric: true }, { label: 'Redeemed', numeric: true }, 'Status']}
    >
      {page.items.map((book) => (
        <BookRow key={book.id} book={book} />
      ))}
    </DataTable>
  );
}

function BookRow({ book }: { book: BookPage['items'][number] }) {
  const client = useApi();
  const live = useResource(() => unwrap(client.coupons[':bookId'].$get({ param: { bookId: book.id } })), [book.id], { refreshMs: ROW_REFRESH_MS });
  const current = live.data ?? book;
  const stats = live.data?.stats;
  return (
    <tr>
      <th scope="row">
        <Link href={`/books/${encodeURIComponent(book.id)}`}>{current.name}</Link>
        {live.error ? <ErrorMessage error={live.error} prefix="Stock not read:" /> : null}
      </th>
      <td class="num" aria-busy={!stats && live.loading ? 'true' : undefined}>
        {count(stats?.available)}
      </td>
      <td class="num">{count(stats?.assigned)}</td>
      <td class="num">{count(stats?.redeemed)}</td>
      <td>
        <StatusBadge status={current.status} />
      </td>
    </tr>
  );
}
