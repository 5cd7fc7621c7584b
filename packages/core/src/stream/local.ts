import type { CoreContext } from '../context.ts';
import { createDynamoDbClient, createStreamsClient } from '../db/client.ts';
import type { ChangeConsumer } from './change.ts';
import { changeConsumers } from './consumers.ts';
import { startChangeFollower, type ChangeFollower } from './follower.ts';

/**
 * The follower `npm start` and the tests run: the app's consumers over the
 * table's stream, checkpointed under `name` (one name per process that
 * should resume where the last one stopped).
 */
export function followChanges(
  ctx: CoreContext,
  options: { name?: string; consumers?: readonly ChangeConsumer[]; idleMs?: number; log?: (l: Record<string, unknown>) => void } = {},
): ChangeFollower {
  return startChangeFollower({
    store: ctx.store,
    dynamo: createDynamoDbClient(ctx.config),
    streams: createStreamsClient(ctx.config),
    name: options.name ?? 'local',
    consumers: options.consumers ?? changeConsumers(ctx),
    idleMs: options.idleMs,
    log: options.log,
  });
}
