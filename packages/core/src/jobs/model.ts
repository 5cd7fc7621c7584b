/** What a generation job is, shared by its dispatch, its use cases and its runner. */
import type { JobStatus } from '../entities/job.ts';

/** The most codes one job may make. */
export const MAX_JOB_CODES = 10_000_000;

export interface JobRef {
  tenant: string;
  jobId: string;
}

/** What GET /jobs/{jobId} answers. */
export interface JobView {
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

export type JobRecord = Record<string, any> & {
  tenant: string;
  jobId: string;
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
