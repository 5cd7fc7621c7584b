import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

export const SERVICE = 'coupons';

export interface EntityConfig {
  client: DynamoDBDocumentClient;
  table: string;
}
