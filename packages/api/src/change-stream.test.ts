import { describe, expect, it } from 'vitest';
import { marshall } from '@aws-sdk/util-dynamodb';
import { MetricsRecorder, type ChangeConsumer, type CoreContext, type TableChange } from '@coupons/core';
import { createChangeStreamHandler } from './change-stream.ts';
import { createLog, memoryWriter } from './telemetry/log.ts';

// The event source mapping is AWS-only: this feeds the handler the JSON a Lambda receives.
const record = (seq: string, newImage: Record<string, any>, oldImage?: Record<string, any>) => ({
  eventName: oldImage ? 'MODIFY' : 'INSERT',
  dynamodb: {
    Keys: marshall({ pk: newImage.pk, sk: newImage.sk }),
    NewImage: marshall(newImage),
    ...(oldImage ? { OldImage: marshall(oldImage) } : {}),
    SequenceNumber: seq,
    ApproximateCreationDateTime: 1_780_000_000,
  },
});

function handlerWith(consumer: ChangeConsumer) {
  const core = { log: createLog('info', memoryWriter([])), metrics: new MetricsRecorder(), now: Date.now } as unknown as CoreContext;
  return createChangeStreamHandler(core, [consumer]);
}

describe('the change stream Lambda', () => {
  it('unmarshalls records into table changes and hands them to the consumers', async () => {
    const seen: TableChange[] = [];
    const handle = handlerWith({ name: 'r', handle: async (c) => void seen.push(...c) });
    const out = await handle({
      Records: [record('100', { pk: 'T#t#CODE#A', sk: 'CODE', status: 'available' }), record('101', { pk: 'T#t#CODE#A', sk: 'CODE', status: 'assigned' }, { pk: 'T#t#CODE#A', sk: 'CODE', status: 'available' })],
    });
    expect(out).toEqual({ batchItemFailures: [] });
    expect(seen.map((c) => [c.eventName, c.newImage?.status, c.oldImage?.status, c.at])).toEqual([
      ['INSERT', 'available', undefined, 1_780_000_000_000],
      ['MODIFY', 'assigned', 'available', 1_780_000_000_000],
    ]);
  });

  it('reports a failed batch from its first record, so it is handed over again whole', async () => {
    const handle = handlerWith({ name: 'r', handle: async () => { throw new Error('down'); } });
    const out = await handle({ Records: [record('7', { pk: 'T#t#CODE#A', sk: 'CODE' }), record('8', { pk: 'T#t#CODE#B', sk: 'CODE' })] });
    expect(out).toEqual({ batchItemFailures: [{ itemIdentifier: '7' }] });
  });
});
