import type { SQSClient } from '@aws-sdk/client-sqs';

/**
 * The one SQS call the service makes: queue a job message. The queue's
 * subscriber is wired by Lambda's event source mapping, not by this code.
 * Credentials and region come from the SDK's default chain (the Lambda's role).
 *
 * The SDK's SQS client is imported on first use: most API instances never
 * queue a job, and it would otherwise weigh on every cold start.
 */
export interface SqsOptions {
  region?: string;
  endpoint?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
}

export type LazySqsClient = () => Promise<SQSClient>;

export function createSqsClient(options: SqsOptions = {}): LazySqsClient {
  let client: Promise<SQSClient> | undefined;
  return () => (client ??= import('@aws-sdk/client-sqs').then(({ SQSClient }) => new SQSClient({ maxAttempts: 3, ...options })));
}

export async function sendSqsMessage(client: LazySqsClient, queueUrl: string, messageBody: string): Promise<{ messageId: string }> {
  const { SendMessageCommand } = await import('@aws-sdk/client-sqs');
  const out = await (await client()).send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: messageBody }));
  return { messageId: out.MessageId! };
}
