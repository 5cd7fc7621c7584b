import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { TableChange } from './change.ts';

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

/**
 * Hands one batch to every consumer, in order. A consumer that throws makes
 * the whole batch fail, so its source (the follower, or Lambda's event
 * source mapping) hands it over again: consumers are idempotent.
 */
export async function dispatch(changes: TableChange[], consumers: readonly { handle(c: TableChange[]): Promise<void> }[]) {
  const relevant = changes.filter((c) => !isFollowerBookkeeping(c));
  if (!relevant.length) return;
  for (const consumer of consumers) await consumer.handle(relevant);
}
