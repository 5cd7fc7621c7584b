/**
 * One chunk of a load: what the CLI refuses itself (overlong codes, repeats within the chunk),
 * the request with its Idempotency-Key, and the answer mapped back to line numbers.
 */
import { createHash } from 'node:crypto';
// The code rule alone, not the whole core (the AWS SDK, ElectroDB): the CLI stays light.
import { checkCode } from '@coupons/core/code-format';
import type { Chunk } from '../lib/code-file.ts';
import type { CodesApi } from './http.ts';

export interface Reject {
  line: number;
  kind: 'duplicate' | 'invalid';
  code: string;
  reason: string;
}

export interface ChunkResult {
  chunk: Chunk;
  inserted: number;
  rejects: Reject[];
  /** Answered from the server's idempotency record: an earlier run did this chunk's work. */
  replayed: boolean;
}

/** What identifies a load: the same run, file, book and chunk size give every chunk the same key. */
export interface LoadIdentity {
  runId: string;
  file: { path: string; size: number; mtimeMs: number };
  bookId: string;
  chunkSize: number;
}

export function chunkKey(load: LoadIdentity, index: number): string {
  const hash = createHash('sha256')
    .update([load.runId, load.file.path, load.file.size, load.file.mtimeMs, load.bookId, load.chunkSize, index].join('|'))
    .digest('hex');
  return `codes-load-${hash.slice(0, 48)}`;
}

export async function sendChunk(api: CodesApi, load: LoadIdentity, chunk: Chunk, onRetry: (why: string) => void): Promise<ChunkResult> {
  const rejects: Reject[] = [];
  const sent: { line: number; code: string }[] = [];
  const firstLineOf = new Map<string, number>();
  for (const e of chunk.entries) {
    const checked = checkCode(e.code);
    // Refused here, not sent: the API takes at most 256 characters a code and 1 MiB a request,
    // so one overlong line must not fail its whole chunk.
    if (!checked.ok && e.code.length > 64) {
      rejects.push({ line: e.line, kind: 'invalid', code: e.code.length > 80 ? `${e.code.slice(0, 77)}...` : e.code, reason: checked.reason });
      continue;
    }
    if (checked.ok) {
      const seen = firstLineOf.get(checked.code);
      if (seen !== undefined) {
        rejects.push({ line: e.line, kind: 'duplicate', code: checked.code, reason: `repeats line ${seen}` });
        continue;
      }
      firstLineOf.set(checked.code, e.line);
    }
    sent.push(e);
  }
  if (!sent.length) return { chunk, inserted: 0, rejects, replayed: false };
  const answer = await api.uploadCodes(
    load.bookId,
    sent.map((s) => s.code),
    chunkKey(load, chunk.index),
    onRetry,
  );
  // Invalid codes come back in the order they were sent: walk both lists together.
  let j = 0;
  for (const inv of answer.invalid) {
    let k = j;
    while (k < sent.length && sent[k]!.code !== inv.code) k++;
    if (k >= sent.length) k = sent.findIndex((s) => s.code === inv.code);
    const line = k >= 0 ? sent[k]!.line : 0;
    if (k >= 0) j = k + 1;
    rejects.push({ line, kind: 'invalid', code: inv.code, reason: inv.reason });
  }
  for (const dup of answer.duplicates) {
    rejects.push({ line: firstLineOf.get(dup) ?? 0, kind: 'duplicate', code: dup, reason: 'already exists' });
  }
  rejects.sort((a, b) => a.line - b.line);
  return { chunk, inserted: answer.inserted, rejects, replayed: answer.replayed };
}
