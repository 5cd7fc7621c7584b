import { randomBytes } from 'node:crypto';
import { QueryCommand, TransactWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/**
 * The raw baseline of loading codes: items shaped like the service's new code items, written
 * straight to DynamoDB with no HTTP, no JSON, no stats and no idempotency.
 */
export interface RawCodes {
  table: string;
  tenant: string;
  /** Names the raw book (`raw-<tag>`) and prefixes its codes, so runs never collide. */
  tag: string;
}

const bookKey = ({ tenant, tag }: RawCodes) => `T#${tenant}#BOOK#raw-${tag}`;

/** `n` codes as TransactWriteItems of 100 conditional puts, `concurrency` in flight; the seconds it took. */
export async function rawTransactions(doc: DynamoDBDocumentClient, run: RawCodes & { n: number; concurrency: number }): Promise<number> {
  const { table, tenant, tag, n } = run;
  const bookPk = bookKey(run);
  const now = new Date().toISOString();
  const transactions = Math.ceil(n / 100);
  let next = 0;
  const began = performance.now();
  await Promise.all(
    Array.from({ length: run.concurrency }, async () => {
      while (next < transactions) {
        const t = next++;
        const items = Array.from({ length: Math.min(100, n - t * 100) }, (_, j) => {
          const code = `RAW${tag}-${(t * 100 + j).toString(36).toUpperCase()}`;
          const shard = (t + j) % 16;
          // The attributes the service writes for a new code (see entities/code.ts).
          return {
            Put: {
              TableName: table,
              Item: {
                pk: `T#${tenant}#CODE#${code}`,
                sk: 'CODE',
                gsi1pk: `${bookPk}#POOL#${shard}`,
                gsi1sk: randomBytes(8).toString('hex'),
                gsi3pk: `${bookPk}#CODES#${shard}`,
                gsi3sk: code,
                tenant,
                code,
                bookId: `raw-${tag}`,
                shard,
                poolSlot: randomBytes(8).toString('hex'),
                status: 'available',
                redemptionCount: 0,
                createdAt: now,
                __edb_e__: 'code',
                __edb_v__: '1',
              },
              ConditionExpression: 'attribute_not_exists(pk) AND attribute_not_exists(sk)',
            },
          };
        });
        await doc.send(new TransactWriteCommand({ TransactItems: items }));
      }
    }),
  );
  return (performance.now() - began) / 1000;
}

/** How many of the raw book's codes the table holds, counted through the pool index (keys only). */
export async function countRawCodes(doc: DynamoDBDocumentClient, run: RawCodes): Promise<number> {
  let n = 0;
  for (let shard = 0; shard < 16; shard++) {
    let ExclusiveStartKey: Record<string, any> | undefined;
    do {
      const page = await doc.send(
        new QueryCommand({
          TableName: run.table,
          IndexName: 'pool',
          KeyConditionExpression: 'gsi1pk = :p',
          ExpressionAttributeValues: { ':p': `${bookKey(run)}#POOL#${shard}` },
          Select: 'COUNT',
          ExclusiveStartKey,
        }),
      );
      n += page.Count ?? 0;
      ExclusiveStartKey = page.LastEvaluatedKey;
    } while (ExclusiveStartKey);
  }
  return n;
}
