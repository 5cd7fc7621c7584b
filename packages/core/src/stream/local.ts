import type { CoreContext } from '../context.ts';
import { createDynamoDbClient, createStreamsClient } from '../db/client.ts';
import type { ChangeConsumer } from './change.ts';
import type { Log } from '../telemetry/log.ts';
import { startChangeFollower, type ChangeFollower } from './follower.ts';

/**
 * Follows the context's table stream in this process (`npm start`, tests,
 * `sst dev`), handing each batch to `consumers` and checkpointing under
 * `name` (one name per process that should resume where the last one
 * stopped). Which consumers run is the composition root's choice.
 */
export function followLocalStream(
  ctx: CoreContext,
  options: { name: string; consumers: readonly ChangeConsumer[]; idleMs?: number; log?: Log },
): ChangeFollower {
  return startChangeFollower({
    store: ctx.store,
    dynamo: createDynamoDbClient(ctx.config),
    streams: createStreamsClient(ctx.config),
    name: options.name,
    consumers: options.consumers,
    idleMs: options.idleMs,
    log: options.log ?? ctx.log,
    metrics: ctx.metrics,
  });
}
