/**
 * Cold start of the Lambda bundle: how big it is and how long a fresh Node process takes to load it.
 *
 *   npx tsx bench/coldstart.ts [--runs 7] [--no-write]
 *
 * Builds the bundle twice into bench/out/ (AWS SDK bundled, the default deployment; and SDK left
 * external, as the nodejs24.x runtime provides it), then for each spawns `runs` fresh `node`
 * processes that import the bundle with dummy configuration and report:
 *   - importMs: from just before `import()` to the handler being exported, i.e. the module
 *     initialisation Lambda bills as Init (app, routes, DynamoDB client; no network: nothing
 *     connects until the first query);
 *   - firstRequestMs: the first invocation (GET /health through the handler) after that;
 *   - processMs: spawn to exit of the whole process, for scale.
 * Prints JSON and appends a `## coldstart` section to bench/RESULTS.md (append-only: other
 * benchmarks write their own sections to the same file).
 *
 * The external-SDK variant resolves @aws-sdk/* from this repository's node_modules, which is the
 * CommonJS build much like the runtime's copy; Lambda's own figures also include the runtime's
 * start and the zip download, which this machine cannot show.
 */
import { createCipheriv, randomBytes } from 'node:crypto';
import { appendFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { buildLambda } from '../scripts/build-lambda.ts';
import { runProcess } from '../scripts/lib/run-process.ts';

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

async function runOnce(bundle: string): Promise<Sample> {
  const { code, stdout, stderr, ms } = await runProcess(process.execPath, ['--input-type=module', '-e', CHILD], {
    cwd: dirname(bundle),
    env: {
      PATH: process.env.PATH ?? '',
      BUNDLE_URL: pathToFileURL(bundle).href,
      ...(await sstLinks(dirname(bundle))),
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'bench',
      AWS_SECRET_ACCESS_KEY: 'bench',
      NODE_ENV: 'production',
    },
  });
  // The app's request log also writes JSON lines to stdout: the figures are the line with importMs.
  const line = stdout.split('\n').find((l) => l.includes('"importMs"'));
  if (code !== 0 || !line) throw new Error(`child exited ${code}: ${stderr || stdout}`);
  return { ...(JSON.parse(line) as Omit<Sample, 'processMs'>), processMs: ms };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const round = (x: number) => Math.round(x * 10) / 10;

function summarise(samples: Sample[]) {
  const pick = (k: keyof Sample) => samples.map((s) => s[k]);
  return {
    importMsMedian: round(median(pick('importMs'))),
    importMsMin: round(Math.min(...pick('importMs'))),
    importMsMax: round(Math.max(...pick('importMs'))),
    firstRequestMsMedian: round(median(pick('firstRequestMs'))),
    processMsMedian: round(median(pick('processMs'))),
  };
}

async function measure(name: string, externalSdk: boolean, runs: number) {
  const built = await buildLambda({ outdir: join(ROOT, 'bench/out/coldstart', name), externalSdk });
  const bundleBytes = built.bytes;
  const gzipBytes = gzipSync(await readFile(built.bundle)).length;
  await runOnce(built.bundle); // warm the OS file cache; not counted
  const samples: Sample[] = [];
  for (let i = 0; i < runs; i++) samples.push(await runOnce(built.bundle));
  return { name, externalSdk, bundleBytes, totalBytes: built.totalBytes, gzipBytes, runs, ...summarise(samples), samples: samples.map((s) => ({ importMs: round(s.importMs), firstRequestMs: round(s.firstRequestMs), processMs: round(s.processMs) })) };
}

function parseArgs(argv: string[]) {
  let runs = 7;
  let write = true;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--runs') runs = Number(argv[++i]);
    else if (argv[i] === '--no-write') write = false;
    else throw new Error(`unknown argument ${argv[i]}; usage: coldstart.ts [--runs N] [--no-write]`);
  }
  if (!Number.isInteger(runs) || runs < 1) throw new Error('--runs must be a positive integer');
  return { runs, write };
}

async function appendResults(report: Awaited<ReturnType<typeof run>>) {
  const [bundled, external] = report.variants;
  const kb = (b: number) => `${(b / 1024).toFixed(1)} KiB (${b.toLocaleString('en-US')} B)`;
  const row = (v: typeof bundled) =>
    `| ${v!.externalSdk ? 'AWS SDK external' : 'AWS SDK bundled'} | ${kb(v!.bundleBytes)} | ${kb(v!.totalBytes)} | ${kb(v!.gzipBytes)} | ${v!.importMsMedian} (${v!.importMsMin} to ${v!.importMsMax}) | ${v!.firstRequestMsMedian} | ${v!.processMsMedian} |`;
  const section = [
    '',
    '## coldstart',
    '',
    `Run ${report.date} with \`npx tsx bench/coldstart.ts\`: Node ${report.node}, ${report.cpu} (${report.cpus} CPUs), median of ${report.runs} fresh processes each.`,
    'The bundle is `scripts/build-lambda.ts` output (ESM, minified, node24); import = module initialisation (app, routes, DynamoDB client, SST links decrypted from resource.enc, no network);',
    `first request = GET /health through the Lambda handler right after. Budget: under ${BUDGET.bytes.toLocaleString('en-US')} B and ${BUDGET.importMs} ms.`,
    '',
    '| variant | loaded at cold start | with lazy chunks | gzip (entry) | import ms, median (min to max) | first request ms | whole process ms |',
    '|---|---|---|---|---|---|---|',
    row(bundled),
    row(external),
    '',
    `Within budget (SDK bundled): size ${report.withinBudget.bytes ? 'yes' : 'NO'}, init ${report.withinBudget.importMs ? 'yes' : 'NO'}.`,
    '',
  ].join('\n');
  // Create with a title only if nobody has yet ('wx' fails if it exists), then append: never rewrite.
  await mkdir(dirname(RESULTS), { recursive: true });
  await writeFile(RESULTS, '# Benchmark results\n', { flag: 'wx' }).catch((e) => {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  });
  await appendFile(RESULTS, section);
}

async function run(runs: number) {
  const bundled = await measure('sdk-bundled', false, runs);
  const external = await measure('sdk-external', true, runs);
  return {
    benchmark: 'coldstart',
    date: new Date().toISOString(),
    node: process.version,
    cpu: cpus()[0]?.model.trim() ?? 'unknown',
    cpus: cpus().length,
    runs,
    budget: BUDGET,
    withinBudget: { bytes: bundled.bundleBytes < BUDGET.bytes, importMs: bundled.importMsMedian < BUDGET.importMs },
    variants: [bundled, external],
  };
}

const { runs, write } = parseArgs(process.argv.slice(2));
const report = await run(runs);
console.log(JSON.stringify(report, null, 2));
if (write) await appendResults(report);
