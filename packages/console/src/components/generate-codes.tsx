import { useEffect, useState } from 'preact/hooks';
import { unwrap } from '@coupons/client';
import { useApi } from '../api/client.ts';
import type { BookWithStats, GenerationJob } from '../api/types.ts';
import { count } from '../lib/format.ts';
import { useAction } from '../lib/use-action.ts';
import { ErrorMessage } from './error-message.tsx';

const JOB_POLL_MS = 1000;

type Outcome = { kind: 'inline'; generated: number; requested: number; codes: string[] } | { kind: 'job'; jobId: string };

/**
 * Codes from the book's pattern: up to 10,000 are made in the request and listed; more become a
 * job, followed here (GET /jobs/{id}) until it ends.
 */
export function GenerateCodes({ book, onProgress }: { book: BookWithStats; onProgress: () => void }) {
  const client = useApi();
  const [outcome, setOutcome] = useState<Outcome>();
  const { busy, error, run } = useAction();

  function generate(e: Event) {
    e.preventDefault();
    const form = new FormData(e.currentTarget as HTMLFormElement);
    const pattern = String(form.get('pattern') ?? '').trim();
    setOutcome(undefined);
    void run(async () => {
      const answer = await unwrap(
        client.coupons.codes.generate.$post({ json: { bookId: book.id, count: Number(form.get('count')), ...(pattern ? { pattern } : {}) } }),
      );
      if ('jobId' in answer) setOutcome({ kind: 'job', jobId: answer.jobId });
      else {
        setOutcome({ kind: 'inline', ...answer });
        onProgress();
      }
    });
  }

  return (
    <article class="tool">
      <h3>Generate codes</h3>
      <form onSubmit={generate}>
        <div class="grid">
          <label>
            Number of codes
            <input type="number" name="count" min={1} max={10_000_000} required inputMode="numeric" />
          </label>
          <label>
            Pattern
            <input name="pattern" placeholder={book.codePattern ?? 'the book’s pattern'} aria-describedby="generate-help" />
          </label>
        </div>
        <small id="generate-help">Up to 10,000 are made at once; more run as a job, followed here.</small>
        <button type="submit" aria-busy={busy} disabled={busy}>
          Generate
        </button>
      </form>
      {outcome?.kind === 'inline' ? (
        <div class="progress">
          <p aria-live="polite">
            Generated {count(outcome.generated)} of {count(outcome.requested)} codes.
          </p>
          <details>
            <summary>The new codes</summary>
            <textarea readOnly rows={6} aria-label="The new codes" value={outcome.codes.join('\n')} />
          </details>
        </div>
      ) : null}
      {outcome?.kind === 'job' ? <JobProgress jobId={outcome.jobId} onProgress={onProgress} /> : null}
      {error ? <ErrorMessage error={error} prefix="No codes were generated." /> : null}
    </article>
  );
}

function JobProgress({ jobId, onProgress }: { jobId: string; onProgress: () => void }) {
  const client = useApi();
  const [job, setJob] = useState<GenerationJob>();
  const [error, setError] = useState<unknown>();
  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const poll = async () => {
      try {
        const j = await unwrap(client.jobs[':jobId'].$get({ param: { jobId } }));
        if (stopped) return;
        if (!('generated' in j)) throw new Error(`job ${jobId} is not a generation`);
        setJob(j);
        setError(undefined);
        if (j.status === 'succeeded' || j.status === 'failed') return onProgress();
      } catch (err) {
        if (stopped) return;
        setError(err);
      }
      timer = setTimeout(() => void poll(), JOB_POLL_MS);
    };
    void poll();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [jobId]);

  return (
    <div class="progress">
      <progress aria-label="Generation progress" value={job?.generated ?? 0} max={Math.max(job?.total ?? 1, 1)} />
      <p aria-live="polite">
        {!job
          ? `Job ${jobId} started.`
          : job.status === 'succeeded'
            ? `Generated ${count(job.generated)} of ${count(job.total)} codes (job ${jobId}).`
            : job.status === 'failed'
              ? `The job failed after ${count(job.generated)} of ${count(job.total)} codes: ${job.error ?? 'no reason given'}.`
              : `Job ${jobId} ${job.status}: ${count(job.generated)} of ${count(job.total)} codes.`}
      </p>
      {error ? <ErrorMessage error={error} prefix="The job's progress could not be read; trying again." /> : null}
    </div>
  );
}
