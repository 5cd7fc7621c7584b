/** What a job is, whatever its kind: its record, its lanes of exact progress, and how a kind runs. */
import type { CoreContext } from '../context.ts';
import type { JobStatus } from '../entities/job.ts';

export interface JobRef {
  tenant: string;
  jobId: string;
}

/** What GET /jobs/{jobId} answers for a generation job (unchanged since before other kinds existed: no `kind`). */
export interface GenerationJobView {
  id: string;
  bookId: string;
  status: JobStatus;
  /** Codes committed so far: exact, summed from the lanes. */
  generated: number;
  total: number;
  pattern: string;
  checkChar: boolean;
  createdAt: string;
  /** When a runner first took the job up; null while it is queued. */
  startedAt: string | null;
  finishedAt?: string;
  error?: string;
}

/** What GET /jobs/{jobId} answers for an erasure job: its pass over the table, exact per committed page. */
export interface ErasureJobView {
  id: string;
  kind: 'erasure';
  status: JobStatus;
  /** What the user's id became everywhere: the name their codes, redemptions and history now carry. */
  pseudonym: string;
  /** Parallel segments of the table, and how many have been read to the end. */
  lanes: number;
  lanesDone: number;
  /** Items read so far. */
  scanned: number;
  /** Items rewritten (or moved) to name the pseudonym instead. */
  erased: number;
  createdAt: string;
  startedAt: string | null;
  finishedAt?: string;
  error?: string;
}

/** What GET /jobs/{jobId} answers, by the job's kind. */
export type JobView = GenerationJobView | ErasureJobView;

export type JobRecord = Record<string, any> & {
  tenant: string;
  jobId: string;
  kind: string;
  bookId: string;
  pattern: string;
  checkChar: boolean;
  total: number;
  lanes: number;
  chunkSize: number;
  status: JobStatus;
  queuedAt: string;
};

export type LaneRecord = { tenant: string; jobId: string; lane: number; target: number; generated: number; chunks: number };

export const iso = (ms: number) => new Date(ms).toISOString();
export const isFinished = (status: JobStatus) => status === 'succeeded' || status === 'failed';

export interface RunOptions {
  /** Identifies this runner in the job's lease; a fresh one per call by default. */
  runnerId?: string;
  /** Epoch ms after which no new chunk starts (a Lambda's remaining time); the job stays resumable. */
  deadline?: number;
  /** Aborting stops the job after the chunks in flight, leaving it resumable. */
  signal?: AbortSignal;
  /** Called after each committed chunk (progress display, tests). */
  onChunk?: (info: { lane: number; generated: number; chunks: number }) => void;
}

export type RunOutcome =
  /** Every lane reached its target. */
  | 'succeeded'
  | 'failed'
  /** Stopped early (deadline, signal, lease lost); resumable. */
  | 'paused'
  /** Another runner holds the lease until `leaseUntil`. */
  | 'busy'
  | 'missing';

export interface RunResult {
  outcome: RunOutcome;
  leaseUntil?: number;
}

/** The job cannot succeed (its book is gone, its input refused): it is marked failed with this message. */
export class JobFailure extends Error {}

/**
 * What one kind of job does while its runner holds the lease: work until
 * done (true) or until `shouldStop` says so (false, resumable). Throwing
 * `JobFailure` fails the job; any other error leaves it to be retried.
 */
export interface JobKind {
  work(ctx: CoreContext, job: JobRecord, control: { shouldStop: () => boolean; options: RunOptions }): Promise<boolean>;
  /** Attributes the job's record holds only while it is unfinished: the write that finishes the job removes them. */
  transient?: readonly string[];
}

/** The kinds a process can run, by the job record's `kind`: wired by the composition root. */
export type JobKinds = Readonly<Record<string, JobKind>>;

/** The message a job's queue carries: the job's kind and its key. */
export interface JobMessage {
  type: string;
  tenant: string;
  jobId: string;
}
