import { useState } from 'preact/hooks';
import { CouponApiError, unwrap } from '@coupons/client';
import { useApi } from '../api/client.ts';
import type { BookWithStats } from '../api/types.ts';
import type { BookCopy } from '../pages/book.tsx';
import { changesBetween, type Change } from '../lib/book-changes.ts';
import { ErrorMessage } from './error-message.tsx';

/**
 * Pause or resume the book, as an optimistic edit: the PATCH carries the ETag of the copy on the
 * screen (If-Match). If someone changed the book since, the API refuses with 412 and changes
 * nothing; the console then reads the book again and says what changed, so the person decides
 * again on what is true now.
 */
export function PauseButton({ copy, onCurrent }: { copy: BookCopy; onCurrent: (copy: BookCopy) => void }) {
  const client = useApi();
  const [busy, setBusy] = useState(false);
  const [conflict, setConflict] = useState<{ changes: Change[]; from?: number; to?: number }>();
  const [error, setError] = useState<unknown>();
  const { book, etag } = copy;
  const next = book.status === 'paused' ? 'active' : 'paused';

  async function toggle() {
    setBusy(true);
    setError(undefined);
    setConflict(undefined);
    try {
      const res = await client.coupons[':bookId'].$patch({
        param: { bookId: book.id },
        header: etag ? { 'if-match': etag } : {},
        json: { status: next },
      });
      const updated = await unwrap(res);
      onCurrent({ book: { ...updated, stats: book.stats } as BookWithStats, etag: res.headers.get('etag') });
    } catch (e) {
      if (e instanceof CouponApiError && e.status === 412) {
        const res = await client.coupons[':bookId'].$get({ param: { bookId: book.id } });
        const current = await unwrap(res).catch((again: unknown) => {
          setError(again);
          return undefined;
        });
        if (current) {
          setConflict({ changes: changesBetween(book, current), from: book.version, to: current.version });
          onCurrent({ book: current, etag: res.headers.get('etag') });
        }
      } else setError(e);
    } finally {
      setBusy(false);
    }
  }

  return (
    <div class="pause">
      <button type="button" class={next === 'paused' ? 'secondary' : ''} aria-busy={busy} disabled={busy} onClick={() => void toggle()}>
        {next === 'paused' ? 'Pause' : 'Resume'}
      </button>
      {conflict ? (
        <div role="alert" class="notice warning">
          <p>
            <strong>Nothing was changed:</strong> the book was edited since this page read it
            {conflict.from !== conflict.to ? ` (version ${conflict.from ?? 0} → ${conflict.to ?? 0})` : ''}. It now shows the current book;
            decide again.
          </p>
          {conflict.changes.length ? (
            <ul aria-label="What changed">
              {conflict.changes.map((c) => (
                <li key={c.field}>
                  {c.label}: <del>{c.before}</del> → <ins>{c.after}</ins>
                </li>
              ))}
            </ul>
          ) : null}
        </div>
      ) : null}
      {error ? <ErrorMessage error={error} prefix={`The book was not ${next === 'paused' ? 'paused' : 'resumed'}.`} /> : null}
    </div>
  );
}
