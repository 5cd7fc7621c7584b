import { dispatch, toTableChange, type ChangeConsumer, type CoreContext, type RawStreamRecord } from '@coupons/core';
import { changeConsumers } from './wiring.ts';
import { flushingMetrics } from './telemetry/telemetry.ts';
import { createTracedCoreContext } from './telemetry/tracing.ts';
import { tracedHandler, type Tracer } from './telemetry/trace-segments.ts';

/** The slice of a DynamoDB stream event the handler reads. */
export interface StreamEvent {
  Records: RawStreamRecord[];
}

/**
 * The table stream's subscriber on AWS: the same consumers the local
 * follower runs (history, webhooks). A failed batch is reported from its
 * first record, so the event source mapping hands the batch over again
 * (consumers are idempotent) and nothing later in the shard overtakes it.
 * Each batch counts its records and lag (StreamLag: the age of its oldest
 * record), and its lines carry its first record's sequence number.
 */
export function createChangeStreamHandler(core: CoreContext, consumers: readonly ChangeConsumer[] = changeConsumers(core)) {
  return async (event: StreamEvent) => {
    const changes = event.Records.map(toTableChange);
    try {
      await dispatch(changes, consumers, core);
      return { batchItemFailures: [] };
    } catch (e) {
      core.log.error('change stream batch failed; it will be retried', { records: changes.length, streamRecord: changes[0]?.sequenceNumber, error: e });
      return { batchItemFailures: changes.length ? [{ itemIdentifier: changes[0]!.sequenceNumber }] : [] };
    }
  };
}

let core: CoreContext | undefined;
let tracer: Tracer | undefined;
let handlerInstance: ReturnType<typeof createChangeStreamHandler> | undefined;

/** Lambda entry point: the context is built on the first batch; each batch is traced, and its metrics flushed after it. */
export const handler = flushingMetrics(
  () => core,
  async (event: StreamEvent, context?: unknown) => {
    if (!handlerInstance) {
      ({ core, tracer } = await createTracedCoreContext());
      handlerInstance = createChangeStreamHandler(core);
    }
    return tracedHandler(() => tracer, 'change stream batch', handlerInstance)(event, context);
  },
);
