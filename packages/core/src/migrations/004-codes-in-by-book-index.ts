import { createConversions } from 'electrodb';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { sendConditional } from '../db/conditional-write.ts';
import { keyOf } from './legacy-writes.ts';
import { retried } from '../db/retried.ts';
import type { Migration } from './migration.ts';

/**
 * Codes the previous release inserted are missing from a book's codes
 * (`GET /coupons/{bookId}/codes`, the export) today: listing reads the
 * `byBook` index, which every insert path now fills (commits ed3abcc, 3f8338a) and the
 * previous release did not know. Each such code gets its `byBook` keys, built
 * by the code entity from its book and shard (which never change after
 * insert), in one conditional update that requires them absent and the book
 * and shard as read. `finish` also removes the `poolPartition` attribute the
 * previous release kept (today's pool key is built from the same book and
 * shard), in the same write where there is one to make. 1 WCU and one index
 * entry per code.
 *
 * Registered after 001: a generation job of the previous release still
 * running after the switch can insert codes only while its book's old stats
 * shards exist (each chunk updates one), and 001's `finish` has deleted them
 * all before this runs; so no old insert can land behind this scan.
 */
export const codesInByBookIndex: Migration = {
  id: '004-codes-in-by-book-index',
  summary: "codes without byBook index keys get them (a book's codes listing and export)",
  filter: {
    expression: '#e = :e AND (attribute_not_exists(#g) OR attribute_exists(#pp))',
    names: { '#e': '__edb_e__', '#g': 'gsi3pk', '#pp': 'poolPartition' },
    values: { ':e': 'code' },
  },
  async migrate(ctx, item, phase) {
    const removes = phase === 'finish' && item.poolPartition !== undefined;
    if (item.__edb_e__ !== 'code' || (item.gsi3pk !== undefined && !removes)) return 'unchanged';
    const { gsi3pk, gsi3sk } = createConversions(ctx.store.code).byAccessPattern.byBook.fromComposite.toKeys({
      tenant: item.tenant,
      bookId: item.bookId,
      shard: item.shard,
      code: item.code,
    }) as { gsi3pk: string; gsi3sk: string };
    const sent = await retried(() =>
        sendConditional(ctx.store,
          new UpdateCommand({
            TableName: ctx.store.table,
            Key: keyOf(item),
            UpdateExpression: `SET #gpk = :gpk, #gsk = :gsk${removes ? ' REMOVE #pp' : ''}`,
            ConditionExpression: `(attribute_not_exists(#gpk)${removes ? ' OR attribute_exists(#pp)' : ''}) AND #book = :book AND #shard = :shard`,
            ExpressionAttributeNames: { '#gpk': 'gsi3pk', '#gsk': 'gsi3sk', '#book': 'bookId', '#shard': 'shard', ...(removes ? { '#pp': 'poolPartition' } : {}) },
            ExpressionAttributeValues: { ':gpk': gsi3pk, ':gsk': gsi3sk, ':book': item.bookId, ':shard': item.shard },
          }),
        ),
      );
    return sent === 'written' ? 'changed' : 'unchanged'; // refused: given its keys by an earlier run
  },
};
