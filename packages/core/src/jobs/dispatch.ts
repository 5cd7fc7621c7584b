import { setTimeout as sleep } from 'node:timers/promises';
import type { CoreContext } from '../context.ts';
import { createSqsClient, sendSqsMessage, type LazySqsClient } from '../aws/sqs.ts';
import type { JobRef } from './model.ts';
import { runGenerationJob } from '../stock/generation-job.ts';

// Dispatch: where a queued job runs.

/** Starts (or continues) a job somewhere: in this process, or through the SQS queue on AWS. */
export interface JobDispatcher {
  readonly kind: string;
  dispatch(ref: JobRef): Promise<void>;
}

const dispatchers = new WeakMap<CoreContext, JobDispatcher>();

/** The dispatcher of a context: SQS when QUEUE_URL is configured, in-process otherwise (or whatever `useJobDispatcher` set). */
export function jobDispatcher(ctx: CoreContext): JobDispatcher {
  let d = dispatchers.get(ctx);
  if (!d) {
    d = ctx.config.QUEUE_URL ? sqsJobDispatcher(ctx, { queueUrl: ctx.config.QUEUE_URL }) : inProcessJobDispatcher(ctx);
    dispatchers.set(ctx, d);
  }
  return d;
}

/** Replaces a context's dispatcher (tests; a process that wants its own). */
export function useJobDispatcher(ctx: CoreContext, dispatcher: JobDispatcher): void {
  dispatchers.set(ctx, dispatcher);
}

/** The message a job's queue carries. */
export interface JobMessage {
  type: 'generation';
  tenant: string;
  jobId: string;
}

export function sqsJobDispatcher(
  ctx: CoreContext,
  options: { queueUrl: string; client?: LazySqsClient },
): JobDispatcher {
  const client = options.client ?? createSqsClient({ region: ctx.config.AWS_REGION });
  return {
    kind: 'sqs',
    async dispatch(ref) {
      const message: JobMessage = { type: 'generation', tenant: ref.tenant, jobId: ref.jobId };
      await sendSqsMessage(client, options.queueUrl, JSON.stringify(message));
    },
  };
}

export interface InProcessDispatcher extends JobDispatcher {
  /** Resolves once every job this dispatcher started has stopped running here. */
  idle(): Promise<void>;
  /** Asks the running jobs to stop after their current chunk (they stay resumable). */
  stop(): Promise<void>;
}

/**
 * Runs jobs in this process (locally: `npm start`, tests). A job whose lease
 * another runner holds (a crashed process's, until it lapses) is retried
 * when the lease ends; an unexpected error is retried with backoff.
 */
export function inProcessJobDispatcher(
  ctx: CoreContext,
  options: { log?: (line: Record<string, unknown>) => void } = {},
): InProcessDispatcher {
  const running = new Map<string, Promise<void>>();
  const controller = new AbortController();
  const log = options.log ?? ((line) => console.error(JSON.stringify(line)));

  async function untilDone(ref: JobRef) {
    for (let attempt = 0; !controller.signal.aborted; attempt++) {
      try {
        const result = await runGenerationJob(ctx, ref, { signal: controller.signal });
        if (result.outcome !== 'busy') return;
        await sleep(Math.max(50, (result.leaseUntil ?? 0) - ctx.now() + 50));
      } catch (e) {
        log({ level: 'error', msg: 'generation job failed to run; retrying', jobId: ref.jobId, error: String((e as Error)?.message ?? e) });
        await sleep(Math.min(30_000, 200 * 2 ** Math.min(attempt, 8)));
      }
    }
  }

  return {
    kind: 'in-process',
    async dispatch(ref) {
      const key = `${ref.tenant}#${ref.jobId}`;
      if (running.has(key)) return;
      const run = untilDone(ref).finally(() => running.delete(key));
      running.set(key, run);
    },
    async idle() {
      while (running.size) await Promise.all([...running.values()]);
    },
    async stop() {
      controller.abort();
      await this.idle();
    },
  };
}
