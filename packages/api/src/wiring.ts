/**
 * The composition root: which consumers follow the table's stream, which
 * kinds of job a process runs, and where jobs are dispatched. The core's
 * domains never reach each other through the stream or the job runner;
 * they are put together here, once, for every entry point (the HTTP app,
 * the stream Lambda, the job worker, `npm start`, tests).
 */
import {
  codeEventOf,
  erasureJob,
  codeHistoryConsumer,
  followLocalStream,
  generationJob,
  inProcessJobDispatcher,
  migrationJob,
  sqsJobDispatcher,
  useJobDispatcher,
  webhookConsumers,
  type ChangeConsumer,
  type ChangeFollower,
  type CoreContext,
  type JobKinds,
} from '@coupons/core';

/** Every kind of background job, by the job record's `kind`. */
export const JOB_KINDS: JobKinds = { generation: generationJob, migration: migrationJob, erasure: erasureJob };

/**
 * Everything that reacts to the table's committed writes, in the order each
 * batch is handed to them. The local follower and the AWS stream Lambda both
 * run exactly this list.
 */
export function changeConsumers(core: CoreContext): ChangeConsumer[] {
  // Webhooks last: their consumer waits for events to be a second old (docs/webhooks.md), history need not.
  return [codeHistoryConsumer(core.store), ...webhookConsumers(core, { codeEventOf }).consumers];
}

/**
 * The follower `npm start`, `sst dev` and the tests run: the app's consumers
 * (or the ones given) over the table's stream, checkpointed under `name`.
 */
export function followChanges(
  core: CoreContext,
  options: { name?: string; consumers?: readonly ChangeConsumer[]; idleMs?: number; log?: (l: Record<string, unknown>) => void } = {},
): ChangeFollower {
  return followLocalStream(core, { ...options, name: options.name ?? 'local', consumers: options.consumers ?? changeConsumers(core) });
}

/** Jobs go to the SQS queue when one is configured (AWS), and run in this process otherwise. */
export function wireJobs(core: CoreContext): void {
  const queueUrl = core.config.QUEUE_URL;
  useJobDispatcher(core, queueUrl ? sqsJobDispatcher(core, { queueUrl }) : inProcessJobDispatcher(core, { kinds: JOB_KINDS }));
}
