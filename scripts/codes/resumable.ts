/**
 * The run `load`, `export` and `generate` share: work that keeps how far it got in a checkpoint,
 * so that a run stopped any way (Ctrl-C, a kill, a failure) goes on when the same command runs
 * again. In order:
 *
 * 1. The API must answer at all before anything is written: a wrong address or a stopped server
 *    is one line and exit 1 at once, not minutes of retries, and leaves no checkpoint behind.
 * 2. `before`: what the command checks first (the book exists, the token may read it).
 * 3. --restart forgets the checkpoint and the files that go with it.
 * 4. A checkpoint found must be this run's (`resume` throws a UsageError if not); a completed one
 *    is reported again. Otherwise `start` makes one, written before the first request.
 * 5. `work` runs until it is done, fails (throws), or stops because Ctrl-C asked it to (again
 *    quits at once); it saves the checkpoint as it goes. Exit 0 done, 1 failed, 130 interrupted.
 */
import { rmSync } from 'node:fs';
import { createProgress } from '../lib/progress.ts';
import type { Common } from './args.ts';
import { readJson, writeJsonAtomic } from './checkpoint.ts';
import { assertReachable, createCodesApi, type CodesApi } from './http.ts';
import { onInterrupt } from './interrupt.ts';

export interface Checkpointed {
  completed: boolean;
}

type Progress = ReturnType<typeof createProgress>;

export interface RunContext<C> {
  readonly state: C;
  /** The checkpoint was an earlier run's. */
  readonly resumed: boolean;
  /** Writes the checkpoint as `state` now says (a no-op without one). */
  save(): void;
  /** The signal that asked the run to stop, or null. */
  readonly signal: NodeJS.Signals | null;
  readonly api: CodesApi;
  readonly progress: Progress;
}

export interface ResumableRun<C extends Checkpointed, R> {
  /** The checkpoint's path; null when the run keeps none (an export to standard output). */
  checkpoint: string | null;
  /** Files that belong to the checkpoint: --restart removes them with it. */
  companions?: string[];
  restart: boolean;
  /** Checks run against the API before any file is touched. */
  before?: (api: CodesApi) => Promise<void>;
  /** Accepts a checkpoint found on disk as this run's (and brings its files back to it), or throws a UsageError. */
  resume: (found: C) => void;
  start: () => C | Promise<C>;
  /** 'failed': the work ended and says so in its report (a generation job that failed), nothing to resume. */
  work: (run: RunContext<C>) => Promise<'done' | 'interrupted' | 'failed'>;
  report: (state: C) => { json: R; text: string };
  /** Where the report goes; default `common.print` (stdout). */
  print?: (report: { json: R; text: string }) => void;
  messages: {
    /** A completed checkpoint was found. */
    alreadyDone: (state: C) => string;
    /** Shown once, when Ctrl-C first arrives. */
    stopping: (signal: NodeJS.Signals) => string;
    interrupted: (state: C) => string;
    /** After `Stopped: <why>`: what the user can do. */
    afterFailure?: (state: C) => string | null;
  };
}

export async function runResumable<C extends Checkpointed, R>(common: Common, run: ResumableRun<C, R>): Promise<number> {
  await assertReachable(common.api);
  const api = createCodesApi(common.api, common.token);
  await run.before?.(api);
  const path = run.checkpoint;
  if (run.restart && path) for (const file of [path, ...(run.companions ?? [])]) rmSync(file, { force: true });

  const print = (state: C) => (run.print ?? ((r) => common.print(r.json, r.text)))(run.report(state));
  const found = path ? readJson<C>(path) : null;
  let state: C;
  if (found) {
    run.resume(found);
    state = found;
    if (state.completed) {
      common.log(run.messages.alreadyDone(state));
      print(state);
      return 0;
    }
  } else {
    state = await run.start();
  }
  const save = () => {
    if (path) writeJsonAtomic(path, state);
  };
  save();

  const progress = createProgress(common.progress);
  const interrupt = onInterrupt((signal) => {
    progress.done();
    common.log(run.messages.stopping(signal));
  });
  let outcome: 'done' | 'interrupted' | 'failed';
  try {
    outcome = await run.work({
      state,
      resumed: found !== null,
      save,
      api,
      progress,
      get signal() {
        return interrupt.signal;
      },
    });
  } catch (e) {
    progress.done();
    common.log(`Stopped: ${(e as Error).message}`);
    const hint = run.messages.afterFailure?.(state);
    if (hint) common.log(hint);
    print(state);
    return 1;
  } finally {
    interrupt.dispose();
  }
  if (outcome === 'interrupted') common.log(run.messages.interrupted(state));
  print(state);
  return outcome === 'done' ? 0 : outcome === 'interrupted' ? 130 : 1;
}
