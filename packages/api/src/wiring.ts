/**
 * The composition root: which consumers follow the table's stream, which
 * kinds of job a process runs, and where jobs are dispatched. The core's
 * domains never reach each other through the stream or the job runner;
 * they are put together here, once, for every entry point (the HTTP app,
 * the stream Lambda, the job worker, `npm start`, tests).
 */
import {
  activityCounter,
  codeEventsOf,
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
  type Log,
} from '@coupons/core';

/** Every kind of background job, by the job record's `kind`. */
export const JOB_KINDS: JobKinds = { generation: generationJob, migration: migrationJob, erasure: erasureJob };

/**
 * The stream's consumers in groups, each group handed every batch in order.
 * History (with the book's activity, counted in the same transactions, so each
 * change once: docs/activity.md) only writes the table and is quick; webhooks
 * wait for an event to be a second old before reading endpoints
 * (docs/webhooks.md) and then deliver. Locally each group follows the stream
 * on its own, so a chart does not trail the writes by the webhooks' wait.
 */
export function changeConsumerGroups(core: CoreContext): ConsumerGroup[] {
  return [
    { checkpointSuffix: '-history', consumers: [codeHistoryConsumer(core.store, { counter: activityCounter() })] },
    // The webhooks' follower keeps the plain name: where the single follower of earlier releases left off.
    { checkpointSuffix: '', consumers: webhookConsumers(core, { codeEventsOf }).consumers },
  ];
}

/** Consumers one local follower runs; it checkpoints under the follower's name and this suffix. */
export interface ConsumerGroup {
  checkpointSuffix: string;
  consumers: readonly ChangeConsumer[];
}

/**
 * Everything that reacts to the table's committed writes, in the order each
 * batch is handed to them: what the AWS stream Lambda runs (the local
 * followers run the same consumers, a group each).
 */
export function changeConsumers(core: CoreContext): ChangeConsumer[] {
  return changeConsumerGroups(core).flatMap((g) => g.consumers);
}

/**
 * What `npm start`, `sst dev` and the tests run: a follower of the table's
 * stream per group of the app's consumers (or one follower of the consumers
 * given), checkpointed under `name` and the group's suffix. History's follower
 * (`name-history`) is new in this release and starts from the stream's oldest
 * record: history is written, and counted, only once however often it reads a
 * change.
 */
export function followChanges(
  core: CoreContext,
  options: {
    name?: string;
    consumers?: readonly ChangeConsumer[];
    groups?: ConsumerGroup[];
    idleMs?: number;
    log?: Log;
  } = {},
): ChangeFollower {
  const name = options.name ?? 'local';
  const groups = options.consumers ? [{ checkpointSuffix: '', consumers: options.consumers }] : (options.groups ?? changeConsumerGroups(core));
  const followers = groups.map((g) => followLocalStream(core, { idleMs: options.idleMs, log: options.log, name: name + g.checkpointSuffix, consumers: g.consumers }));
  return {
    stop: async () => void (await Promise.all(followers.map((f) => f.stop()))),
    caughtUp: async () => void (await Promise.all(followers.map((f) => f.caughtUp()))),
  };
}

/** Jobs go to the SQS queue when one is configured (AWS), and run in this process otherwise. */
export function wireJobs(core: CoreContext): void {
  const queueUrl = core.config.QUEUE_URL;
  useJobDispatcher(core, queueUrl ? sqsJobDispatcher(core, { queueUrl }) : inProcessJobDispatcher(core, { kinds: JOB_KINDS }));
}
