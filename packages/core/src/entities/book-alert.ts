import { Entity } from 'electrodb';
import { SERVICE, type EntityConfig } from './entity-config.ts';

export const BOOK_ALERT_KINDS = ['low_stock', 'exhausted'] as const;
export type BookAlertKind = (typeof BOOK_ALERT_KINDS)[number];

/**
 * Whether a book's stock alert has fired. Firing is a conditional write
 * (`armed` -> `fired`), so an alert fires once however many watchers see the
 * crossing; it is re-armed (`fired` -> `armed`) only when stock rises above
 * the line again. The `book.low_stock` / `book.exhausted` event is this
 * item's own change on the stream. Written only on crossings, never per claim.
 */
export const createBookAlertEntity = (config: EntityConfig) =>
  new Entity(
    {
      model: { entity: 'bookAlert', version: '1', service: SERVICE },
      attributes: {
        tenant: { type: 'string', required: true, readOnly: true },
        bookId: { type: 'string', required: true, readOnly: true },
        kind: { type: BOOK_ALERT_KINDS, required: true, readOnly: true },
        state: { type: ['armed', 'fired'] as const, required: true },
        /** Available codes when it fired. */
        available: { type: 'number' },
        threshold: { type: 'number' },
        /** Claims per minute over the last minute the watcher saw. */
        claimRatePerMinute: { type: 'number' },
        /** ISO time the book runs out at that rate; absent when nothing is being claimed. */
        estimatedRunOutAt: { type: 'string' },
        /** ISO time of the last state change. */
        changedAt: { type: 'string', required: true },
      },
      indexes: {
        byBook: {
          pk: { field: 'pk', composite: ['tenant', 'bookId'], template: 'T#${tenant}#BOOK#${bookId}', casing: 'none' },
          sk: { field: 'sk', composite: ['kind'], template: 'ALERT#${kind}', casing: 'none' },
        },
      },
    },
    config,
  );
