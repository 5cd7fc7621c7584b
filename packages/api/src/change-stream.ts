import { dispatch, toTableChange, type ChangeConsumer, type RawStreamRecord } from '@coupons/core';
import { createCoreContext } from './runtime.ts';
import { changeConsumers } from './wiring.ts';

/** The slice of a DynamoDB stream event the handler reads. */
export interface StreamEvent {
  Records: RawStreamRecord[];
}

/**
 * The table stream's subscriber on AWS: the same consumers the local
 * follower runs (history, webhooks). A failed batch is reported from its
 * first record, so the event source mapping hands the batch over again
 * (consumers are idempotent) and nothing later in the shard overtakes it.
 */
export function createChangeStreamHandler(
  core = createCoreContext(),
  log: (l: Record<string, unknown>) => void = (l) => console.log(JSON.stringify(l)),
  consumers: readonly ChangeConsumer[] = changeConsumers(core),
) {
  return async (event: StreamEvent) => {
    const changes = event.Records.map(toTableChange);
    try {
      await dispatch(changes, consumers);
      return { batchItemFailures: [] };
    } catch (e) {
      log({ level: 'error', msg: 'change stream batch failed; it will be retried', error: (e as Error).message, records: changes.length });
      return { batchItemFailures: changes.length ? [{ itemIdentifier: changes[0]!.sequenceNumber }] : [] };
    }
  };
}

let handlerInstance: ReturnType<typeof createChangeStreamHandler> | undefined;
export const handler = (event: StreamEvent) => (handlerInstance ??= createChangeStreamHandler())(event);
