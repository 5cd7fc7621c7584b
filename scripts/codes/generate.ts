/**
 * `npm run codes -- generate`: up to 10,000 codes are made in the request; more start a job on
 * the server, which the CLI follows (GET /jobs/{id}) until it ends. Stopping the CLI never stops
 * the job: the request's Idempotency-Key and the job id are kept in a checkpoint, so the same
 * command follows the same job again.
 */
import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { formatCount, formatDuration } from '../lib/progress.ts';
import { createRate } from '../lib/rate.ts';
import { int, str, UsageError, type Command, type Common, type Values } from './args.ts';
import type { Job } from './http.ts';
import { runResumable, type RunContext } from './resumable.ts';

interface GenerateCheckpoint {
  version: 1;
  command: 'generate';
  bookId: string;
  count: number;
  pattern?: string;
  checkChar?: boolean;
  key: string;
  jobId?: string;
  completed: boolean;
  result?: GenerateReport;
}

export interface GenerateReport {
  command: 'generate';
  bookId: string;
  status: Job['status'];
  generated: number;
  total: number;
  pattern?: string;
  checkChar?: boolean;
  /** Absent when the codes were made in the request. */
  jobId?: string;
  startedAt?: string | null;
  finishedAt?: string;
  error?: string;
  /** A few of the codes, when they were made in the request. */
  sample?: string[];
  /** Codes generated while this run was following the job, and for how long. */
  generatedThisRun?: number;
  seconds?: number;
}

export const generateCommand: Command = {
  name: 'generate',
  summary: 'Generate codes in a book from a pattern: in the request up to 10,000, else as a job the CLI follows.',
  usage: 'generate --book <id> --count <n> [--pattern <p>] [--check-char] [options]',
  options: {
    book: { type: 'string', value: '<id>', description: 'the book (required)' },
    count: { type: 'string', value: '<n>', description: 'codes to generate, 1..10,000,000 (required)' },
    pattern: { type: 'string', value: '<p>', description: "# digit, ? letter, * either, anything else literal (default: the book's codePattern)" },
    'check-char': { type: 'boolean', description: 'append _ and a check character to every code' },
    checkpoint: { type: 'string', value: '<path>', description: 'where the job id is kept (default ./codes-generate-<book>.checkpoint.json)' },
    restart: { type: 'boolean', description: 'forget the checkpoint and start another generation' },
  },
  notes: [
    'Ctrl-C stops following, never the job; run the same command to follow it again.',
    'Exit codes: 0 done, 1 refused or the job failed, 2 bad usage, 130 interrupted (the job runs on).',
  ].join('\n'),
  run: generate,
};

async function generate(values: Values, common: Common): Promise<number> {
  const bookId = str(values, 'book');
  if (!bookId || values.count === undefined) throw new UsageError('generate needs --book <id> and --count <n>');
  const count = int(values, 'count', 0, 1, 10_000_000);
  const pattern = str(values, 'pattern');
  const checkChar = values['check-char'] === true ? true : undefined;
  const cpPath = resolve(str(values, 'checkpoint') ?? `codes-generate-${bookId}.checkpoint.json`);
  const sameGeneration = (cp: GenerateCheckpoint) => cp.bookId === bookId && cp.count === count && cp.pattern === pattern && cp.checkChar === checkChar;
  const fresh = (): GenerateCheckpoint => ({ version: 1, command: 'generate', bookId, count, pattern, checkChar, key: `codes-generate-${randomUUID()}`, completed: false });
  // Until the answer says otherwise: what was asked.
  const asked = (): GenerateReport => ({ command: 'generate', bookId, status: 'queued', generated: 0, total: count, pattern, checkChar });

  return runResumable<GenerateCheckpoint, GenerateReport>(common, {
    checkpoint: cpPath,
    restart: values.restart === true,
    resume(cp) {
      if (sameGeneration(cp)) return;
      if (!cp.completed) throw new UsageError(`${cpPath} is for another generation (${cp.count} codes for book ${cp.bookId}); use --restart`);
      // Another generation that is over: this one starts afresh in its place.
      Object.assign(cp, fresh(), { jobId: undefined, result: undefined });
    },
    start: fresh,
    work: (run) => followGeneration(run, { bookId, count, pattern, checkChar, log: common.log }),
    report: (cp) => {
      const r = cp.result ?? asked();
      return { json: r, text: generateReportText(r) };
    },
    messages: {
      alreadyDone: () => `Already done (per ${cpPath}); --restart generates again.`,
      stopping: () => 'Stopping: the job keeps running on the server…',
      interrupted: () => 'The job keeps running on the server; run the same command to follow it again.',
    },
  });
}

/** Asks for the codes (once: the key is the checkpoint's), then follows the job, if one was started, until it ends. */
async function followGeneration(
  run: RunContext<GenerateCheckpoint>,
  ask: { bookId: string; count: number; pattern?: string; checkChar?: true; log: (line: string) => void },
): Promise<'done' | 'interrupted' | 'failed'> {
  const { state, api, progress } = run;
  const { bookId, count, pattern, checkChar } = ask;
  if (!state.jobId) {
    const answer = await api.generateCodes({ bookId, count, ...(pattern ? { pattern } : {}), ...(checkChar ? { checkChar } : {}) }, state.key);
    if (answer.status === 201) {
      state.completed = true;
      state.result = { command: 'generate', bookId, status: 'succeeded', generated: answer.generated, total: count, pattern, checkChar, sample: answer.codes.slice(0, 5) };
      run.save();
      return 'done';
    }
    state.jobId = answer.jobId;
    run.save();
    ask.log(`Job ${state.jobId} queued for ${formatCount(count)} codes.`);
  } else {
    ask.log(`Following job ${state.jobId} again.`);
  }

  // Only codes made while this run follows the job count towards the rate.
  const rate = createRate();
  let seen: number | null = null;
  for (;;) {
    const job = await api.getJob(state.jobId);
    if (seen !== null) rate.add(job.generated - seen);
    seen = job.generated;
    const perSecond = rate.perSecond();
    const shown = {
      fraction: job.total ? job.generated / job.total : 0,
      rate: perSecond,
      etaSeconds: perSecond ? (job.total - job.generated) / perSecond : null,
      detail: `${job.status} ${formatCount(job.generated)}/${formatCount(job.total)}`,
    };
    state.result = {
      command: 'generate',
      bookId,
      jobId: job.id,
      status: job.status,
      generated: job.generated,
      total: job.total,
      pattern: job.pattern ?? pattern,
      checkChar: job.checkChar ?? checkChar,
      startedAt: job.startedAt,
      finishedAt: job.finishedAt,
      error: job.error,
      generatedThisRun: rate.done,
      seconds: Number(rate.seconds.toFixed(3)),
    };
    if (job.status === 'succeeded' || job.status === 'failed') {
      progress.done(shown);
      state.completed = job.status === 'succeeded';
      run.save();
      return job.status === 'succeeded' ? 'done' : 'failed';
    }
    progress.update(shown);
    if (run.signal) {
      progress.done(shown);
      return 'interrupted';
    }
    // Sleep in short steps so that Ctrl-C is answered at once.
    for (let waited = 0; waited < 1000 && !run.signal; waited += 100) await sleep(100);
  }
}

function generateReportText(r: GenerateReport): string {
  const where = r.jobId ? `job ${r.jobId}` : 'in the request';
  const head =
    r.status === 'succeeded'
      ? `Generated ${formatCount(r.generated)} codes in book ${r.bookId} (${where})`
      : r.status === 'failed'
        ? `Generation failed in book ${r.bookId} (${where}): ${r.error ?? 'no reason given'}`
        : `Still ${r.status}: ${where} in book ${r.bookId} (it keeps running; run the same command to follow it)`;
  const lines = [head, `  generated   ${formatCount(r.generated)} of ${formatCount(r.total)}`];
  if (r.pattern) lines.push(`  pattern     ${r.pattern}${r.checkChar ? ' + check character' : ''}`);
  else if (r.checkChar) lines.push(`  pattern     the book's, + check character`);
  if (r.startedAt && r.finishedAt) {
    const took = (Date.parse(r.finishedAt) - Date.parse(r.startedAt)) / 1000;
    lines.push(`  job ran     ${formatDuration(took)} (${r.startedAt} to ${r.finishedAt})`);
  }
  if (r.sample?.length) lines.push(`  first codes ${r.sample.join(', ')}${r.generated > r.sample.length ? ', …' : ''}`);
  if (r.seconds && r.generatedThisRun) {
    lines.push(`  ${formatCount(r.generatedThisRun)} codes while following, in ${formatDuration(r.seconds)} (${formatCount(r.generatedThisRun / r.seconds)}/s)`);
  }
  return lines.join('\n');
}
