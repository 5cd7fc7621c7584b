import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createDocumentClient, createDynamoDbClient, ensureTable, type CoreContext, type Role } from '@coupons/core';
import { createApp, createCoreContext, startServer } from '@coupons/api';
import { startDynamoDbLocal } from '../../scripts/lib/dynamodb-local.ts';
import { mintToken } from '../../scripts/lib/tokens.ts';

/**
 * What every benchmark runs against: DynamoDB Local (its own, in memory, on a free port, or
 * DYNAMODB_ENDPOINT's when `external`), and the API on 127.0.0.1 over one table of it, signing
 * tokens with a secret made for the run. Traffic goes nowhere else.
 */
export async function startDynamo(options: { external?: boolean } = {}) {
  const external = options.external ? process.env.DYNAMODB_ENDPOINT : undefined;
  const ddb = external ? { endpoint: external, pid: undefined, stop: async () => undefined } : await startDynamoDbLocal();
  const rawClient = createDynamoDbClient({ DYNAMODB_ENDPOINT: ddb.endpoint, AWS_REGION: 'us-east-1' });
  // Same factory, same SDK settings as the service's own client.
  const doc = createDocumentClient(rawClient);
  return {
    endpoint: ddb.endpoint,
    /** DynamoDB Local's Java process (CPU time from /proc), when this run started it. */
    pid: ddb.pid,
    rawClient,
    doc,
    stop: async () => {
      rawClient.destroy();
      await ddb.stop();
    },
  };
}
export type Dynamo = Awaited<ReturnType<typeof startDynamo>>;

export const BENCH_SECRET = `bench-secret-${randomBytes(16).toString('hex')}`;

/** A token of `tenant` signed with the run's secret. */
export const tokenFor = (sub: string, role: Role, tenant: string) => mintToken(BENCH_SECRET, { sub, tenant, role });

export interface ServeOptions {
  /** The service's settings beside the endpoint and table (e.g. `RATE_LIMIT_CALLER_PER_MINUTE: '0'`). */
  env?: Record<string, string>;
  /** Sees the service's DynamoDB client before use (a meter, a tally). */
  instrument?: (client: DynamoDBClient) => void;
  /** Each log line (requests and the rest); default: dropped. EMF lines are always dropped: stdout carries the result. */
  log?: (line: Record<string, unknown>) => void;
  /** The table's change stream; default: as `ensureTable` makes a table (on). */
  stream?: boolean;
}

/** The API over `table` (created if missing) of `dynamo`, on 127.0.0.1 and a free port. */
export async function serveApi(dynamo: Dynamo, table: string, options: ServeOptions = {}) {
  const env = { ...options.env, DYNAMODB_ENDPOINT: dynamo.endpoint, TABLE_NAME: table, AWS_REGION: 'us-east-1' };
  await ensureTable(dynamo.rawClient, table, options.stream === undefined ? {} : { stream: options.stream });
  const log = options.log ?? (() => undefined);
  const core: CoreContext = createCoreContext(env, undefined, { instrument: options.instrument, logLines: { push: log }, writeEmf: () => undefined });
  const app = createApp({ core, auth: { hs256Secret: BENCH_SECRET } });
  const server = await startServer(app, 0, '127.0.0.1');
  const port = (server.address() as AddressInfo).port;
  return {
    core,
    port,
    base: `http://127.0.0.1:${port}`,
    close: async () => {
      (server as { closeAllConnections?: () => void }).closeAllConnections?.();
      await new Promise<void>((res) => server.close(() => res()));
    },
  };
}
export type BenchApi = Awaited<ReturnType<typeof serveApi>>;
