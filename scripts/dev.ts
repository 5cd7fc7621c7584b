/**
 * `npm start`: DynamoDB Local (in memory, or on disk under DATA_DIR), or the
 * DynamoDB at DYNAMODB_ENDPOINT when set (a container, a shared one), the
 * table, the API on PORT, and the console on 127.0.0.1:CONSOLE_PORT (built
 * first when missing or stale). Prints paste-ready exports (COUPONS_API,
 * tokens and a service API key), the console's sign-in link and a curl line.
 * Ctrl-C stops everything, Java included.
 */
import { readFileSync } from 'node:fs';
import { createDynamoDbClient, ensureTable, loadConfig, resumeUnfinishedJobs } from '@coupons/core';
import { createApp, createCoreContext, readCorsOrigins, startServer, followChanges, startMetricsFlusher, startMetricsSummary } from '@coupons/api';
import { startDynamoDbLocal } from './lib/dynamodb-local.ts';
import { devSecret } from './lib/dev-secret.ts';
import { portProblem } from './lib/port-check.ts';
import { mintToken } from './lib/tokens.ts';
import { devServiceKey } from './lib/dev-api-key.ts';
import { DEFAULT_CONSOLE_DIST, ensureConsoleBuilt } from './lib/console-build.ts';
import { startConsoleServer } from './lib/console-server.ts';
import { migrateLocalTable } from './lib/migration-report.ts';

const port = Number(process.env.PORT ?? 3000);
const ddbPort = process.env.DYNAMODB_PORT ? Number(process.env.DYNAMODB_PORT) : undefined;
const consolePort = Number(process.env.CONSOLE_PORT ?? port + 1);
// A busy port is one clear line, before DynamoDB Local (a Java process) is started for nothing.
for (const [name, p] of [['PORT', port], ['DYNAMODB_PORT', ddbPort], ['CONSOLE_PORT', consolePort]] as const) {
  if (p === undefined) continue;
  const problem = await portProblem(p);
  if (problem) {
    console.error(`npm start: ${name}=${p}: ${problem}. Stop what uses it, or choose another: ${name}=${p + 1} npm start`);
    process.exit(1);
  }
}
const { secret, source: secretSource } = devSecret(process.env);
// The console builds (when missing or stale) while DynamoDB Local starts; a failed build costs the console, not the API.
const consoleBuild = ensureConsoleBuilt(process.env.CONSOLE_DIST || DEFAULT_CONSOLE_DIST, (line) => console.log(line)).catch((e: Error) => e);
// Its own origin on loopback, as on AWS (a site apart from the API): it calls the API across origins.
const consoleOrigin = `http://127.0.0.1:${consolePort}`;

// With DYNAMODB_ENDPOINT set, that DynamoDB is used as it is and nothing is spawned or stopped.
const external = process.env.DYNAMODB_ENDPOINT?.trim();
const ddb = external
  ? { endpoint: external, stop: async () => undefined }
  : await startDynamoDbLocal({
      port: process.env.DYNAMODB_PORT ? Number(process.env.DYNAMODB_PORT) : undefined,
      dataDir: process.env.DATA_DIR,
    });
// Webhooks may go to localhost here (a developer's receiver); a deployed stage refuses loopback targets.
const env = { WEBHOOK_ALLOW_LOOPBACK: 'true', ...process.env, DYNAMODB_ENDPOINT: ddb.endpoint, JWT_SECRET: secret };
const config = loadConfig(env);
const created = await ensureTable(createDynamoDbClient(config), config.TABLE_NAME);

const core = createCoreContext(env);
// Data an older release left (DATA_DIR, DYNAMODB_ENDPOINT) is brought to this release's shape
// before the API serves it; progress on stderr (docs/upgrades.md).
await migrateLocalTable(core, created, (line) => console.error(line));
const app = createApp({
  core,
  auth: { hs256Secret: secret, jwksUrl: process.env.JWT_JWKS_URL || undefined },
  corsOrigins: [...readCorsOrigins(), consoleOrigin],
});
const server = await startServer(app, port).catch(async (e: NodeJS.ErrnoException) => {
  // Taken between the check above and now.
  console.error(`npm start: PORT=${port}: ${e.code === 'EADDRINUSE' ? 'already in use' : e.message}. Choose another: PORT=${port + 1} npm start`);
  await ddb.stop();
  process.exit(1);
});
// History and webhook events come from the table's change stream; with DATA_DIR a restart resumes
// from the follower's checkpoint, so no committed change is missed.
const follower = followChanges(core, { name: 'npm-start' });
// Generation jobs run in this process; ones a previous run left unfinished (Ctrl-C, a crash)
// resume from their last committed chunk. Only meaningful with DATA_DIR: in memory, nothing survives.
const resumed = await resumeUnfinishedJobs(core);
// Metrics as on AWS: EMF lines every METRICS_FLUSH_SECONDS (and at exit); with METRICS_SUMMARY_SECONDS,
// a one-line summary of what the dashboard would show, for a developer running a local sale.
const emfFlusher = startMetricsFlusher(core, core.config.METRICS_FLUSH_SECONDS);
const summary = core.config.METRICS_SUMMARY_SECONDS ? startMetricsSummary(core, core.config.METRICS_SUMMARY_SECONDS) : undefined;
if (resumed.length) console.log(`Resuming ${resumed.length} unfinished generation job(s): ${resumed.map((j) => j.jobId).join(', ')}`);

const tenant = 'demo';
const who = {
  ADMIN: { sub: 'admin-1', role: 'admin', does: 'manages books and codes' },
  SERVICE: { sub: 'checkout-service', role: 'service', does: 'a backend: acts for any user' },
  // USER_TOKEN, never USER: pasting `export USER=…` would overwrite the shell's own $USER.
  USER_TOKEN: { sub: 'user-1', role: 'user', does: 'acts only for itself, e.g. GET /users/user-1/coupons' },
} as const;
const tokens = await Promise.all(
  Object.entries(who).map(async ([name, w]) => ({
    name,
    about: `${w.role} "${w.sub}": ${w.does}`,
    value: await mintToken(secret, { sub: w.sub, tenant, role: w.role }),
  })),
);
// A service API key beside the tokens (after SERVICE): what a business's backend signs with.
tokens.splice(2, 0, {
  name: 'SERVICE_KEY',
  about: 'service API key: a backend\'s credential, as POST /api-keys makes them; with DATA_DIR the same after a restart',
  value: await devServiceKey(core, secret, tenant),
});
const base = `http://localhost:${port}`;
const built = await consoleBuild;
const consoleServer =
  built instanceof Error ? built : await startConsoleServer({ distDir: built.dir, port: consolePort, config: { apiUrl: base, devSignIn: true } }).catch((e: Error) => e);
const adminToken = tokens.find((t) => t.name === 'ADMIN')!.value;
// The token rides in the fragment, which the browser never sends to a server, so no log ever holds it.
const consoleLine =
  consoleServer instanceof Error
    ? `not served: ${consoleServer.message}`
    : `${consoleServer.url}#token=${adminToken}\n                   (signs you in as admin "admin-1"; people on a deployed stage sign in with the identity provider)`;
console.log(`
Coupon Book Service on ${base}
  DynamoDB         ${ddb.endpoint} (${external ? 'DYNAMODB_ENDPOINT, not started here' : process.env.DATA_DIR ? `DynamoDB Local, data in ${process.env.DATA_DIR}` : 'DynamoDB Local, in memory'}), table ${config.TABLE_NAME} ${created}
  API reference    ${base}/docs
  Console          ${consoleLine}
  JWT secret       ${secretSource}

Paste these lines into your shell (tokens for tenant "${tenant}", valid 12 h, and a service API key):
  # the API, for npm run codes and the client's examples
  export COUPONS_API=${base}
${tokens.map((t) => `  # ${t.about}\n  export ${t.name}=${t.value}`).join('\n')}

Try:
  curl -s -X POST $COUPONS_API/coupons -H "authorization: Bearer $ADMIN" -H 'content-type: application/json' -d '{"name":"Black Friday","maxCodesPerUser":1}'
  export COUPONS_TOKEN=$ADMIN   # for npm run codes (or an admin key: POST /api-keys, then COUPONS_API_KEY)
${summary ? `\nMetrics summary every ${core.config.METRICS_SUMMARY_SECONDS} s (METRICS_SUMMARY_SECONDS); EMF lines every ${core.config.METRICS_FLUSH_SECONDS} s.\n` : ''}`);

let stopping = false;
async function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  console.log(`\n${signal}: stopping the API${external ? '' : ' and DynamoDB Local'}`);
  server.close();
  if (!(consoleServer instanceof Error)) await consoleServer.close();
  summary?.stop();
  await follower.stop();
  emfFlusher.stop();
  await ddb.stop();
  process.exit(0);
}
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGHUP', () => void shutdown('SIGHUP'));

// `npm start` runs us under npm and tsx. If npm is killed on its own (SIGTERM to its pid, not
// its group), nothing forwards the signal: watch the launcher and go down with it, so no Java
// process outlives the command that started it.
const launcher = launcherPid();
if (launcher) {
  setInterval(() => {
    try {
      process.kill(launcher, 0);
    } catch {
      void shutdown('launcher exited');
    }
  }, 1000).unref();
}

function launcherPid(): number | undefined {
  try {
    // Our parent is tsx; its parent is npm (or the shell that ran tsx directly).
    const stat = readFileSync(`/proc/${process.ppid}/stat`, 'utf8');
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    return ppid > 1 ? ppid : undefined;
  } catch {
    return undefined; // not Linux: Ctrl-C still reaches the whole process group
  }
}
