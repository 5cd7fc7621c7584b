/**
 * Arguments of `npm run codes`: node:util's parseArgs in strict mode (a misspelt flag is an
 * error, never silently ignored), the options every command shares, and help generated from
 * the same option table that parses them, so the two cannot drift.
 */
import { parseArgs } from 'node:util';

/** Bad usage: the CLI prints the message and exits 2. */
export class UsageError extends Error {}

export interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
  /** Placeholder shown in help, e.g. `<id>`. */
  value?: string;
  description: string;
}
export type OptionTable = Record<string, OptionSpec>;

export interface Command {
  name: string;
  summary: string;
  usage: string;
  options: OptionTable;
  /** Paragraphs after the options in `--help`. */
  notes?: string;
  run(values: Values, common: Common): Promise<number>;
}

export type Values = Record<string, string | boolean | undefined>;

export interface Common {
  api: string;
  /** The bearer credential: an admin JWT or API key. */
  token: string;
  progress: 'bar' | 'lines' | 'none';
  json: boolean;
  log: (line: string) => void;
  /** Writes the final report: JSON with --json, else the command's text form. */
  print: (json: unknown, text: string) => void;
}

export const COMMON_OPTIONS: OptionTable = {
  api: { type: 'string', value: '<url>', description: 'the API; default $COUPONS_API, else http://localhost:3000 (npm start)' },
  token: {
    type: 'string',
    value: '<jwt|key>',
    description: 'an admin token or API key; default $COUPONS_API_KEY, else $COUPONS_TOKEN. Prefer the variables: npm echoes its command line, flags included',
  },
  progress: { type: 'string', value: 'bar|lines|none', description: 'progress on stderr (default: bar on a terminal, lines otherwise)' },
  json: { type: 'boolean', description: 'print the final report as one JSON object on stdout' },
  help: { type: 'boolean', short: 'h', description: 'show this help' },
};

/** Parses one command's flags; unknown flags, stray arguments and missing values are UsageErrors. */
export function parseCommand(command: Command, args: string[]): Values {
  const table = { ...command.options, ...COMMON_OPTIONS };
  const options = Object.fromEntries(Object.entries(table).map(([name, o]) => [name, { type: o.type, ...(o.short ? { short: o.short } : {}) }]));
  try {
    return parseArgs({ args, options, strict: true, allowPositionals: false }).values as Values;
  } catch (e) {
    throw new UsageError(explain(e as Error & { code?: string }, Object.keys(table), command.name));
  }
}

function explain(e: Error & { code?: string }, known: string[], command: string): string {
  const help = `see npm run codes -- ${command} --help`;
  if (e.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
    const flag = /'(-{1,2}[^']+)'/.exec(e.message)?.[1] ?? e.message;
    const near = closest(flag.replace(/^-+/, ''), known);
    return `unknown option ${flag}${near ? ` (did you mean --${near}?)` : ''}; ${help}`;
  }
  if (e.code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') {
    const arg = /'([^']*)'/.exec(e.message)?.[1] ?? '';
    return `unexpected argument ${JSON.stringify(arg)}: every value follows its --flag; ${help}`;
  }
  return `${e.message}; ${help}`;
}

/** The known option within two edits of what was typed, if exactly one is. */
function closest(typed: string, known: string[]): string | undefined {
  const near = known.filter((k) => distance(typed, k) <= 2);
  return near.length === 1 ? near[0] : undefined;
}

function distance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) next[j] = Math.min(row[j]! + 1, next[j - 1]! + 1, row[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    row = next;
  }
  return row[b.length]!;
}

export function str(values: Values, name: string): string | undefined {
  const v = values[name];
  return typeof v === 'string' ? v : undefined;
}

export function int(values: Values, name: string, fallback: number, min: number, max: number): number {
  const raw = str(values, name);
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || !Number.isInteger(n) || n < min || n > max) throw new UsageError(`--${name} must be an integer from ${min} to ${max}`);
  return n;
}

export function commandHelp(command: Command): string {
  const section = (title: string, table: OptionTable) => {
    const rows = Object.entries(table).map(([name, o]) => [`${o.short ? `-${o.short}, ` : '    '}--${name}${o.value ? ` ${o.value}` : ''}`, o.description]);
    const width = Math.max(...rows.map(([flag]) => flag!.length)) + 2;
    return `${title}:\n${rows.map(([flag, text]) => `  ${flag!.padEnd(width)}${text}`).join('\n')}`;
  };
  return [
    `npm run codes -- ${command.usage}`,
    '',
    command.summary,
    '',
    section('Options', command.options),
    '',
    section('Common options', COMMON_OPTIONS),
    ...(command.notes ? ['', command.notes] : []),
    '',
  ].join('\n');
}
