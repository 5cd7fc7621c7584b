import { Entity } from 'electrodb';
import { SERVICE, type EntityConfig } from './entity-config.ts';
import { CODE_CHANGE_ATTRIBUTES } from './code-change-attributes.ts';

/**
 * One change of a code's life, under the code's own partition (no key shared
 * by many users), written by the change-stream consumer (code/history.ts),
 * never by a request. The sort key is the code's `changeSeq`, zero-padded,
 * so a replayed change names an entry that exists (and is not written again)
 * and a Query reads history in order.
 */
export const createCodeHistoryEntity = (config: EntityConfig) =>
  new Entity(
    {
      model: { entity: 'codeHistory', version: '1', service: SERVICE },
      attributes: {
        tenant: { type: 'string', required: true, readOnly: true },
        code: { type: 'string', required: true, readOnly: true },
        seq: { type: 'number', required: true, readOnly: true, padding: { length: 10, char: '0' } },
        bookId: { type: 'string', required: true },
        ...CODE_CHANGE_ATTRIBUTES,
        /**
         * Set when what is counted from history (the book's activity) counted this entry, in the
         * transaction that wrote it or that set this flag: absent on entries an older release wrote.
         */
        counted: { type: 'boolean' },
      },
      indexes: {
        byCode: {
          pk: { field: 'pk', composite: ['tenant', 'code'], template: 'T#${tenant}#CODE#${code}', casing: 'none' },
          sk: { field: 'sk', composite: ['seq'], template: 'HIST#${seq}', casing: 'none' },
        },
      },
    },
    config,
  );
