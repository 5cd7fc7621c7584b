import {
  CreateTableCommand,
  DescribeTableCommand,
  ResourceNotFoundException,
  UpdateTableCommand,
  UpdateTimeToLiveCommand,
  waitUntilTableExists,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { STREAM_VIEW_TYPE, tableDefinition, TTL_ATTRIBUTE } from './table-definition.ts';

/**
 * Creates the table with its indexes and TTL if it does not exist yet (local and tests; SST owns it on AWS).
 * A table an older release made (kept under DATA_DIR) gets the indexes and the stream it lacks,
 * as a deploy gives them to the AWS table; what its items lack is the migrations' job (docs/upgrades.md).
 *
 * `stream: false` leaves the change stream off. Only tests use it: DynamoDB Local slows down as
 * stream records pile up (a run that writes hundreds of thousands of codes with streams on takes
 * several times longer), so test files that follow no stream make tables without one.
 */
export async function ensureTable(client: DynamoDBClient, tableName: string, options: { stream?: boolean } = {}): Promise<'created' | 'existed'> {
  const stream = options.stream ?? true;
  try {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    // A table kept under DATA_DIR by an older version has no stream yet; history and webhooks need it.
    if (stream && !Table?.StreamSpecification?.StreamEnabled) {
      await client.send(
        new UpdateTableCommand({ TableName: tableName, StreamSpecification: { StreamEnabled: true, StreamViewType: STREAM_VIEW_TYPE } }),
      );
    }
    await addMissingIndexes(client, tableName, new Set((Table?.GlobalSecondaryIndexes ?? []).map((i) => i.IndexName)));
    return 'existed';
  } catch (e) {
    if (!(e instanceof ResourceNotFoundException)) throw e;
  }
  try {
    const definition = tableDefinition(tableName);
    if (!stream) delete definition.StreamSpecification;
    await client.send(new CreateTableCommand(definition));
  } catch (e) {
    if ((e as Error).name !== 'ResourceInUseException') throw e;
  }
  await waitUntilTableExists({ client, maxWaitTime: 60 }, { TableName: tableName });
  await client.send(
    new UpdateTimeToLiveCommand({
      TableName: tableName,
      TimeToLiveSpecification: { AttributeName: TTL_ATTRIBUTE, Enabled: true },
    }),
  );
  return 'created';
}

/**
 * One UpdateTable per index (DynamoDB creates one at a time), each waited for until it is ACTIVE:
 * building it reads every item, so a large table (or a busy DynamoDB Local) takes a while.
 */
async function addMissingIndexes(client: DynamoDBClient, tableName: string, present: Set<string | undefined>) {
  const definition = tableDefinition(tableName);
  for (const index of definition.GlobalSecondaryIndexes ?? []) {
    if (present.has(index.IndexName)) continue;
    const names = new Set(index.KeySchema!.map((k) => k.AttributeName));
    await client.send(
      new UpdateTableCommand({
        TableName: tableName,
        AttributeDefinitions: definition.AttributeDefinitions!.filter((a) => names.has(a.AttributeName)),
        GlobalSecondaryIndexUpdates: [{ Create: { IndexName: index.IndexName, KeySchema: index.KeySchema, Projection: index.Projection } }],
      }),
    );
    const deadline = Date.now() + 10 * 60_000;
    for (let wait = 100; ; wait = Math.min(2000, wait * 2)) {
      const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
      if (Table?.GlobalSecondaryIndexes?.find((g) => g.IndexName === index.IndexName)?.IndexStatus === 'ACTIVE') break;
      if (Date.now() > deadline) throw new Error(`index ${index.IndexName} of ${tableName} did not become active within 10 minutes`);
      await new Promise((r) => setTimeout(r, wait));
    }
  }
}
