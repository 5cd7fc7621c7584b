import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDynamoDbLocal, type RunningDynamoDbLocal } from '../scripts/lib/dynamodb-local.ts';
import { answer, bookStats, bookWithCodes, startTestApi, user, type TestApi } from './support/harness.ts';
import { expectInvariants } from './support/invariants.ts';

// The database really goes away: this file runs its own DynamoDB Local, on
// disk so the data survives, kills it in the middle of a stream of claims,
// and starts it again on the same port.
let ddb: RunningDynamoDbLocal;
let api: TestApi;
const dataDir = mkdtempSync(join(tmpdir(), 'coupons-outage-'));

beforeAll(async () => {
  ddb = await startDynamoDbLocal({ dataDir });
  api = await startTestApi('outage', { DYNAMODB_ENDPOINT: ddb.endpoint });
});
afterAll(async () => {
  await api.close();
  await ddb.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('database outage', () => {
  it('answers 503 UNAVAILABLE while DynamoDB is down and recovers by itself when it is back', async () => {
    const { book } = await bookWithCodes(api, 40);
    const claim = async (i: number) => answer(api.client(await user(`o-${i}`)).coupons.assign.$post({ json: { bookId: book.id } }));

    const before = await Promise.all([0, 1, 2, 3, 4].map(claim));
    expect(before.every((r) => r.status === 201)).toBe(true);

    await ddb.stop();
    const during = await Promise.all([5, 6, 7, 8].map(claim));
    for (const r of during) {
      expect(r.status).toBe(503);
      expect(r.json.error.code).toBe('UNAVAILABLE');
      expect(r.headers.get('retry-after')).toBeTruthy();
      expect(r.text).not.toMatch(/ECONNREFUSED|Error:|at /);
    }

    ddb = await startDynamoDbLocal({ dataDir, port: ddb.port });
    const after = await Promise.all([9, 10, 11].map(claim));
    expect(after.map((r) => r.status)).toEqual([201, 201, 201]);

    const stats = await bookStats(api, book.id);
    expect(stats.assigned).toBe(8);
    await expectInvariants(api);
  });
});
