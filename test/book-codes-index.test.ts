import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { createDocumentClient, createDynamoDbClient } from '@coupons/core';
import { unwrap } from '@coupons/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runProcess } from '../scripts/lib/run-process.ts';
import { admin, answer, createBook, startTestApi, uniqueCode, type TestApi } from './support/harness.ts';
import { expectInvariants } from './support/invariants.ts';

// Every way codes enter a book puts them in the byBook index, and nothing a code goes through
// afterwards writes that index again. Checked against the table (a scan is the ground truth here;
// the service itself never scans).
/** Shards of every book here, chosen per book at creation. */
const SHARDS = 4;
let api: TestApi;
let dir: string;
beforeAll(async () => {
  api = await startTestApi('book-codes-index');
  dir = mkdtempSync(join(tmpdir(), 'book-codes-index-'));
});
afterAll(async () => {
  await api.close();
  rmSync(dir, { recursive: true, force: true });
});

const codeItems = async (bookId: string) => (await api.scan()).filter((i) => i.__edb_e__ === 'code' && i.bookId === bookId);

/** The codes the listing shows, every page, every shard. */
async function listed(bookId: string): Promise<string[]> {
  const out: string[] = [];
  let cursor: string | null = null;
  do {
    const r = await answer(api.client(await admin()).coupons[':bookId'].codes.$get({ param: { bookId }, query: { limit: '1000', ...(cursor ? { cursor } : {}) } }));
    expect(r.status, r.text).toBe(200);
    out.push(...r.json.items.map((i: any) => i.code));
    cursor = r.json.nextCursor;
  } while (cursor);
  return out.sort();
}

async function expectIndexed(bookId: string, count: number) {
  const items = await codeItems(bookId);
  expect(items).toHaveLength(count);
  for (const i of items) {
    expect(i.gsi3pk).toBe(`T#t1#BOOK#${bookId}#CODES#${i.shard}`);
    expect(i.gsi3sk).toBe(i.code);
  }
  expect(await listed(bookId)).toEqual(items.map((i) => i.code as string).sort());
}

describe('codes enter the byBook index on every insert path', () => {
  it('an upload', async () => {
    const book = await createBook(api, { shards: SHARDS });
    const codes = Array.from({ length: 250 }, () => uniqueCode('UPL'));
    expect((await answer(api.client(await admin()).coupons.codes.$post({ json: { bookId: book.id, codes } }))).json.inserted).toBe(250);
    await expectIndexed(book.id, 250);
  });

  it('a generation in the request', async () => {
    const book = await createBook(api, { shards: SHARDS });
    const r = await answer(api.client(await admin()).coupons.codes.generate.$post({ json: { bookId: book.id, count: 300, pattern: 'GEN-********' } }));
    expect(r.status).toBe(201);
    await expectIndexed(book.id, 300);
  });

  it('the CLI bulk load', async () => {
    const book = await createBook(api, { shards: SHARDS });
    const codes = Array.from({ length: 120 }, () => uniqueCode('CLI'));
    const file = join(dir, 'load.csv');
    writeFileSync(file, `code\n${codes.join('\n')}\n`);
    const run = await runProcess(process.execPath, ['--import', 'tsx', 'scripts/codes.ts', 'load', '--book', book.id, '--file', file, '--chunk-size', '50', '--api', api.base, '--token', await admin(), '--json'], {
      env: { ...process.env, COUPONS_TOKEN: '', COUPONS_API: '' },
    });
    expect(run.code, run.stderr).toBe(0);
    await expectIndexed(book.id, 120);
  });
});

describe('nothing after insert writes the byBook index', () => {
  it('assign, lock, unlock and redeem leave the code’s byBook keys as they were', async () => {
    const book = await createBook(api, { shards: SHARDS, maxRedemptionsPerUser: 2 });
    const codes = Array.from({ length: 3 }, () => uniqueCode('LIFE'));
    await answer(api.client(await admin()).coupons.codes.$post({ json: { bookId: book.id, codes } }));
    const keys = async () => new Map((await codeItems(book.id)).map((i) => [i.code, `${i.gsi3pk}|${i.gsi3sk}`]));
    const before = await keys();
    const { coupons } = api.client(await admin());
    const param = { code: codes[0]! };
    await unwrap(coupons.assign[':code'].$post({ param, json: { userId: 'u1', lock: true } }));
    await unwrap(coupons.unlock[':code'].$post({ param, json: { userId: 'u1' } }));
    await unwrap(coupons.assign.$post({ json: { bookId: book.id, userId: 'u2' } }));
    const { lockId } = await unwrap(coupons.lock[':code'].$post({ param, json: { userId: 'u1' } }));
    await unwrap(coupons.redeem[':code'].$post({ param, json: { userId: 'u1', lockId } }));
    await unwrap(coupons.redeem[':code'].$post({ param, json: { userId: 'u1' } }));
    expect(await keys()).toEqual(before);
    await expectInvariants(api);
  });

  it('DynamoDB writes no index entry when an update sets an index key to the value it has (what the claim does)', async () => {
    // The claim's ElectroDB patch re-sets gsi3pk (it names bookId and shard); this is the rule that
    // makes that free. DynamoDB Local reports index capacity for single-item writes.
    const doc = createDocumentClient(createDynamoDbClient(api.core.config));
    const Key = { pk: 'T#probe#CODE#X', sk: 'CODE' };
    const write = async (cmd: any) => ((await doc.send(cmd)) as any).ConsumedCapacity?.GlobalSecondaryIndexes?.byBook?.CapacityUnits ?? 0;
    expect(await write(new PutCommand({ TableName: api.table, Item: { ...Key, gsi3pk: 'P', gsi3sk: 'X' }, ReturnConsumedCapacity: 'INDEXES' }))).toBe(1);
    const update = (p: string) =>
      new UpdateCommand({ TableName: api.table, Key, UpdateExpression: 'SET gsi3pk = :p, note = :o', ExpressionAttributeValues: { ':p': p, ':o': p }, ReturnConsumedCapacity: 'INDEXES' });
    expect(await write(update('P'))).toBe(0);
    expect(await write(update('Q'))).toBe(2);
    expect((await doc.send(new GetCommand({ TableName: api.table, Key }))).Item?.gsi3pk).toBe('Q');
  });
});

// Last: its 10,001 codes make every later scan of the table slower.
describe('codes enter the byBook index from a generation job', () => {
  // 10,001 codes through a job, then a scan and a listing of them: minutes on a loaded machine.
  it('a generation job', { timeout: 360_000 }, async () => {
    const book = await createBook(api, { shards: SHARDS });
    const r = await answer(api.client(await admin()).coupons.codes.generate.$post({ json: { bookId: book.id, count: 10_001, pattern: 'JOB-*********' } }));
    expect(r.status).toBe(202);
    const deadline = Date.now() + 240_000;
    for (;;) {
      const j = await answer(api.client(await admin()).jobs[':jobId'].$get({ param: { jobId: r.json.jobId } }));
      if (j.json.status === 'succeeded') break;
      expect(j.json.status).not.toBe('failed');
      if (Date.now() > deadline) throw new Error('job did not finish');
      await new Promise((res) => setTimeout(res, 200));
    }
    await expectIndexed(book.id, 10_001);
  });
});
