/**
 * A job runner in its own process, for the crash test in test/jobs.test.ts: it runs one job and
 * prints a line per committed chunk, until the test kills it with SIGKILL (no cleanup, no lease
 * release: a crash).
 *
 *   tsx test/support/job-runner.ts <tenant> <jobId>   (env: DYNAMODB_ENDPOINT, TABLE_NAME, JOB_*)
 */
import { runGenerationJob } from '@coupons/core';
import { createCoreContext } from '@coupons/api';

const [tenant, jobId] = process.argv.slice(2);
const core = createCoreContext(process.env);
let chunks = 0;
const result = await runGenerationJob(core, { tenant: tenant!, jobId: jobId! }, { runnerId: `child-${process.pid}`, onChunk: () => console.log(`chunk ${++chunks}`) });
console.log(`done ${result.outcome}`);
