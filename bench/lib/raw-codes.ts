import { randomBytes } from 'node:crypto';
import { QueryCommand, TransactWriteCommand, type DynamoDBDocumentClient, type TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';
import { createStore } from '@coupons/core';

/**
 * The raw baseline of loading codes: new code items exactly as the code entity creates them (its
 * keys, its pool and byBook entries, its attribute_not_exists condition, from the entity's own
 * request parameters), written straight to DynamoDB with no HTTP, no JSON, no stats and no
 * idempotency.
 */
export interface RawCodes {
  table: string;
  tenant: string;
  /** Names the raw book (`raw-<tag>`) and prefixes its codes, so runs never collide. */
  tag: string;
}

const SHARDS = 16;
const bookIdOf = ({ tag }: RawCodes) => `raw-${tag}`;

/** `n` codes as TransactWriteItems of 100 conditional puts, `concurrency` in flight; the seconds it took. */
export async function rawTransactions(doc: DynamoDBDocumentClient, run: RawCodes & { n: number; concurrency: number }): Promise<number> {
  const { tenant, tag, n } = run;
  const store = createStore(doc, run.table);
  const createdAt = new Date().toISOString();
  // Built before the clock starts.
  const transactions: TransactWriteCommandInput[] = Array.from({ length: Math.ceil(n / 100) }, (_, t) =>
    store.service.transaction
      .write(({ code }) =>
        Array.from({ length: Math.min(100, n - t * 100) }, (_, j) =>
          code
            .create({
              tenant,
              code: `RAW${tag}-${(t * 100 + j).toString(36).toUpperCase()}`,
              bookId: bookIdOf(run),
              shard: (t + j) % SHARDS,
              poolSlot: randomBytes(8).toString('hex'),
              status: 'available',
              redemptionCount: 0,
              createdAt,
            })
            .commit(),
        ),
      )
      .params() as TransactWriteCommandInput,
  );
  let next = 0;
  const began = performance.now();
  await Promise.all(
    Array.from({ length: run.concurrency }, async () => {
      while (next < transactions.length) await doc.send(new TransactWriteCommand(transactions[next++]!));
    }),
  );
  return (performance.now() - began) / 1000;
}

/** How many of the raw book's codes the table holds, counted through the pool index (keys only). */
export async function countRawCodes(doc: DynamoDBDocumentClient, run: RawCodes): Promise<number> {
  const store = createStore(doc, run.table);
  let n = 0;
  for (let shard = 0; shard < SHARDS; shard++) {
    let ExclusiveStartKey: Record<string, any> | undefined;
    do {
      const query = store.code.query.pool({ tenant: run.tenant, bookId: bookIdOf(run), shard }).params();
      const page = await doc.send(new QueryCommand({ ...query, Select: 'COUNT', ExclusiveStartKey }));
      n += page.Count ?? 0;
      ExclusiveStartKey = page.LastEvaluatedKey;
    } while (ExclusiveStartKey);
  }
  return n;
}
