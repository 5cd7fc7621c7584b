import { setTimeout as sleep } from 'node:timers/promises';
import { DeleteCommand, GetCommand, TransactWriteCommand, type TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';
import type { Store } from '../entities/index.ts';
import { isTransientAwsError } from '../db/aws-errors.ts';
import { retried } from '../db/retried.ts';
import { sendConditional } from '../db/conditional-write.ts';
import { backoffMs } from '../db/transact.ts';
import type { TableItem } from './migration.ts';

// Writes on items in the previous release's shape. Those items have no entity today, so they are
// addressed by the key they were read with (never a key built here) and conditioned on the
// attributes they were read with: whatever changed them since makes the write refuse, and the
// migration reads them again.

export type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

/** The item's own key, as read. */
export const keyOf = (item: TableItem) => ({ pk: item.pk, sk: item.sk });

/**
 * A condition that holds while the item still has these attributes as `item`
 * had them (an attribute it lacked must still be absent).
 */
export function unchanged(item: TableItem, attributes: readonly string[], prefix = 'u') {
  const names: Record<string, string> = { [`#${prefix}pk`]: 'pk' };
  const values: Record<string, unknown> = {};
  const terms = [`attribute_exists(#${prefix}pk)`];
  attributes.forEach((attr, i) => {
    const name = `#${prefix}${i}`;
    names[name] = attr;
    if (item[attr] === undefined) terms.push(`attribute_not_exists(${name})`);
    else {
      values[`:${prefix}${i}`] = item[attr];
      terms.push(`${name} = :${prefix}${i}`);
    }
  });
  return { ConditionExpression: terms.join(' AND '), ExpressionAttributeNames: names, ...(Object.keys(values).length ? { ExpressionAttributeValues: values } : {}) };
}

/** The item as it is now (consistent read), or null once it is gone. */
export async function reread(store: Store, item: TableItem): Promise<TableItem | null> {
  const { Item } = await retried(() => store.client.send(new GetCommand({ TableName: store.table, Key: keyOf(item), ConsistentRead: true })));
  return Item ?? null;
}

/** Deletes the item if it is still as read: false when it changed or went meanwhile. */
export async function deleteIfUnchanged(store: Store, item: TableItem, attributes: readonly string[]): Promise<boolean> {
  const sent = await retried(() => sendConditional(store, new DeleteCommand({ TableName: store.table, Key: keyOf(item), ...unchanged(item, attributes) })));
  return sent === 'written';
}

/**
 * One TransactWriteItems whose items each carry the condition they require:
 * `written`, or `refused` when a condition failed (the state moved: read it
 * again). Conflicts with concurrent requests, throttling and timeouts are
 * retried with backoff; a migration is not in a hurry.
 */
export async function transactWrite(store: Store, items: TransactItem[]): Promise<'written' | 'refused'> {
  for (let attempt = 0; ; attempt++) {
    try {
      await store.client.send(new TransactWriteCommand({ TransactItems: items }));
      return 'written';
    } catch (e) {
      const reasons = (e as { CancellationReasons?: { Code?: string }[] }).CancellationReasons;
      if (reasons?.some((r) => r.Code === 'ConditionalCheckFailed')) return 'refused';
      const retryable = reasons?.some((r) => r.Code === 'TransactionConflict' || r.Code === 'ThrottlingError') || isTransientAwsError(e);
      if (!retryable || attempt >= 20) throw e;
      await sleep(backoffMs(Math.min(attempt, 8), 20, 2000));
    }
  }
}
