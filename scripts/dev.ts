/**
 * `npm start`: DynamoDB Local (in memory, or on disk under DATA_DIR), the
 * table, and the API on PORT. Prints ready tokens and a curl line. Ctrl-C
 * stops everything, Java included.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createDynamoDbClient, ensureTable, followChanges, loadConfig, resumeUnfinishedJobs } from '@coupons/core';
import { createApp, createCoreContext, readCorsOrigins, startServer } from '@coupons/api';
import { startDynamoDbLocal } from './lib/dynamodb-local.ts';
import { mintToken } from './lib/tokens.ts';

const port = Number(process.env.PORT ?? 3000);
const devSecret = !process.env.JWT_SECRET;
const secret = process.env.JWT_SECRET ?? `dev-secret-${randomBytes(16).toString('hex')}`;

const ddb = await startDynamoDbLocal({
  port: process.env.DYNAMODB_PORT ? Number(process.env.DYNAMODB_PORT) : undefined,
  dataDir: process.env.DATA_DIR,
});
const env = { ...process.env, DYNAMODB_ENDPOINT: ddb.endpoint, JWT_SECRET: secret };
const config = loadConfig(env);
const created = await ensureTable(createDynamoDbClient(config), config.TABLE_NAME);

const core = createCoreContext(env);
const app = createApp({
  core,
  auth: { hs256Secret: secret, jwksUrl: process.env.JWT_JWKS_URL || undefined },
  corsOrigins: readCorsOrigins(),
});
const server = await startServer(app, port);
// History and webhook events come from the table's change stream; with DATA_DIR a restart resumes
// from the follower's checkpoint, so no committed change is missed.
const follower = followChanges(core, { name: 'npm-start' });
// Generation jobs run in this process; ones a previous run left unfinished (Ctrl-C, a crash)
// resume from their last committed chunk. Only meaningful with DATA_DIR: in memory, nothing survives.
const resumed = await resumeUnfinishedJobs(core);
if (resumed.length) console.log(`Resuming ${resumed.length} unfinished generation job(s): ${resumed.map((j) => j.jobId).join(', ')}`);

const tenant = 'demo';
const [admin, service, user] = await Promise.all([
  mintToken(secret, { sub: 'admin-1', tenant, role: 'admin' }),
  mintToken(secret, { sub: 'checkout-service', tenant, role: 'service' }),
  mintToken(secret, { sub: 'user-1', tenant, role: 'user' }),
]);
const base = `http://localhost:${port}`;
console.log(`
Coupon Book Service on ${base}
  DynamoDB Local   ${ddb.endpoint} (${process.env.DATA_DIR ? `data in ${process.env.DATA_DIR}` : 'in memory'}), table ${config.TABLE_NAME} ${created}
  API reference    ${base}/docs
  JWT secret       ${devSecret ? 'a development secret (set JWT_SECRET to choose one)' : 'from JWT_SECRET'}

Tokens for tenant "${tenant}" (12 h):
  ADMIN=${admin}
  SERVICE=${service}
  USER=${user}

Try:
  curl -s -X POST ${base}/coupons -H "authorization: Bearer ${admin}" -H 'content-type: application/json' -d '{"name":"Black Friday","maxCodesPerUser":1}'
`);

let stopping = false;
async function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  console.log(`\n${signal}: stopping the API and DynamoDB Local`);
  server.close();
  await follower.stop();
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
