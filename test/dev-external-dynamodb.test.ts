import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { inject, describe, expect, it } from 'vitest';
import { ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { createDynamoDbClient } from '@coupons/core';
import { consoleBuildForTests } from '../scripts/lib/console-build.ts';

const freePort = () =>
  new Promise<number>((res) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => res(port));
    });
  });

// `npm start` with DYNAMODB_ENDPOINT uses that DynamoDB (here the test run's shared DynamoDB Local) and spawns none.
describe('npm start with DYNAMODB_ENDPOINT', () => {
  it('creates its table there, serves, and starts no DynamoDB Local of its own', async () => {
    const endpoint = inject('dynamoDbEndpoint');
    const table = `dev-external-${randomUUID().slice(0, 8)}`;
    const port = await freePort();
    const child = spawn('node_modules/.bin/tsx', ['scripts/dev.ts'], {
      // The console from the tests' shared build, outside the working tree.
      env: { ...process.env, DYNAMODB_ENDPOINT: endpoint, TABLE_NAME: table, PORT: String(port), CONSOLE_PORT: String(await freePort()), CONSOLE_DIST: await consoleBuildForTests() },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    try {
      const deadline = Date.now() + 45_000;
      // The banner, printed once the server is up.
      while (!/export COUPONS_TOKEN=\S+/.test(out) && Date.now() < deadline && child.exitCode === null) await new Promise((r) => setTimeout(r, 200));
      expect(out).toMatch(/export COUPONS_TOKEN=\S+/);
      expect(out).toContain(`DynamoDB         ${endpoint} (DYNAMODB_ENDPOINT, not started here)`);
      expect((await fetch(`http://127.0.0.1:${port}/health`)).status).toBe(200);
      const tables = await createDynamoDbClient({ DYNAMODB_ENDPOINT: endpoint, AWS_REGION: 'us-east-1' }).send(new ListTablesCommand({}));
      expect(tables.TableNames).toContain(table);
      // No Java child: the process tree under the launcher holds no DynamoDB Local.
      expect(out).not.toContain('DynamoDB Local,');
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
    expect(out).toContain('SIGTERM: stopping the API\n');
  });
});
