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
  const { raw, load, job, apiOnly, memory, stub } = output;
  const follower = (p: { followerRetries?: number }) => (p.followerRetries ? `; the follower retried ${p.followerRetries} failed batch(es)` : '');
  const section = [
    '## load',
    '',
    `Run ${output.when} with \`npm run bench:load${run.args.length ? ` -- ${run.args.join(' ')}` : ''}\`: Node ${output.node}, ${output.cpus}, ` +
      `1-minute load average ${output.loadAvg1m.join(', ')} at the start and after each phase (raw, load, job, API alone, raw). ` +
      `Each phase on a DynamoDB Local of its own (in memory), warmed by ${f(run.warmUp)} raw puts on a stream-less table deleted before the phase; ` +
      'every measured table made as `npm start` makes its own (same indexes, change stream on).',
    '',
    '| phase | codes | seconds | codes/s | of raw |',
    '|---|---|---|---|---|',
    `| raw: TransactWriteItems of 100 conditional puts, ${run.rawConcurrency} in flight, nothing reading the stream (faster of runs before and after: ${raw.runs.map(f).join(' and ')} codes/s) | ${f(raw.codes)} | ${raw.seconds} | ${f(raw.codesPerSec)} | 1 |`,
    `| **the user's path**: \`npm start\` (its follower reading the stream), then \`npm run codes -- load\` with what it printed (chunks of ${run.chunkSize}, ${run.parallel} in flight) | ${f(load.codes)} | ${load.seconds} | **${f(load.codesPerSec)}** | **${load.ratioToRaw}** |`,
    `| a generation job on \`npm start\` (${job.lanes} lanes, ${job.chunkSize} codes a transaction, follower on) | ${f(job.codes)} | ${job.seconds} | ${f(job.codesPerSec)} | ${job.ratioToRaw} |`,
    `| for comparison: the same CLI load against the API alone, nothing reading the stream | ${f(apiOnly.codes)} | ${apiOnly.seconds} | ${f(apiOnly.codesPerSec)} | ${apiOnly.ratioToRaw} |`,
    '',
    `The CLI reported, on the user's path, ${f(load.reported.inserted)} inserted and ${f(load.reported.duplicates)} duplicates${follower(load)}; ` +
      `against the API alone, ${f(apiOnly.reported.inserted)} and ${f(apiOnly.reported.duplicates)}. The job${follower(job) || ': no follower retries'}.`,
    '',
    memory
      ? `Peak memory of the CLI process (maxRSS) loading a ${f(memory.lines)}-line file (${memory.fileMiB} MiB, API alone): **${memory.cliPeakRssMiB} MiB** ` +
        `(${f(memory.codesPerSec)} codes/s over ${memory.seconds} s; the ${f(load.codes)}-code run peaked at ${load.cliPeakRssMiB} MiB).`
      : `Peak memory of the CLI for the ${f(load.codes)}-code run: ${load.cliPeakRssMiB} MiB (no memory run).`,
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
