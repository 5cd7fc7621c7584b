/**
 * `npm run codes -- <command>`: bulk codes through the HTTP API, locally or against a deployed
 * stage. One module per command in scripts/codes/; every HTTP call in scripts/codes/http.ts.
 *
 * package.json runs this with `node --import tsx` rather than the `tsx` wrapper: the wrapper
 * relays Ctrl-C to its child and SIGKILLs the child when it does not acknowledge within 30 ms,
 * which a busy load can miss. The duplicate signals npm itself relays are handled in
 * scripts/codes/interrupt.ts.
 */
import { commandHelp, COMMON_OPTIONS, UsageError, parseCommand, str, type Command, type Common } from './codes/args.ts';
import { exportCommand } from './codes/export.ts';
import { generateCommand } from './codes/generate.ts';
import { loadCommand } from './codes/load.ts';
import { progressMode } from './lib/progress.ts';

const COMMANDS: Command[] = [loadCommand, generateCommand, exportCommand];

function overview(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length)) + 2;
  return [
    'npm run codes -- <command> [options]',
    '',
    'Bulk codes through the API: locally (npm start) or against a deployed stage.',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}${c.summary}`),
    '',
    'The credential comes from COUPONS_API_KEY (an admin API key, cbk_…: POST /api-keys) or',
    'COUPONS_TOKEN (an admin JWT; `npm start` prints one), the key winning when both are set, and',
    'the API from COUPONS_API (default http://localhost:3000). --token takes either too, but npm',
    'echoes the command line it runs, so a credential given as a flag lands in your scrollback and CI logs.',
    '',
    `Common options: ${Object.keys(COMMON_OPTIONS).map((o) => `--${o}`).join(' ')}`,
    'npm run codes -- <command> --help   shows a command\'s options.',
    '',
  ].join('\n');
}

const wantsHelp = (args: string[]) => args.some((a) => a === '--help' || a === '-h');

async function main(argv: string[]): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined) {
    process.stderr.write(overview());
    return 2;
  }
  if (first === 'help' || first === '--help' || first === '-h') {
    const named = COMMANDS.find((c) => c.name === rest[0]);
    process.stdout.write(named ? commandHelp(named) : overview());
    return 0;
  }
  const command = COMMANDS.find((c) => c.name === first);
  if (!command) throw new UsageError(`unknown command ${JSON.stringify(first)}: use ${COMMANDS.map((c) => c.name).join(' or ')} (npm run codes -- --help)`);
  // Help wins over everything else on the line, even flags that would not parse.
  if (wantsHelp(rest)) {
    process.stdout.write(commandHelp(command));
    return 0;
  }
  const values = parseCommand(command, rest);
  const flagToken = str(values, 'token');
  // Empty counts as unset: `COUPONS_TOKEN= npm run codes …` switches a variable off.
  const envKey = process.env.COUPONS_API_KEY || undefined;
  const envToken = process.env.COUPONS_TOKEN || undefined;
  const token = flagToken ?? envKey ?? envToken;
  if (!token) {
    throw new UsageError('an admin API key or token is needed: export COUPONS_API_KEY=<cbk_…> or COUPONS_TOKEN=<jwt> (npm start prints an admin token as ADMIN)');
  }
  if (flagToken && process.env.npm_lifecycle_event === 'codes') process.stderr.write('note: npm echoed --token in its command line; COUPONS_API_KEY or COUPONS_TOKEN keeps it out of the output\n');
  if (!flagToken && envKey && envToken) process.stderr.write('note: COUPONS_API_KEY and COUPONS_TOKEN are both set; using COUPONS_API_KEY\n');
  const requested = str(values, 'progress');
  if (requested !== undefined && !['bar', 'lines', 'none'].includes(requested)) throw new UsageError('--progress must be bar, lines or none');
  const json = values.json === true;
  const common: Common = {
    api: str(values, 'api') ?? (process.env.COUPONS_API || 'http://localhost:3000'),
    token,
    progress: progressMode(requested, process.stderr),
    json,
    log: (line) => process.stderr.write(`${line}\n`),
    print: (report, text) => process.stdout.write(`${json ? JSON.stringify(report) : text}\n`),
  };
  return command.run(values, common);
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e) => {
    if (e instanceof UsageError) {
      process.stderr.write(`codes: ${e.message}\n`);
      process.exit(2);
    }
    process.stderr.write(`codes: ${(e as Error).message}\n`);
    process.exit(1);
  },
);
