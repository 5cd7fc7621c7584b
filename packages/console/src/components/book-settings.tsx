import type { ComponentChildren } from 'preact';
import type { BookWithStats } from '../api/types.ts';
import { Time } from './time.tsx';

/** Everything the book was created with, and what its edits changed. */
export function BookSettings({ book }: { book: BookWithStats }) {
  const discount = book.discount
    ? book.discount.type === 'percentage'
      ? `${book.discount.value}% off`
      : `${book.discount.value}${book.discount.currency ? ` ${book.discount.currency}` : ''} off`
    : undefined;
  return (
    <section aria-labelledby="settings-heading">
      <h2 id="settings-heading">Settings</h2>
      <dl class="settings">
        <Setting term="Discount">{discount}</Setting>
        <Setting term="Valid from">{book.validFrom ? <Time iso={book.validFrom} /> : 'from creation'}</Setting>
        <Setting term="Valid until">{book.validUntil ? <Time iso={book.validUntil} /> : 'no end'}</Setting>
        <Setting term="Codes per user">{book.maxCodesPerUser ?? 'no limit'}</Setting>
        <Setting term="Redemptions per user">{book.maxRedemptionsPerUser}</Setting>
        <Setting term="Lock time">{`${book.lockTtlSeconds} s`}</Setting>
        <Setting term="Code pattern">{book.codePattern ? <code>{book.codePattern}</code> : undefined}</Setting>
        <Setting term="Check character">{book.checkChar ? 'yes' : 'no'}</Setting>
        <Setting term="Low stock alert at">{book.lowStockThreshold}</Setting>
        <Setting term="Shards">{book.shards}</Setting>
        <Setting term="Created">
          <Time iso={book.createdAt} />
        </Setting>
        <Setting term="Updated">
          <Time iso={book.updatedAt} />
        </Setting>
        <Setting term="Version">{book.version ?? 'not edited'}</Setting>
        <Setting term="Book id">
          <code>{book.id}</code>
        </Setting>
      </dl>
    </section>
  );
}

function Setting({ term, children }: { term: string; children: ComponentChildren }) {
  return (
    <div>
      <dt>{term}</dt>
      <dd>{children ?? <span class="muted">—</span>}</dd>
    </div>
  );
}
