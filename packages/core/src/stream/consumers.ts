import type { CoreContext } from '../context.ts';
import type { ChangeConsumer } from './change.ts';
import { codeHistoryConsumer } from '../code/history.ts';

/**
 * Everything that reacts to the table's committed writes, in the order each
 * batch is handed to them. The local follower and the AWS stream Lambda both
 * run exactly this list.
 */
export function changeConsumers(ctx: CoreContext): ChangeConsumer[] {
  return [codeHistoryConsumer(ctx.store)];
}
