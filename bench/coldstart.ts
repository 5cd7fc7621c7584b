/**
 * Cold start of the Lambda bundle: how big it is and how long a fresh Node process takes to load it.
 *
 *   npx tsx bench/coldstart.ts [--runs 7] [--against <git ref>] [--strict] [--no-write]
 *
 * Builds the bundle (scripts/build-lambda.ts) into bench/out/: AWS SDK bundled (the deployment)
 * with tracing on, as a deployed stage runs it (TRACING=true, in a Lambda-like environment, so
 * Powertools Tracer and the X-Ray SDK load and capture the DynamoDB client); the same with tracing
 * off; and the SDK left external, as the nodejs24.x runtime provides it. With --against, also the
 * bundle of that git ref (unpacked from git, built by its own build script): the variants are
 * measured in turn, round after round (A B A B ...), so a busy machine slows all of them alike.
 * Each run is a fresh `node` process that imports the bundle and reports:
 *   - importMs: from just before `import()` to the handler being exported, i.e. the module
 *     initialisation Lambda bills as Init (app, routes, DynamoDB client, tracer; no network);
 *   - firstRequestMs: the first invocation (GET /health through the handler) after that;
 *   - processMs: spawn to exit of the whole process, for scale.
 * Prints JSON, says on stderr which figures are over budget (`overBudget` in the JSON; --strict
 * exits 1 then), and appends a `## coldstart` section to bench/RESULTS.md with the load average.
 *
 * The external-SDK variant resolves @aws-sdk/* from this repository's node_modules, which is the
 * CommonJS build much like the runtime's copy; Lambda's own figures also include the runtime's
 * start and the zip download, which this machine cannot show.
 */
import { createCipheriv, randomBytes } from 'node:crypto';
import { appendFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import type { Metafile } from 'esbuild';
import { buildLambda, bundleSizes } from '../scripts/build-lambda.ts';
import { runProcess } from '../scripts/lib/run-process.ts';
import { baselineTree } from './lib/baseline-tree.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const RESULTS = join(ROOT, 'bench/RESULTS.md');
const BUDGET = { bytes: 1_000_000, importMs: 150 };

interface Sample {
  importMs: number;
  firstRequestMs: number;
  processMs: number;
}

// Runs in the child: time the import alone, then one invocation, and print one JSON line.
const CHILD = `
const t0 = performance.now();
const { handler } = await import(process.env.BUNDLE_URL);
const t1 = performance.now();
const p = '/health';
const res = await handler({
  version: '2.0', routeKey: '$default', rawPath: p, rawQueryString: '', headers: { host: 'bench.local' },
  requestContext: { accountId: 'anonymous', apiId: 'bench', domainName: 'bench.local', domainPrefix: 'bench',
    http: { method: 'GET', path: p, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'bench' },
    requestId: 'bench', routeKey: '$default', stage: '$default', time: new Date().toISOString(), timeEpoch: Date.now() },
  isBase64Encoded: false,
}, {});
const t2 = performance.now();
if (res.statusCode !== 200) throw new Error('GET /health answered ' + res.statusCode);
process.stdout.write(JSON.stringify({ importMs: t1 - t0, firstRequestMs: t2 - t1 }) + '\\n');
`;

/**
 * The configuration as a deployed function gets it from SST: its links in `resource.enc` beside
 * the code, AES-256-GCM under the key in SST_KEY (read by SST's `Resource`, so decrypting is part
 * of the measured init), and no table name or secret among the variables.
 */
async function sstLinks(dir: string): Promise<Record<string, string>> {
  const links = {
    Coupons: { name: 'coupons-bench' },
    GenerationJobs: { url: 'https://sqs.us-east-1.amazonaws.com/123456789012/bench' },
    JwtSecret: { value: 'bench-secret-0123456789abcdef' },
    JwksUrl: { value: '' },
  };
  const key = randomBytes(32);
  const cipher = createCipheriv('aes-256-gcm', key, Buffer.alloc(12, 0));
  await writeFile(join(dir, 'resource.enc'), Buffer.concat([cipher.update(JSON.stringify(links)), cipher.final(), cipher.getAuthTag()]));
  return { SST_KEY: key.toString('base64'), SST_KEY_FILE: 'resource.enc', SST_RESOURCE_App: JSON.stringify({ name: 'coupon-books', stage: 'bench' }) };
}

/**
 * What a deployed function with active tracing has besides its links: TRACING (infra/tracing.ts),
 * the variables Lambda sets (Powertools turns the tracer on only inside Lambda), and a trace
 * header, so the first request really opens subsegments (sent over UDP to 127.0.0.1:2000, where
 * nothing listens).
 */
const TRACED_ENV = {
  TRACING: 'true',
  AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs24.x',
  AWS_LAMBDA_FUNCTION_NAME: 'coupon-books-bench',
  AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '1024',
  _X_AMZN_TRACE_ID: 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1',
  AWS_XRAY_CONTEXT_MISSING: 'IGNORE_ERROR',
};

interface Variant {
  name: string;
  bundle: string;
  env: Record<string, string>;
  bundleBytes: number;
  totalBytes: number;
  gzipBytes: number;
  externalSdk: boolean;
  tracing: boolean;
  commit?: string;
  samples: Sample[];
}

async function runOnce(v: Variant): Promise<Sample> {
  const dir = dirname(v.bundle);
  const { code, stdout, stderr, ms } = await runProcess(process.execPath, ['--input-type=module', '-e', CHILD], {
    cwd: dir,
    env: {
      PATH: process.env.PATH ?? '',
      BUNDLE_URL: pathToFileURL(v.bundle).href,
      ...(await sstLinks(dir)),
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'bench',
      AWS_SECRET_ACCESS_KEY: 'bench',
      NODE_ENV: 'production',
      LAMBDA_TASK_ROOT: dir,
      ...v.env,
    },
  });
  // The app's request log also writes JSON lines to stdout: the figures are the line with importMs.
  const line = stdout.split('\n').find((l) => l.includes('"importMs"'));
  if (code !== 0 || !line) throw new Error(`${v.name}: child exited ${code}: ${stderr || stdout}`);
  return { ...(JSON.parse(line) as Omit<Sample, 'processMs'>), processMs: ms };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const round = (x: number) => Math.round(x * 10) / 10;

function summarise(v: Variant) {
  const pick = (k: keyof Sample) => v.samples.map((s) => s[k]);
  const importMsMedian = round(median(pick('importMs')));
  return {
    name: v.name,
    ...(v.commit ? { commit: v.commit } : {}),
    externalSdk: v.externalSdk,
    tracing: v.tracing,
    bundleBytes: v.bundleBytes,
    totalBytes: v.totalBytes,
    gzipBytes: v.gzipBytes,
    runs: v.samples.length,
    importMsMedian,
    importMsMin: round(Math.min(...pick('importMs'))),
    importMsMax: round(Math.max(...pick('importMs'))),
    firstRequestMsMedian: round(median(pick('firstRequestMs'))),
    processMsMedian: round(median(pick('processMs'))),
    // The deployment (SDK bundled) is held to the budget; the external-SDK variant and a baseline are there to compare with.
    overBudget: !v.commit && !v.externalSdk && (v.bundleBytes >= BUDGET.bytes || importMsMedian >= BUDGET.importMs),
    samples: v.samples.map((s) => ({ importMs: round(s.importMs), firstRequestMs: round(s.firstRequestMs), processMs: round(s.processMs) })),
  };
}

async function variant(name: string, externalSdk: boolean, tracing: boolean): Promise<Variant> {
  const built = await buildLambda({ outdir: join(ROOT, 'bench/out/coldstart', name), externalSdk });
  const gzipBytes = gzipSync(await readFile(built.bundle)).length;
  // With tracing on, the tracer's chunk loads at start too: it counts.
  const bundleBytes = tracing ? bundleSizes(built.metafile, built.outdir, ROOT, [/@aws-lambda-powertools\/tracer\//]).bytes : built.bytes;
  return { name, bundle: built.bundle, env: tracing ? TRACED_ENV : {}, bundleBytes, totalBytes: built.totalBytes, gzipBytes, externalSdk, tracing, samples: [] };
}

/** The bundle of another commit, built by that commit's own build script, run with the same environment as ours. */
async function baselineVariant(ref: string): Promise<Variant> {
  // Unpacked outside the repository (the type checker and the import rules would read it inside), and removed once built.
  const tree = baselineTree(ROOT, ref, await mkdtemp(join(tmpdir(), 'coupons-baseline-')));
  const outdir = join(ROOT, 'bench/out/coldstart/baseline');
  let sizes: { bytes: number; totalBytes: number };
  try {
    const r = await runProcess(join(ROOT, 'node_modules/.bin/tsx'), ['scripts/build-lambda.ts', '--outdir', outdir, '--metafile'], { cwd: tree.dir });
    if (r.code !== 0) throw new Error(`building ${ref} (${tree.commit}) failed: ${r.stderr || r.stdout}`);
    // Sized as ours are (the entry and the chunks it imports statically), from its esbuild metafile.
    sizes = bundleSizes(JSON.parse(await readFile(join(outdir, 'meta.json'), 'utf8')) as Metafile, outdir, tree.dir);
  } finally {
    await rm(tree.dir, { recursive: true, force: true });
  }
  const { bytes, totalBytes } = sizes;
  const bundle = join(outdir, 'index.mjs');
  return { name: `baseline ${ref}`, commit: tree.commit, bundle, env: TRACED_ENV, bundleBytes: bytes, totalBytes, gzipBytes: gzipSync(await readFile(bundle)).length, externalSdk: false, tracing: false, samples: [] };
}

function parseArgs(argv: string[]) {
  let runs = 7;
  let write = true;
  let strict = false;
  let against: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--runs') runs = Number(argv[++i]);
    else if (argv[i] === '--no-write') write = false;
    else if (argv[i] === '--strict') strict = true;
    else if (argv[i] === '--against') against = argv[++i];
    else throw new Error(`unknown argument ${argv[i]}; usage: coldstart.ts [--runs N] [--against <git ref>] [--strict] [--no-write]`);
  }
  if (!Number.isInteger(runs) || runs < 1) throw new Error('--runs must be a positive integer');
  if (against === '') throw new Error('--against needs a git ref');
  return { runs, write, strict, against };
}

type Report = Awaited<ReturnType<typeof run>>;

async function appendResults(report: Report) {
  const kb = (b: number) => `${(b / 1024).toFixed(1)} KiB (${b.toLocaleString('en-US')} B)`;
  const row = (v: Report['variants'][number]) =>
    `| ${v.name}${v.commit && !v.name.endsWith(v.commit.slice(0, 7)) ? ` (${v.commit.slice(0, 7)})` : ''} | ${kb(v.bundleBytes)} | ${kb(v.totalBytes)} | ${kb(v.gzipBytes)} | ${v.importMsMedian} (${v.importMsMin} to ${v.importMsMax})${v.overBudget ? ' **over budget**' : ''} | ${v.firstRequestMsMedian} | ${v.processMsMedian} |`;
  const section = [
    '',
    '## coldstart',
    '',
    `Run ${report.date} with \`npx tsx bench/coldstart.ts --runs ${report.runs}${report.against ? ` --against ${report.against}` : ''}\`: Node ${report.node}, ${report.cpu} (${report.cpus} CPUs), load average ${report.loadAverage.start.join(' / ')} at the start and ${report.loadAverage.end.join(' / ')} at the end (1 / 5 / 15 min); median of ${report.runs} fresh processes each, the variants run in turn round after round.`,
    'The bundle is `scripts/build-lambda.ts` output (ESM, minified, node24); import = module initialisation (app, routes, DynamoDB client, SST links decrypted from resource.enc, the tracer where tracing is on; no network);',
    `first request = GET /health through the Lambda handler right after. Budget: under ${BUDGET.bytes.toLocaleString('en-US')} B and ${BUDGET.importMs} ms.`,
    '',
    '| variant | loaded at cold start | with lazy chunks | gzip (entry) | import ms, median (min to max) | first request ms | whole process ms |',
    '|---|---|---|---|---|---|---|',
    ...report.variants.map(row),
    '',
    `Over budget: ${report.overBudget.length ? report.overBudget.join(', ') : 'nothing'}.`,
    '',
  ].join('\n');
  // Create with a title only if nobody has yet ('wx' fails if it exists), then append: never rewrite.
  await mkdir(dirname(RESULTS), { recursive: true });
  await writeFile(RESULTS, '# Benchmark results\n', { flag: 'wx' }).catch((e) => {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  });
  await appendFile(RESULTS, section);
}

const load = () => loadavg().map((x) => Math.round(x * 100) / 100);

async function run(runs: number, against?: string) {
  const start = load();
  const variants = [
    await variant('SDK bundled, tracing on', false, true),
    await variant('SDK bundled, tracing off', false, false),
    await variant('SDK external, tracing on', true, true),
  ];
  if (against) variants.unshift(await baselineVariant(against));
  for (const v of variants) await runOnce(v); // warm the OS file cache; not counted
  for (let i = 0; i < runs; i++) for (const v of variants) v.samples.push(await runOnce(v));
  const summaries = variants.map(summarise);
  return {
    benchmark: 'coldstart',
    date: new Date().toISOString(),
    node: process.version,
    cpu: cpus()[0]?.model.trim() ?? 'unknown',
    cpus: cpus().length,
    loadAverage: { start, end: load() },
    runs,
    ...(against ? { against } : {}),
    budget: BUDGET,
    overBudget: summaries.filter((v) => v.overBudget).map((v) => v.name),
    variants: summaries,
  };
}

const { runs, write, strict, against } = parseArgs(process.argv.slice(2));
const report = await run(runs, against);
console.log(JSON.stringify(report, null, 2));
for (const v of report.variants.filter((x) => x.overBudget)) {
  console.error(`coldstart: OVER BUDGET: ${v.name}: import ${v.importMsMedian} ms (budget ${BUDGET.importMs} ms), ${v.bundleBytes.toLocaleString('en-US')} B loaded (budget ${BUDGET.bytes.toLocaleString('en-US')} B)`);
}
if (write) await appendResults(report);
if (strict && report.overBudget.length) process.exit(1);
