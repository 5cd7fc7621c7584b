import { processJobMessage, type CoreContext } from '@coupons/core';
import { createCoreContext } from './runtime.ts';
import { JOB_KINDS } from './wiring.ts';

/** The slice of an SQS event a subscriber reads. */
export interface SqsEvent {
  Records: { messageId: string; body: string }[];
}

/** The slice of Lambda's context the worker reads. */
export interface WorkerContext {
  getRemainingTimeInMillis(): number;
}

/** Time left for the last chunks in flight and the continuation message, before Lambda's timeout. */
export const SAFETY_MARGIN_MS = 60_000;

/**
 * The generation-job queue's subscriber (infra/jobs.ts). Each message names a
 * job; the worker runs it until it is done or the invocation is nearly out of
 * time, then queues a continuation for itself, so a 10,000,000-code job runs
 * as a chain of invocations, each resuming where the last committed. A
 * message that fails (DynamoDB unreachable) is reported in
 * `batchItemFailures` and comes back after the visibility timeout; the job
 * then resumes from its last committed chunk.
 */
export function createJobWorker(core: CoreContext, log: (line: Record<string, unknown>) => void = (l) => console.log(JSON.stringify(l))) {
  return async (event: SqsEvent, context: WorkerContext) => {
    const batchItemFailures: { itemIdentifier: string }[] = [];
    for (const record of event.Records) {
      const started = Date.now();
      let message: unknown;
      try {
        message = JSON.parse(record.body);
      } catch {
        // A message no worker can read would fail every retry: drop it, loudly.
        log({ level: 'error', msg: 'job message is not JSON; dropped', messageId: record.messageId });
        continue;
      }
      try {
        const deadline = Date.now() + context.getRemainingTimeInMillis() - SAFETY_MARGIN_MS;
        const outcome = await processJobMessage(core, message, { deadline, kinds: JOB_KINDS });
        log({ level: 'info', msg: 'job message', jobId: (message as { jobId?: string })?.jobId, outcome, ms: Date.now() - started });
      } catch (e) {
        log({ level: 'error', msg: 'job message failed', messageId: record.messageId, error: String((e as Error)?.message ?? e) });
        batchItemFailures.push({ itemIdentifier: record.messageId });
      }
    }
    return { batchItemFailures };
  };
}

let worker: ReturnType<typeof createJobWorker> | undefined;

/** Lambda entry point: `packages/api/src/job-worker.handler`. The context is built once per instance. */
export const handler = (event: SqsEvent, context: WorkerContext) => {
  worker ??= createJobWorker(createCoreContext());
  return worker(event, context);
};
