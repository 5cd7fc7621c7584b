import { spawn } from 'node:child_process';
import { once } from 'node:events';

/**
 * Runs `npm run codes`'s entry as the benchmarks drive it: against `base` with `token`, JSON
 * report on stdout (parsed and returned), progress lines relayed to stderr. `nodeArgs` go
 * before the script (e.g. a heap cap).
 */
export async function runCodesCli(base: string, token: string, args: string[], nodeArgs: string[] = []): Promise<any> {
  const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', 'scripts/codes.ts', ...args, '--api', base, '--token', token, '--json', '--progress', 'lines'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => process.stderr.write(`  cli: ${d}`));
  const [code] = await once(child, 'exit');
  if (code !== 0) throw new Error(`CLI exited ${code}`);
  return JSON.parse(stdout);
}
