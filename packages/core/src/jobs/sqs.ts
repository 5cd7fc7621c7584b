import { signRequest, type AwsCredentials } from './sigv4.ts';

/**
 * SendMessage over SQS's JSON protocol (the one the AWS SDKs use), signed
 * with SigV4. One call is all the service needs from SQS: the queue's
 * subscriber is wired by Lambda's event source mapping, not by this code.
 * The SQS service cannot run on these machines; tests check the request
 * this sends (test/jobs.test.ts) and the signature (sigv4.test.ts).
 */
export interface SqsSendOptions {
  queueUrl: string;
  /** Defaults to the region in the queue URL (`https://sqs.<region>.amazonaws.com/...`). */
  region?: string;
  credentials: () => Promise<AwsCredentials>;
  fetch?: typeof fetch;
}

export function regionOfQueueUrl(queueUrl: string): string | undefined {
  return /^sqs\.([a-z0-9-]+)\.amazonaws\.com/.exec(new URL(queueUrl).host)?.[1];
}

export class SqsError extends Error {}

export async function sendSqsMessage(options: SqsSendOptions, messageBody: string): Promise<{ messageId: string }> {
  const queue = new URL(options.queueUrl);
  const region = options.region ?? regionOfQueueUrl(options.queueUrl);
  if (!region) throw new SqsError(`cannot tell the region of ${options.queueUrl}`);
  const url = `${queue.protocol}//${queue.host}/`;
  const body = JSON.stringify({ QueueUrl: options.queueUrl, MessageBody: messageBody });
  const headers = signRequest({
    method: 'POST',
    url,
    headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'AmazonSQS.SendMessage' },
    body,
    region,
    service: 'sqs',
    credentials: await options.credentials(),
  });
  const { host: _host, ...sendHeaders } = headers; // fetch sets Host itself
  const res = await (options.fetch ?? fetch)(url, { method: 'POST', headers: sendHeaders, body });
  const text = await res.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  if (!res.ok || typeof json?.MessageId !== 'string') {
    throw new SqsError(`SQS SendMessage failed: ${res.status} ${json?.__type ?? ''} ${json?.message ?? json?.Message ?? ''}`.trim());
  }
  return { messageId: json.MessageId };
}
