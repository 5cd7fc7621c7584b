/** Generation jobs: queued by a request, run in the background (in-process locally, through SQS on AWS), resumable. */
export { MAX_JOB_CODES, type JobRef, type JobView } from './model.ts';
export * from './dispatch.ts';
export { enqueueGeneration, getJob, listUnfinishedJobs, resumeUnfinishedJobs } from './jobs.ts';
export { runGenerationJob, processJobMessage, type RunOptions, type RunOutcome } from '../stock/generation-job.ts';
