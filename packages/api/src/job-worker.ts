import { processJobMessage, type CoreContext } from '@coupons/core';
import { JOB_KINDS } from './wiring.ts';
import { flushingMetrics } from './telemetry/telemetry.ts';
import { createTracedCoreContext } from './telemetry/tracing.ts';
import { tracedHandler, type Tracer } from './telemetry/trace-segments.ts';

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
export function createJobWorker(core: CoreContext) {
  return async (event: SqsEvent, context: WorkerContext) => {
    const batchItemFailures: { itemIdentifier: string }[] = [];
    for (const record of event.Records) {
      const started = Date.now();
      let message: { jobId?: unknown; tenant?: unknown } | null;
      try {
        message = JSON.parse(record.body);
      } catch {
        // A message no worker can read would fail every retry: drop it, loudly.
        core.log.error('job message is not JSON; dropped', { messageId: record.messageId });
        continue;
      }
      // Every line about this message (the job's own, the core's) names the job and its tenant.
      const fields = { messageId: record.messageId, jobId: message?.jobId, tenant: message?.tenant };
      await core.log.scope(fields, async () => {
        try {
          const deadline = Date.now() + context.getRemainingTimeInMillis() - SAFETY_MARGIN_MS;
          const outcome = await processJobMessage(core, message, { deadline, kinds: JOB_KINDS });
          core.log.info('job message', { outcome, ms: Date.now() - started });
        } catch (e) {
          core.log.error('job message failed; SQS hands it over again', { error: e });
          batchItemFailures.push({ itemIdentifier: record.messageId });
        }
      });
    }
    return { batchItemFailures };
  };
}

let core: CoreContext | undefined;
let tracer: Tracer | undefined;
let worker: ReturnType<typeof createJobWorker> | undefined;

/**
 * Lambda entry point: `packages/api/src/job-worker.handler`. The context is built once per
 * instance; each invocation is traced, and its metrics flushed when it ends.
 */
export const handler = flushingMetrics(
  () => core,
  async (event: SqsEvent, context: WorkerContext) => {
    if (!worker) {
      ({ core, tracer } = await createTracedCoreContext());
      worker = createJobWorker(core);
    }
    return tracedHandler(() => tracer, 'job message', worker)(event, context);
  },
);
