import type { Book } from '../api/types.ts';

export interface Change {
  field: string;
  label: string;
  before: string;
  after: string;
}

/** The editable fields of a book, as a person names them. */
const FIELDS: [keyof Book, string][] = [
  ['name', 'Name'],
  ['description', 'Description'],
  ['status', 'Status'],
  ['validFrom', 'Valid from'],
  ['validUntil', 'Valid until'],
  ['lowStockThreshold', 'Low stock alert at'],
];

const shown = (v: unknown) => (v === undefined || v === null || v === '' ? '(none)' : String(v));

/** What another edit changed between the copy a person acted on and the book as it is now. */
export function changesBetween(before: Book, after: Book): Change[] {
  return FIELDS.filter(([f]) => shown(before[f]) !== shown(after[f])).map(([field, label]) => ({
    field,
    label,
    before: shown(before[field]),
    after: shown(after[field]),
  }));
}
