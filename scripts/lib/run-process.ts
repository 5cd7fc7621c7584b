import { spawn, type SpawnOptions } from 'node:child_process';

export interface ProcessResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Wall time from spawn to exit. */
  ms: number;
}

/** Runs a command to its end and collects what it printed (tests and benchmarks that drive a child process). */
export function runProcess(command: string, args: string[], options: Omit<SpawnOptions, 'stdio'> = {}): Promise<ProcessResult> {
  return new Promise((res, rej) => {
    const started = performance.now();
    const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    // Decoded as a stream: a character split between two chunks would otherwise become two wrong ones.
    child.stdout!.setEncoding('utf8');
    child.stderr!.setEncoding('utf8');
    child.stdout!.on('data', (d: string) => (stdout += d));
    child.stderr!.on('data', (d: string) => (stderr += d));
    child.on('error', rej);
    child.on('close', (code) => res({ code, stdout, stderr, ms: performance.now() - started }));
  });
}
