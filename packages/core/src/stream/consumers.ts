import type { CoreContext } from '../context.ts';
import type { ChangeConsumer } from './change.ts';
import { codeHistoryConsumer } from '../code/history.ts';
import { webhookConsumers } from '../webhooks/index.ts';
import { codeEventOf } from '../code/code-event.ts';

/**
 * Everything that reacts to the table's committed writes, in the order each
 * batch is handed to them. The local follower and the AWS stream Lambda both
 * run exactly this list.
 */
export function changeConsumers(ctx: CoreContext): ChangeConsumer[] {
  // Webhooks last: their consumer waits for events to be a second old (docs/webhooks.md), history need not.
  return [codeHistoryConsumer(ctx.store), ...webhookConsumers(ctx, { codeEventOf }).consumers];
}
