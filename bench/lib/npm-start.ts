import { spawn } from 'node:child_process';
import { freePort } from '../../scripts/lib/dynamodb-local.ts';

export interface NpmStart {
  /** `export COUPONS_API=…` as printed, with the host pinned to 127.0.0.1 (load goes nowhere else). */
  api: string;
  /** `export ADMIN=…` as printed. */
  adminToken: string;
  pid: number;
  /** Batches the change follower failed and retried so far (it logs each as a JSON line on stderr). */
  followerRetries(): number;
  /** SIGTERM, as Ctrl-C; throws if it did not stop cleanly. */
  stop(): Promise<void>;
}

/**
 * `npm start` (scripts/dev.ts, as `tsx scripts/dev.ts` runs it) against the benchmark's DynamoDB
 * (`DYNAMODB_ENDPOINT`: nothing else is started) on a table of its own: the API in its own
 * process with the change stream's follower and in-process jobs, exactly what a user loads
 * codes into. Resolves once it has printed its exports; the API and token are read from them.
 */
export async function startNpmStart(options: { endpoint: string; table: string; log: (line: string) => void }): Promise<NpmStart> {
  const port = await freePort();
  const { DATA_DIR: _data, JWT_SECRET: _secret, ...inherited } = process.env;
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/dev.ts'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...inherited, PORT: String(port), DYNAMODB_ENDPOINT: options.endpoint, TABLE_NAME: options.table },
  });
  let stdout = '';
  let stderr = '';
  let ready = false;
  // Until the exports are read; after that stdout is npm start's request log, which nobody reads here.
  child.stdout.on('data', (d) => {
    if (!ready) stdout += d;
  });
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((res) => child.once('exit', (code) => res(code)));
  const deadline = Date.now() + 120_000;
  const exported = () => Object.fromEntries([...stdout.matchAll(/^ {2}export ([A-Z_]+)=(\S+)$/gm)].map((m) => [m[1]!, m[2]!]));
  while (!exported().USER_TOKEN) {
    if (child.exitCode !== null) throw new Error(`npm start exited ${child.exitCode}: ${stderr}`);
    if (Date.now() > deadline) throw new Error(`npm start printed no tokens in 120 s: ${stderr}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  ready = true;
  const { COUPONS_API, ADMIN } = exported();
  if (!COUPONS_API || !ADMIN) throw new Error(`npm start did not print COUPONS_API and ADMIN:\n${stdout}`);
  options.log(`npm start (pid ${child.pid}) on ${COUPONS_API}, table ${options.table}`);
  return {
    api: COUPONS_API.replace('//localhost:', '//127.0.0.1:'),
    adminToken: ADMIN,
    pid: child.pid!,
    followerRetries: () => stderr.split('\n').filter((l) => l.includes('"level":"error"') && l.includes('change follower')).length,
    stop: async () => {
      child.kill('SIGTERM');
      const code = await exited;
      if (code !== 0) throw new Error(`npm start ended ${code}; stderr:\n${stderr}`);
    },
  };
}
