import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * (Re)writes the `## load` section of bench/RESULTS.md from one `bench/load.ts` run, in place:
 * the sections other benchmarks write, and earlier runs kept under other headings, stay.
 */
export function writeLoadSection(
  output: Record<string, any>,
  run: { args: string[]; chunkSize: number; parallel: number; rawConcurrency: number; warmUp: number },
): string {
  const path = fileURLToPath(new URL('../RESULTS.md', import.meta.url));
  const f = (n: number) => n.toLocaleString('en-US');
  const { raw, rounds, memory, stub } = output as { raw: any; rounds: any[]; memory?: any; stub?: any };
  const perRound = (name: string) => rounds.map((r) => `${f(r[name].codesPerSec)} (${r[name].ratioToRaw})`).join(' · ');
  const retries = rounds.flatMap((r) => [r.load.followerRetries ?? 0, r.job.followerRetries ?? 0]).reduce((a, b) => a + b, 0);
  const reported = rounds.map((r) => `${f(r.load.reported.inserted)} inserted, ${f(r.load.reported.duplicates)} duplicates`).join('; ');
  const section = [
    '## load',
    '',
    `Run ${output.when} with \`npm run bench:load${run.args.length ? ` -- ${run.args.join(' ')}` : ''}\`: Node ${output.node}, ${output.cpus}; ` +
      `1-minute load average ${output.loadAvg1m.join(', ')} at the start and after each phase. ` +
      `Each phase on a DynamoDB Local of its own (in memory), warmed by ${f(run.warmUp)} raw puts on a stream-less table deleted before the phase; ` +
      `every measured table made as \`npm start\` makes its own (same indexes, change stream on). ${f(raw.codes)} codes a phase.`,
    '',
    `Codes per second in each round, and in brackets the ratio to the mean of the two raw runs around that round:`,
    '',
    '| phase | codes/s (of raw), by round | median of raw |',
    '|---|---|---|',
    `| raw: TransactWriteItems of 100 conditional puts, ${run.rawConcurrency} in flight, nothing reading the stream | ${raw.runs.map(f).join(' · ')} (first, then after each round) | 1 |`,
    `| **the user's path**: \`npm start\` (its follower reading the stream), then \`npm run codes -- load\` with the COUPONS_API and token it printed (chunks of ${run.chunkSize}, ${run.parallel} in flight) | ${perRound('load')} | **${output.load.medianRatioToRaw}** |`,
    `| a generation job on \`npm start\` (${rounds[0].job.lanes} lanes, ${rounds[0].job.chunkSize} codes a transaction, follower on) | ${perRound('job')} | ${output.job.medianRatioToRaw} |`,
    `| for comparison: the same CLI load against the API alone, nothing reading the stream | ${perRound('apiOnly')} | ${output.apiOnly.medianRatioToRaw} |`,
    '',
    `The CLI's reports on the user's path: ${reported}. The follower retried ${retries} failed batch(es) in all.`,
    '',
    memory
      ? `Peak memory of the CLI process (maxRSS) loading a ${f(memory.lines)}-line file (${memory.fileMiB} MiB, API alone): **${memory.cliPeakRssMiB} MiB** ` +
        `(${f(memory.codesPerSec)} codes/s over ${memory.seconds} s; the ${f(raw.codes)}-code load peaked at ${rounds[0].load.cliPeakRssMiB} MiB).`
      : `Peak memory of the CLI in the ${f(raw.codes)}-code load: ${rounds.map((r) => r.load.cliPeakRssMiB).join(', ')} MiB (no memory run).`,
    ...(stub
      ? [
          '',
          `The CLI alone at ${f(stub.lines)} lines (${stub.fileMiB} MiB), against a stub API that answers every upload at once and writes nothing: ` +
            `**${stub.cliPeakRssMiB} MiB** peak RSS, ${f(stub.linesPerSec)} lines/s.`,
        ]
      : []),
    '',
    `All figures verified against the tables (every code present once, stats equal, every code reported inserted): ${output.verified}.`,
    '',
  ].join('\n');
  // Re-read right before writing: other benchmarks write their own sections of this file.
  let text = '';
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    text = '# Benchmark results\n';
  }
  const start = text.search(/^## load\s*$/m);
  if (start >= 0) {
    const rest = text.slice(start + 1);
    const next = rest.search(/^## /m);
    text = text.slice(0, start) + section + (next >= 0 ? `\n${rest.slice(next)}` : '');
  } else {
    text = `${text.trimEnd()}\n\n${section}`;
  }
  writeFileSync(path, text.endsWith('\n') ? text : `${text}\n`);
  return path;
}
