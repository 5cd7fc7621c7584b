import { useState } from 'preact/hooks';
import { unwrap } from '@coupons/client';
import { useApi } from '../api/client.ts';
import { chunks, parseCodeFile } from '../lib/code-file.ts';
import { count } from '../lib/format.ts';
import { ErrorMessage } from './error-message.tsx';

/** Files past this go through the CLI (`npm run codes -- load`), which streams and resumes. */
const MAX_FILE_BYTES = 50 * 1024 * 1024;

interface Progress {
  requests: number;
  done: number;
  codes: number;
  sent: number;
  inserted: number;
  duplicates: string[];
  invalid: { code: string; reason: string }[];
  blank: number;
}

/** A file of codes, sent in requests of up to 5,000 codes, one after another, with progress. */
export function UploadCodes({ bookId, onProgress }: { bookId: string; onProgress: () => void }) {
  const client = useApi();
  const [progress, setProgress] = useState<Progress>();
  const [running, setRunning] = useState(false);
  const [error, setError] = useState<unknown>();

  async function upload(e: Event) {
    e.preventDefault();
    const file = (new FormData(e.currentTarget as HTMLFormElement).get('file') as File | null) ?? undefined;
    if (!file || file.size === 0) return setError(new Error('Choose a file with codes first.'));
    if (file.size > MAX_FILE_BYTES) return setError(new Error('The file is over 50 MB: load it with the CLI (npm run codes -- load), which streams it and resumes.'));
    setError(undefined);
    setRunning(true);
    const parsed = parseCodeFile(await file.text());
    const parts = chunks(parsed.codes);
    let p: Progress = { requests: parts.length, done: 0, codes: parsed.codes.length, sent: 0, inserted: 0, duplicates: [], invalid: [], blank: parsed.blank };
    setProgress(p);
    try {
      for (const part of parts) {
        const r = await unwrap(client.coupons.codes.$post({ json: { bookId, codes: part } }));
        p = { ...p, done: p.done + 1, sent: p.sent + part.length, inserted: p.inserted + r.inserted, duplicates: [...p.duplicates, ...r.duplicates], invalid: [...p.invalid, ...r.invalid] };
        setProgress(p);
        onProgress();
      }
    } catch (err) {
      setError(err);
    } finally {
      setRunning(false);
    }
  }

  return (
    <article class="tool">
      <h3>Upload a file</h3>
      <form onSubmit={upload}>
        <label>
          File of codes
          <input type="file" name="file" accept=".csv,.txt,.tsv,text/csv,text/plain" required aria-describedby="upload-help" />
        </label>
        <small id="upload-help">One code per line, or a CSV with a “code” column. Sent 5,000 codes a request.</small>
        <button type="submit" aria-busy={running} disabled={running}>
          Upload
        </button>
      </form>
      {progress ? (
        <div class="progress">
          <progress aria-label="Upload progress" value={progress.sent} max={Math.max(progress.codes, 1)} />
          <p aria-live="polite">
            {running ? 'Uploading: ' : progress.done === progress.requests ? 'Uploaded: ' : 'Stopped: '}
            {count(progress.sent)} of {count(progress.codes)} codes sent, request {count(progress.done)} of {count(progress.requests)}; added{' '}
            {count(progress.inserted)}, duplicates {count(progress.duplicates.length)}, invalid {count(progress.invalid.length)}.
          </p>
          {progress.duplicates.length || progress.invalid.length ? (
            <details>
              <summary>Codes not added</summary>
              <ul class="not-added">
                {progress.duplicates.slice(0, 100).map((c) => (
                  <li key={`d-${c}`}>
                    <code>{c}</code>: already exists
                  </li>
                ))}
                {progress.invalid.slice(0, 100).map((i, n) => (
                  <li key={`i-${n}`}>
                    <code>{i.code}</code>: {i.reason}
                  </li>
                ))}
              </ul>
            </details>
          ) : null}
        </div>
      ) : null}
      {error ? <ErrorMessage error={error} prefix={progress ? `Stopped after ${progress.done} of ${progress.requests} requests.` : undefined} /> : null}
    </article>
  );
}
