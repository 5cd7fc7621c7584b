import { setTimeout as sleep } from 'node:timers/promises';
import type { CoreContext } from '../context.ts';
import { createSqsClient, sendSqsMessage, type LazySqsClient } from '../aws/sqs.ts';
import type { JobKinds, JobMessage, JobRef } from './model.ts';
import { runJob } from './run-job.ts';

// Dispatch: where a queued job runs.

/** A job to start: its key and its kind (what the queue's message says). */
export type QueuedJob = JobRef & { kind: string };

/** Starts (or continues) a job somewhere: in this process, or through the SQS queue on AWS. */
export interface JobDispatcher {
  readonly kind: string;
  dispatch(job: QueuedJob): Promise<void>;
}

const dispatchers = new WeakMap<CoreContext, JobDispatcher>();

/** The dispatcher the composition root gave this context (`useJobDispatcher`). */
export function jobDispatcher(ctx: CoreContext): JobDispatcher {
  const d = dispatchers.get(ctx);
  if (!d) throw new Error('no job dispatcher: the composition root sets one with useJobDispatcher');
  return d;
}

/** Sets a context's dispatcher (the composition root; tests that want their own). */
export function useJobDispatcher(ctx: CoreContext, dispatcher: JobDispatcher): void {
  dispatchers.set(ctx, dispatcher);
}

export function sqsJobDispatcher(ctx: CoreContext, options: { queueUrl: string; client?: LazySqsClient }): JobDispatcher {
  const client = options.client ?? createSqsClient({ region: ctx.config.AWS_REGION });
  return {
    kind: 'sqs',
    async dispatch(job) {
      const message: JobMessage = { type: job.kind, tenant: job.tenant, jobId: job.jobId };
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
  options: { kinds: JobKinds },
): InProcessDispatcher {
  const running = new Map<string, Promise<void>>();
  const controller = new AbortController();

  async function untilDone(ref: JobRef) {
    for (let attempt = 0; !controller.signal.aborted; attempt++) {
      try {
        const result = await ctx.log.scope({ jobId: ref.jobId, tenant: ref.tenant }, () => runJob(ctx, ref, options.kinds, { signal: controller.signal }));
        // A job another runner holds is tried again when its lease ends: that wait is no news.
        ctx.log[result.outcome === 'busy' ? 'debug' : 'info']('job ran', { jobId: ref.jobId, tenant: ref.tenant, outcome: result.outcome });
        if (result.outcome !== 'busy') return;
        await sleep(Math.max(50, (result.leaseUntil ?? 0) - ctx.now() + 50));
      } catch (e) {
        ctx.log.error('job failed to run; retrying', { jobId: ref.jobId, tenant: ref.tenant, attempt, error: e });
        await sleep(Math.min(30_000, 200 * 2 ** Math.min(attempt, 8)));
      }
    }
  }

  return {
    kind: 'in-process',
    async dispatch(job) {
      const key = `${job.tenant}#${job.jobId}`;
      if (running.has(key)) return;
      const run = untilDone({ tenant: job.tenant, jobId: job.jobId }).finally(() => running.delete(key));
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
