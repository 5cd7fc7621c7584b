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
