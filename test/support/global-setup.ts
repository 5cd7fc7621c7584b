import type { TestProject } from 'vitest/node';
import { startDynamoDbLocal } from '../../scripts/lib/dynamodb-local.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    dynamoDbEndpoint: string;
  }
}

/** One DynamoDB Local on a free port for the whole run; every test file makes its own table in it. */
export default async function setup(project: TestProject) {
  const ddb = await startDynamoDbLocal();
  project.provide('dynamoDbEndpoint', ddb.endpoint);
  return () => ddb.stop();
}
