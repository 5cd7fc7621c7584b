import { useState } from 'preact/hooks';
import { Link } from 'wouter-preact';
import { unwrap } from '@coupons/client';
import { useApi } from '../api/client.ts';
import type { BookWithStats } from '../api/types.ts';
import { ActivityChart } from '../components/activity-chart.tsx';
import { BookCodesSection } from '../components/book-codes.tsx';
import { BookSettings } from '../components/book-settings.tsx';
import { BookStock } from '../components/book-stock.tsx';
import { ErrorMessage } from '../components/error-message.tsx';
import { GenerateCodes } from '../components/generate-codes.tsx';
import { PauseButton } from '../components/pause-button.tsx';
import { StatusBadge } from '../components/status-badge.tsx';
import { UploadCodes } from '../components/upload-codes.tsx';
import { useResource } from '../lib/use-resource.ts';
import { useTitle } from '../lib/use-title.ts';

/** Stock "updates by itself": the book (and its ETag) is read again this often while the tab is visible. */
export const STOCK_REFRESH_MS = 3000;

export interface BookCopy {
  book: BookWithStats;
  /** The ETag of this copy: an edit sends it as If-Match, so it is refused if the book changed since. */
  etag: string | null;
}

export function BookPage({ bookId }: { bookId: string }) {
  const client = useApi();
  const copy = useResource<BookCopy>(
    async () => {
      const res = await client.coupons[':bookId'].$get({ param: { bookId } });
      return { etag: res.headers.get('etag'), book: await unwrap(res) };
    },
    [bookId],
    { refreshMs: STOCK_REFRESH_MS },
  );
  // Bumped when codes were added, so the codes list reads again.
  const [codesVersion, setCodesVersion] = useState(0);
  const book = copy.data?.book;
  useTitle(book?.name ?? 'Book');
  const codesChanged = () => {
    setCodesVersion((v) => v + 1);
    void copy.reload();
  };

  if (!book) {
    return (
      <>
        <p class="crumbs">
          <Link href="/">Books</Link>
        </p>
        <h1>Book</h1>
        {copy.loading ? <p aria-busy="true">Reading the book…</p> : null}
        {copy.error ? <ErrorMessage error={copy.error} prefix="The book could not be read." /> : null}
      </>
    );
  }

  return (
    <>
      <p class="crumbs">
        <Link href="/">Books</Link> /
      </p>
      <div class="page-head">
        <div>
          <h1>{book.name}</h1>
          <p class="muted">
            <StatusBadge status={book.status} /> {book.description}
          </p>
        </div>
        <PauseButton copy={copy.data!} onCurrent={copy.replace} />
      </div>
      {copy.error ? <ErrorMessage error={copy.error} prefix="The book could not be read again, so the numbers below may be out of date." /> : null}

      <BookStock book={book} readAt={copy.readAt} />
      <ActivityChart bookId={book.id} />

      <BookSettings book={book} />
      <section aria-labelledby="add-heading">
        <h2 id="add-heading">Add codes</h2>
        <div class="grid add-codes">
          <UploadCodes bookId={book.id} onProgress={codesChanged} />
          <GenerateCodes book={book} onProgress={codesChanged} />
        </div>
      </section>

      <section aria-labelledby="codes-heading">
        <h2 id="codes-heading">Codes</h2>
        <BookCodesSection bookId={book.id} version={codesVersion} />
      </section>

    </>
  );
}
