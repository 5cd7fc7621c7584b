import { readFileSync } from 'node:fs';

/** Progress lines on stderr, `[bench:name] …`; stdout is kept for the result. */
export const logger = (name: string) => (msg: string) => process.stderr.write(`[bench:${name}] ${msg}\n`);

export const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;

/** The p-th percentile of an ascending list (null when empty). */
export function percentile(sorted: number[], p: number): number | null {
  if (!sorted.length) return null;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return round(sorted[i]!);
}

/** Runs `workers` concurrent loops, each calling `fn` until it returns false (the loops share the caller's counters). */
export async function pool(workers: number, fn: (worker: number) => Promise<boolean>): Promise<void> {
  await Promise.all(
    Array.from({ length: workers }, async (_, w) => {
      while (await fn(w));
    }),
  );
}

/** CPU time (ms) of this process and of DynamoDB Local's Java process so far: where a phase's time goes. */
export function cpuNow(javaPid: number | undefined): { node: number; dynamoLocal: number | null } {
  const { user, system } = process.cpuUsage();
  let dynamoLocal: number | null = null;
  try {
    // /proc/<pid>/stat fields 14 and 15: utime and stime in clock ticks (100 a second on Linux).
    const fields = readFileSync(`/proc/${javaPid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    dynamoLocal = ((Number(fields[11]) + Number(fields[12])) / 100) * 1000;
  } catch {
    // Not Linux, or no pid: report Node's share only.
  }
  return { node: (user + system) / 1000, dynamoLocal };
}

/** CPU ms per operation of a phase, from two cpuNow() readings. */
export function cpuPerOp(before: ReturnType<typeof cpuNow>, after: ReturnType<typeof cpuNow>, ops: number) {
  const per = (a: number | null, b: number | null) => (a === null || b === null || !ops ? null : round((b - a) / ops, 2));
  return { nodeMs: per(before.node, after.node), dynamoLocalMs: per(before.dynamoLocal, after.dynamoLocal) };
}
