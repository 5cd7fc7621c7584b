import { useState } from 'preact/hooks';
import { unwrap } from '@coupons/client';
import { useApi } from '../api/client.ts';
import type { Book, CreateBook } from '../api/types.ts';
import { useAction } from '../lib/use-action.ts';
import { DialogActions } from './dialog.tsx';
import { ErrorMessage } from './error-message.tsx';

const int = (v: FormDataEntryValue | null) => (typeof v === 'string' && v.trim() !== '' ? Number(v) : undefined);
const text = (v: FormDataEntryValue | null) => (typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined);
/** `datetime-local` has no zone; the form says UTC, as every time in the console is. */
const utcDate = (v: FormDataEntryValue | null) => (typeof v === 'string' && v !== '' ? new Date(`${v}Z`).toISOString() : undefined);

/** The fields of POST /coupons a person sets when creating a book; the API validates and explains. */
export function readBookForm(form: HTMLFormElement): CreateBook {
  const f = new FormData(form);
  const discountType = text(f.get('discountType'));
  const body: CreateBook = {
    name: String(f.get('name') ?? ''),
    description: text(f.get('description')),
    codePattern: text(f.get('codePattern')),
    maxCodesPerUser: int(f.get('maxCodesPerUser')),
    maxRedemptionsPerUser: int(f.get('maxRedemptionsPerUser')),
    validFrom: utcDate(f.get('validFrom')),
    validUntil: utcDate(f.get('validUntil')),
    lowStockThreshold: int(f.get('lowStockThreshold')),
    expectedClaimsPerSecond: int(f.get('expectedClaimsPerSecond')),
    discount:
      discountType === 'percentage' || discountType === 'fixed'
        ? { type: discountType, value: Number(f.get('discountValue') ?? 0), currency: text(f.get('currency')) }
        : undefined,
  };
  return Object.fromEntries(Object.entries(body).filter(([, v]) => v !== undefined)) as CreateBook;
}

export function CreateBookForm({ onCreated, onCancel }: { onCreated: (book: Book) => void; onCancel: () => void }) {
  const client = useApi();
  const { busy, error, run } = useAction();
  const [discountType, setDiscountType] = useState('');

  function submit(e: Event) {
    e.preventDefault();
    const book = readBookForm(e.currentTarget as HTMLFormElement);
    void run(async () => onCreated(await unwrap(client.coupons.$post({ json: book }))));
  }

  return (
    <form onSubmit={submit}>
      {error ? <ErrorMessage error={error} prefix="The book was not created." /> : null}
      <label>
        Name
        {/* biome-ignore lint/a11y/noAutofocus: the form opens in a dialog, and a dialog focuses its first field */}
        <input name="name" required maxLength={200} autoFocus />
      </label>
      <label>
        Description
        <textarea name="description" rows={2} maxLength={2000} />
      </label>
      <div class="grid">
        <label>
          Code pattern
          <input name="codePattern" placeholder="BF-****-****" aria-describedby="pattern-help" />
          <small id="pattern-help"># a digit, ? a letter, * either</small>
        </label>
        <label>
          Low stock alert at
          <input name="lowStockThreshold" type="number" min={0} inputMode="numeric" />
        </label>
      </div>
      <div class="grid">
        <label>
          Codes per user
          <input name="maxCodesPerUser" type="number" min={1} inputMode="numeric" placeholder="no limit" />
        </label>
        <label>
          Redemptions per user
          <input name="maxRedemptionsPerUser" type="number" min={1} inputMode="numeric" placeholder="1" />
        </label>
        <label>
          Claims per second at peak
          <input name="expectedClaimsPerSecond" type="number" min={1} inputMode="numeric" placeholder="sizes the shards" />
        </label>
      </div>
      <div class="grid">
        <label>
          Valid from (UTC)
          <input name="validFrom" type="datetime-local" />
        </label>
        <label>
          Valid until (UTC)
          <input name="validUntil" type="datetime-local" />
        </label>
      </div>
      <fieldset class="grid">
        <label>
          Discount
          <select name="discountType" value={discountType} onChange={(e) => setDiscountType(e.currentTarget.value)}>
            <option value="">None</option>
            <option value="percentage">Percentage</option>
            <option value="fixed">Fixed amount</option>
          </select>
        </label>
        {discountType ? (
          <label>
            {discountType === 'percentage' ? 'Percent off' : 'Amount off'}
            <input name="discountValue" type="number" min={0} step="any" required />
          </label>
        ) : null}
        {discountType === 'fixed' ? (
          <label>
            Currency
            <input name="currency" maxLength={3} placeholder="EUR" />
          </label>
        ) : null}
      </fieldset>
      <DialogActions label="Create book" busy={busy} onCancel={onCancel} />
    </form>
  );
}
