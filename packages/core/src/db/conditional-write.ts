import { isTransientAwsError, unavailable } from './aws-errors.ts';
import { transact, type Entities, type Guard } from './transact.ts';
import type { DeleteCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Store } from '../entities/index.ts';

/**
 * One conditional write on one item, built by `build` on the store's
 * entities (an ElectroDB update, put, upsert, create or delete chain, with
 * its transition's `.where(...)`, not yet sent). This is the one place a
 * failed condition of a single write is recognised: without a guard it is a
 * plain write (1 WCU per KB), and a refusal is explained by `refusal` from
 * the item as it was, which DynamoDB returns with the failure
 * (ReturnValuesOnConditionCheckFailure), so it costs no read. With a guard
 * (an idempotency record) it becomes a transaction of the two, whose
 * cancellation reasons carry the item the same way.
 */
export async function conditionalWrite(
  store: Store,
  build: (entities: Entities | Store) => any,
  refusal: (item: Record<string, any> | null) => Error,
  guard?: Guard,
): Promise<void> {
  if (guard) {
    await transact(store, (entities) => ({ item: build(entities).commit({ response: 'all_old' }) }), {
      onConditionFailed: (reasons) => refusal(reasons.item.item),
      guard,
    });
    return;
  }
  let result: { rejected?: boolean; data?: Record<string, any> | null };
  try {
    result = await build(store).go({ response: 'none', returnOnConditionCheckFailure: 'all_old' });
  } catch (e) {
    if (isTransientAwsError(e)) throw unavailable(e);
    throw e;
  }
  if (result.rejected) throw refusal(result.data ?? null);
}

/**
 * A conditional request built by hand, for items in a shape no entity reads
 * any more (the migrations'): `refused` when its condition failed, the same
 * recognition as above, by the error's name (never its text).
 */
export async function sendConditional(store: Store, command: PutCommand | UpdateCommand | DeleteCommand): Promise<'written' | 'refused'> {
  try {
    await store.client.send(command as Parameters<Store['client']['send']>[0]);
    return 'written';
  } catch (e) {
    if ((e as { name?: string })?.name === 'ConditionalCheckFailedException') return 'refused';
    throw e;
  }
}
