import { Entity } from 'electrodb';
import { INDEX } from '../db/table-definition.ts';
import { SERVICE, type EntityConfig } from './entity-config.ts';
import { holds, oneOf } from '../db/condition.ts';

export const JOB_STATUSES = ['queued', 'running', 'succeeded', 'failed'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

/** Queued or running: what keeps a job in the unfinished-jobs index, and what taking its lease and finishing it require. */
export const UNFINISHED_JOB = oneOf('status', ['queued', 'running'] satisfies JobStatus[]);

/**
 * The one partition of the `byOwner` index that lists every unfinished job of
 * every tenant, so a starting service finds the jobs to resume with one Query
 * instead of a table scan. It is the one key that does not start with a
 * tenant: only the job runner reads it, never a request, and it holds only
 * jobs that are queued or running (a handful), because the entry disappears
 * in the write that finishes the job.
 */
export const UNFINISHED_JOBS_PARTITION = 'SYS#JOBS#UNFINISHED';

/** The kinds of job; a new kind is a new value here and a `JobKind` in the composition root's JOB_KINDS. */
export const JOB_KIND_NAMES = ['generation', 'migration', 'erasure'] as const;
export type JobKindName = (typeof JOB_KIND_NAMES)[number];

/**
 * A background job. A generation job makes `total` codes drawn from
 * `pattern` into a book; a migration job brings the whole table, one Scan
 * segment per lane, to the shape `migration` expects (migrations/); an
 * erasure job replaces a person's id everywhere by their pseudonym, in
 * one pass over the whole table (erasure/). Progress
 * lives in its lanes (below), not here, so that lanes can commit in parallel
 * without contending for this item.
 *
 * The lease (`leaseOwner`, `leaseUntil`) keeps two runners from working the
 * same job at once; it is an efficiency measure only. Exactness comes from
 * the lanes' conditional progress.
 */
export const createJobEntity = (config: EntityConfig) =>
  new Entity(
    {
      model: { entity: 'job', version: '1', service: SERVICE },
      attributes: {
        tenant: { type: 'string', required: true, readOnly: true },
        jobId: { type: 'string', required: true, readOnly: true },
        kind: { type: JOB_KIND_NAMES, required: true, readOnly: true },
        // A generation job's: every generation job has them (never required of other kinds, so
        // records written before other kinds existed read as they always did).
        bookId: { type: 'string', readOnly: true },
        pattern: { type: 'string', readOnly: true },
        checkChar: { type: 'boolean', readOnly: true },
        /** A migration job's: which migration (its id in migrations/registry.ts), and in which phase. */
        migration: { type: 'string', readOnly: true },
        phase: { type: ['prepare', 'finish'] as const, readOnly: true },
        /**
         * An erasure job's: the person's id, held only while the job is unfinished (so that it can
         * resume); the write that finishes the job removes it, leaving only `pseudonym`.
         */
        userId: { type: 'string' },
        /** An erasure job's: what `userId` becomes everywhere (erased-users.ts), fixed when the job is queued. */
        pseudonym: { type: 'string', readOnly: true },
        /** An erasure job's: epoch ms before which it does not read the table (ERASURE_SETTLE_MS after the user was marked erased). */
        settleUntil: { type: 'number', readOnly: true },
        total: { type: 'number', required: true, readOnly: true },
        lanes: { type: 'number', required: true, readOnly: true },
        /** Codes per transaction (at most 98: one stats shard and the lane share the 100 items). */
        chunkSize: { type: 'number', required: true, readOnly: true },
        status: { type: JOB_STATUSES, required: true },
        /** The admin's `sub` (rewritten only by an erasure of that sub). */
        createdBy: { type: 'string', required: true },
        /** Sort key of the unfinished-jobs entry; also when the job was queued. */
        queuedAt: { type: 'string', required: true },
        startedAt: { type: 'string' },
        finishedAt: { type: 'string' },
        error: { type: 'string' },
        /** How many times a runner took the job up (1 unless it was resumed). */
        attempts: { type: 'number', required: true, default: 0 },
        leaseOwner: { type: 'string' },
        /** Epoch ms. */
        leaseUntil: { type: 'number' },
      },
      indexes: {
        byId: {
          pk: { field: 'pk', composite: ['tenant', 'jobId'], template: 'T#${tenant}#JOB#${jobId}', casing: 'none' },
          sk: { field: 'sk', composite: [], template: 'JOB', casing: 'none' },
        },
        unfinished: {
          index: INDEX.byOwner,
          // Sparse: present while queued or running, dropped by the write that finishes the job.
          condition: (attr) => holds(UNFINISHED_JOB, attr),
          pk: { field: 'gsi2pk', composite: [], template: UNFINISHED_JOBS_PARTITION, casing: 'none' },
          sk: { field: 'gsi2sk', composite: ['queuedAt', 'tenant', 'jobId'], template: '${queuedAt}#${tenant}#${jobId}', casing: 'none' },
        },
      },
    },
    config,
  );

/**
 * One lane of a job: a share of its total, committed chunk by chunk. A
 * migration lane is one Scan segment (`target` 1, `generated` 1 once it is
 * read to the end). Each generation chunk's codes, their stats and
 * `generated` move in one transaction whose
 * condition names the progress it started from (`generated = :before`), so
 * a lane resumed after a crash, or raced by a second runner, never counts a
 * chunk twice and never skips one. The job's progress is the sum of its lanes.
 */
export const createJobLaneEntity = (config: EntityConfig) =>
  new Entity(
    {
      model: { entity: 'jobLane', version: '1', service: SERVICE },
      attributes: {
        tenant: { type: 'string', required: true, readOnly: true },
        jobId: { type: 'string', required: true, readOnly: true },
        lane: { type: 'number', required: true, readOnly: true },
        target: { type: 'number', required: true, readOnly: true },
        generated: { type: 'number', required: true, default: 0 },
        /**
         * Chunks committed; picks the stats shard of the next chunk, so a resumed lane keeps the shards balanced.
         * A scan lane commits one Scan page per chunk, conditioned on this count.
         */
        chunks: { type: 'number', required: true, default: 0 },
        /** A scan lane's (jobs/scan-lanes.ts: migrations, erasures): where its Scan segment resumes (the last page's LastEvaluatedKey, as JSON). */
        cursor: { type: 'string' },
        /** A scan lane's: items its segment has read, and how many its job changed. */
        scanned: { type: 'number' },
        changed: { type: 'number' },
      },
      indexes: {
        byJob: {
          pk: { field: 'pk', composite: ['tenant', 'jobId'], template: 'T#${tenant}#JOB#${jobId}', casing: 'none' },
          sk: { field: 'sk', composite: ['lane'], template: 'LANE#${lane}', casing: 'none' },
        },
      },
    },
    config,
  );
