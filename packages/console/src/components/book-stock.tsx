import type { BookWithStats } from '../api/types.ts';
import { count, utc } from '../lib/format.ts';

/** The book's live stats, as plain numbers, with when they were read. */
export function BookStock({ book, readAt }: { book: BookWithStats; readAt: Date | undefined }) {
  const { stats } = book;
  return (
    <section aria-labelledby="stock-heading">
      <h2 id="stock-heading">Stock</h2>
      <table class="stock" aria-labelledby="stock-heading" aria-describedby="stock-read-at">
        <thead>
          <tr>
            <th scope="col">Codes</th>
            <th scope="col">Available</th>
            <th scope="col">Assigned</th>
            <th scope="col">Redeemed</th>
          </tr>
        </thead>
        <tbody>
          <tr>
            <td>{count(stats.codes)}</td>
            <td>{count(stats.available)}</td>
            <td>{count(stats.assigned)}</td>
            <td>{count(stats.redeemed)}</td>
          </tr>
        </tbody>
      </table>
      <p id="stock-read-at" class="muted small">
        Read at {readAt ? utc(readAt.toISOString()) : '—'}; refreshes every few seconds.
      </p>
    </section>
  );
}
