import { table } from './table';
import { afterPrepare } from './migrations';
import { traced, tracingEnvironment } from './tracing';

// Generation jobs (POST /coupons/codes/generate above 10,000 codes). The API writes the job and
// sends one message; the subscriber runs it until done or until its invocation nearly times out,
// then sends itself a continuation. Progress is committed with every chunk, so a crashed or
// timed-out invocation loses nothing: the message comes back and the job resumes.

/** Longest a worker invocation may run (Lambda's maximum). */
export const WORKER_TIMEOUT_MINUTES = 15;

// A message that failed this many receives (DynamoDB down for an hour, a bug) is parked here and
// alarmed on (infra/alarms.ts); its job stays `running` until the message is re-driven.
export const jobDeadLetters = new sst.aws.Queue('GenerationJobsDlq', {});

export const jobQueue = new sst.aws.Queue('GenerationJobs', {
  // Lambda requires the visibility timeout to be at least the function's timeout; a bit more keeps
  // a slow invocation's message from being handed to a second worker while the first still runs.
  visibilityTimeout: `${WORKER_TIMEOUT_MINUTES + 1} minutes`,
  dlq: { queue: jobDeadLetters.arn, retry: 5 },
});

// The table and the queue reach the worker as links (runtime.ts reads them with SST's `Resource`).
const environment = { NODE_ENV: 'production', ...tracingEnvironment };

export const jobWorker = jobQueue.subscribe(
  {
    handler: 'packages/api/src/job-worker.handler',
    runtime: 'nodejs24.x',
    architecture: 'arm64',
    memory: '1024 MB',
    timeout: `${WORKER_TIMEOUT_MINUTES} minutes`,
    // The table for the codes; the queue to send its own continuation.
    link: [table, jobQueue],
    environment,
    ...traced(afterPrepare),
  },
  {
    // One job per invocation, each gets the whole 15 minutes; a failure returns only its message.
    batch: { size: 1, partialResponses: true },
  },
);
