import { inject } from 'vitest';
import { CostMeter, createDynamoDbClient, tableDefinition } from '@coupons/core';
import { startTestApi } from './harness.ts';

/**
 * A test API whose DynamoDB client is metered: every request it sends is
 * counted by the cost rules (packages/core/src/cost). The meter's own
 * before/after reads go through a separate, unmetered client.
 */
export async function startMeteredApi(name: string, env: Record<string, string> = {}) {
  let client: Parameters<CostMeter['attach']>[0] | undefined;
  const api = await startTestApi(name, env, { instrument: (c) => (client = c) });
  const shadow = createDynamoDbClient({ DYNAMODB_ENDPOINT: inject('dynamoDbEndpoint'), AWS_REGION: 'us-east-1' });
  const meter = new CostMeter(tableDefinition(api.table), shadow);
  meter.attach(client!);
  const close = async () => {
    await api.close();
    shadow.destroy();
  };
  return { api, meter, close };
}
