import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { messageGroupOf, sqsDeliverySink, type CoreContext, type DeliveryJob } from '@coupons/core';
import { createWebhookWorker, type SqsFifoEvent } from '../packages/api/src/webhook-worker.ts';
import { admin, answer, startTestApi, type TestApi } from './support/harness.ts';
import { startReceiver, type Receiver } from './support/webhook-receiver.ts';

// The AWS path: the stream's function enqueues on the FIFO delivery queue, the queue's subscriber
// attempts each message. SQS is an AWS-only service, so it is replaced here by recorders (the
// SendMessageBatch and ChangeMessageVisibility calls); the receiver and the table are real.
let api: TestApi;
let receiver: Receiver;
let webhookId: string;
let core: CoreContext;
beforeAll(async () => {
  api = await startTestApi('webhook-worker', { WEBHOOK_ALLOW_LOOPBACK: 'true', WEBHOOK_RETRY_SCHEDULE: '5,300', WEBHOOK_DELIVERY_SHARDS: '2' });
  core = api.core;
  receiver = await startReceiver();
  const r = await answer(api.client(await admin('w1')).webhooks.$post({ json: { url: `${receiver.url}/hook` } }));
  receiver.trust(r.json.secret);
  webhookId = r.json.id;
});
afterAll(async () => {
  await receiver.close();
  await api.close();
});

const job = (code: string, n: number): DeliveryJob => ({
  tenant: 'w1',
  webhookId,
  messageId: `msg_${code}_${n}`,
  eventType: 'code.assigned',
  lane: `code:${code}`,
  order: String(n).padStart(12, '0'),
  body: JSON.stringify({ type: 'code.assigned', timestamp: new Date().toISOString(), data: { code, n } }),
});

const record = (j: DeliveryJob, receives = 1, id = j.messageId): SqsFifoEvent['Records'][number] => ({
  messageId: id,
  receiptHandle: `rh-${id}`,
  body: JSON.stringify(j),
  attributes: { MessageGroupId: messageGroupOf(j), ApproximateReceiveCount: String(receives) },
});

function worker() {
  const hidden: [string, number][] = [];
  const run = createWebhookWorker(core, async (rh, s) => void hidden.push([rh, s]));
  return { run, hidden };
}

const stored = async (messageId: string) =>
  (await api.scan()).find((i) => i.__edb_e__ === 'webhookDelivery' && i.messageId === messageId);

describe('the webhook queue subscriber', () => {
  it('delivers, and on a failure hides the message for the next delay and hands back the rest of its group only', async () => {
    const { run, hidden } = worker();
    receiver.answerWith((req) => (req.body.data.code === 'A' && req.body.data.n === 1 ? 500 : 200));
    const out = await run({ Records: [record(job('A', 1)), record(job('B', 1)), record(job('A', 2))] });
    expect(out.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual(['msg_A_1', 'msg_A_2']);
    expect(hidden).toEqual([['rh-msg_A_1', 5]]);
    expect(receiver.delivered().map((r) => r.id)).toEqual(['msg_B_1']);
    expect(await stored('msg_A_1')).toMatchObject({ status: 'pending', attempts: 1, responseStatus: 500 });
    expect(await stored('msg_A_2')).toBeUndefined(); // never tried, so never counted

    // Received again: the head is attempt 2 (from its record), the follower attempt 1.
    receiver.answerWith(() => 200);
    const again = await run({ Records: [record(job('A', 1), 2), record(job('A', 2), 2)] });
    expect(again.batchItemFailures).toEqual([]);
    expect(await stored('msg_A_1')).toMatchObject({ status: 'delivered', attempts: 2 });
    expect(await stored('msg_A_2')).toMatchObject({ status: 'delivered', attempts: 1 });
    expect(receiver.delivered().map((r) => r.id)).toEqual(['msg_B_1', 'msg_A_1', 'msg_A_2']);
  });

  it('keeps the message as failed after the last attempt and lets the queue delete it', async () => {
    const { run, hidden } = worker();
    receiver.answerWith(() => 502);
    const j = job('C', 1);
    for (let receive = 1; receive <= 3; receive++) await run({ Records: [record(j, receive)] });
    expect(hidden.map(([, s]) => s)).toEqual([5, 300]);
    expect(await stored('msg_C_1')).toMatchObject({ status: 'failed', attempts: 3, responseStatus: 502 });
    const log = await answer(api.client(await admin('w1')).webhooks[':id'].deliveries.$get({ param: { id: webhookId }, query: { status: 'failed' } }));
    expect(log.json.items.map((d: any) => d.messageId)).toEqual(['msg_C_1']);
    // A duplicate of a settled message (SQS is at least once) sends nothing.
    const before = receiver.received.length;
    expect((await run({ Records: [record(j, 4)] })).batchItemFailures).toEqual([]);
    expect(receiver.received.length).toBe(before);
  });
});

describe('the SQS sink', () => {
  it('sends batches of at most 10, grouped by endpoint and lane, de-duplicated per message and resend', async () => {
    const sent: any[] = [];
    const send = async (cmd: any) => {
      sent.push(cmd.input);
      return { Failed: [] };
    };
    const fakeSqs = async () => ({ send }) as any;
    const sink = sqsDeliverySink(fakeSqs, 'https://sqs.us-east-1.amazonaws.com/1/WebhookDeliveries.fifo');
    const jobs = Array.from({ length: 23 }, (_, i) => job(i % 2 ? 'P' : 'Q', i));
    await sink.enqueue(jobs);
    expect(sent.map((b) => b.Entries.length)).toEqual([10, 10, 3]);
    const entries = sent.flatMap((b) => b.Entries);
    expect(new Set(entries.map((e: any) => e.MessageGroupId)).size).toBe(2);
    expect(entries.every((e: any) => e.MessageGroupId.length <= 128 && e.MessageDeduplicationId.length <= 128)).toBe(true);
    expect(new Set(entries.map((e: any) => e.MessageDeduplicationId)).size).toBe(23);
    expect(JSON.parse(entries[0].MessageBody)).toEqual(jobs[0]);
    const resent = { ...jobs[0]!, resends: 1 };
    await sink.enqueue([resent]);
    expect(sent.at(-1).Entries[0].MessageDeduplicationId).not.toBe(entries[0].MessageDeduplicationId);
  });

  it('fails the stream batch when SQS refuses an entry, so the event source retries it', async () => {
    const fakeSqs = async () => ({ send: async () => ({ Failed: [{ Id: '0', Code: 'InternalError' }] }) }) as any;
    await expect(sqsDeliverySink(fakeSqs, 'https://q').enqueue([job('Z', 1)])).rejects.toThrow(/refused 1/);
  });
});
