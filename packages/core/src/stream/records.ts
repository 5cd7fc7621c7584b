import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { TableChange } from './change.ts';
import type { Metrics } from '../telemetry/metrics.ts';
import type { Log } from '../telemetry/log.ts';

/**
 * A stream record as both sources deliver it: the DynamoDB Streams API
 * (GetRecords, where the time is a Date) and a Lambda's DynamoDBStreamEvent
 * (plain JSON, where it is epoch seconds). Images are in AttributeValue form.
 */
export interface RawStreamRecord {
  eventName?: string;
  dynamodb?: {
    Keys?: Record<string, any>;
    NewImage?: Record<string, any>;
    OldImage?: Record<string, any>;
    SequenceNumber?: string;
    ApproximateCreationDateTime?: Date | number;
  };
}

const toMs = (t: Date | number | undefined) => (t === undefined ? Date.now() : t instanceof Date ? t.getTime() : t * 1000);

export function toTableChange(record: RawStreamRecord): TableChange {
  const d = record.dynamodb ?? {};
  const keys = unmarshall((d.Keys ?? {}) as any) as { pk: string; sk: string };
  return {
    eventName: record.eventName as TableChange['eventName'],
    keys,
    ...(d.OldImage ? { oldImage: unmarshall(d.OldImage as any) } : {}),
    ...(d.NewImage ? { newImage: unmarshall(d.NewImage as any) } : {}),
    sequenceNumber: d.SequenceNumber ?? '',
    at: toMs(d.ApproximateCreationDateTime),
  };
}

/** The follower's own bookkeeping is in the table too; no consumer needs to see it. */
export const isFollowerBookkeeping = (change: TableChange) => change.keys.pk.startsWith('STREAM#');

/** What a batch's source observes it through: the context's log and metrics, and its clock. */
export interface StreamObserver {
  log: Log;
  metrics: Metrics;
  now: () => number;
}

/**
 * Hands one batch to every consumer, in order. A consumer that throws makes
 * the whole batch fail, so its source (the follower, or Lambda's event
 * source mapping) hands it over again: consumers are idempotent. A batch
 * handed over counts its records and its lag: how old its oldest record
 * (by commit time) was when the last consumer finished with it. Lines logged
 * meanwhile name the batch by its first record.
 */
export async function dispatch(
  changes: TableChange[],
  consumers: readonly { handle(c: TableChange[]): Promise<void> }[],
  observer?: StreamObserver,
) {
  const relevant = changes.filter((c) => !isFollowerBookkeeping(c));
  if (!relevant.length) return;
  const run = async () => {
    for (const consumer of consumers) await consumer.handle(relevant);
  };
  if (!observer) return run();
  await observer.log.scope({ streamRecord: relevant[0]!.sequenceNumber, records: relevant.length }, run);
  let oldest = relevant[0]!.at;
  for (const c of relevant) if (c.at < oldest) oldest = c.at;
  const lagMs = Math.max(0, observer.now() - oldest);
  observer.metrics.add('StreamRecords', relevant.length);
  observer.metrics.add('StreamLag', lagMs);
  observer.log.debug('stream batch', { streamRecord: relevant[0]!.sequenceNumber, records: relevant.length, lagMs });
}
