import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { amzDate, signRequest, signingKey } from './sigv4.ts';
import { regionOfQueueUrl, sendSqsMessage, SqsError } from './sqs.ts';

// Pure: no network. The SQS service cannot run on these machines, so the request is checked
// against AWS's published SigV4 example and a vector from the AWS SDK's own signer.

describe('SigV4', () => {
  const example = {
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' },
    date: new Date('2015-08-30T12:36:00Z'),
  };

  it("matches AWS's published example (IAM ListUsers)", () => {
    expect(signingKey(example.credentials.secretAccessKey, '20150830', 'us-east-1', 'iam').toString('hex')).toBe(
      'c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9',
    );
    const headers = signRequest({
      method: 'GET',
      url: 'https://iam.amazonaws.com/?Action=ListUsers&Version=2010-05-08',
      headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
      body: '',
      region: 'us-east-1',
      service: 'iam',
      ...example,
    });
    expect(headers['x-amz-date']).toBe('20150830T123600Z');
    expect(headers.authorization).toBe(
      'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, SignedHeaders=content-type;host;x-amz-date, ' +
        'Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7',
    );
  });

  it("matches @smithy/signature-v4 on an SQS SendMessage with a session token (vector taken from the SDK's signer)", () => {
    const body = JSON.stringify({ QueueUrl: 'https://sqs.eu-west-1.amazonaws.com/123/q', MessageBody: '{"a":1}' });
    const headers = signRequest({
      method: 'POST',
      url: 'https://sqs.eu-west-1.amazonaws.com/',
      headers: {
        'content-type': 'application/x-amz-json-1.0',
        'x-amz-target': 'AmazonSQS.SendMessage',
        'x-amz-content-sha256': createHash('sha256').update(body).digest('hex'),
      },
      body,
      region: 'eu-west-1',
      service: 'sqs',
      credentials: { accessKeyId: 'AKIA123', secretAccessKey: 'secret/xyz', sessionToken: 'tok==' },
      date: new Date('2026-01-02T03:04:05Z'),
    });
    expect(headers['x-amz-security-token']).toBe('tok==');
    expect(headers.authorization).toBe(
      'AWS4-HMAC-SHA256 Credential=AKIA123/20260102/eu-west-1/sqs/aws4_request, ' +
        'SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date;x-amz-security-token;x-amz-target, ' +
        'Signature=9d8d10c9d3aad521f6ab4248fdb7a90cf1c29395db9e99905cc8d3e63862c092',
    );
  });

  it('formats the date as AWS wants it', () => {
    expect(amzDate(new Date('2026-11-22T05:06:07.890Z'))).toBe('20261122T050607Z');
  });
});

describe('SendMessage', () => {
  const credentials = async () => ({ accessKeyId: 'AKIA', secretAccessKey: 'shh' });

  it('posts the JSON protocol request to the queue host, signed for sqs in its region', async () => {
    const seen: { url: string; init: RequestInit }[] = [];
    const fake = (async (url: string, init: RequestInit) => {
      seen.push({ url, init });
      return new Response(JSON.stringify({ MessageId: 'm-1' }), { status: 200 });
    }) as unknown as typeof fetch;
    const queueUrl = 'https://sqs.ap-southeast-2.amazonaws.com/123456789012/jobs';
    expect(regionOfQueueUrl(queueUrl)).toBe('ap-southeast-2');
    const out = await sendSqsMessage({ queueUrl, credentials, fetch: fake }, '{"hello":1}');
    expect(out).toEqual({ messageId: 'm-1' });
    expect(seen[0]!.url).toBe('https://sqs.ap-southeast-2.amazonaws.com/');
    const headers = seen[0]!.init.headers as Record<string, string>;
    expect(headers['x-amz-target']).toBe('AmazonSQS.SendMessage');
    expect(headers['content-type']).toBe('application/x-amz-json-1.0');
    expect(headers.authorization).toContain('/ap-southeast-2/sqs/aws4_request');
    expect(JSON.parse(seen[0]!.init.body as string)).toEqual({ QueueUrl: queueUrl, MessageBody: '{"hello":1}' });
  });

  it('turns an SQS error into an SqsError with its type', async () => {
    const fake = (async () =>
      new Response(JSON.stringify({ __type: 'com.amazonaws.sqs#QueueDoesNotExist', message: 'nope' }), { status: 400 })) as unknown as typeof fetch;
    await expect(sendSqsMessage({ queueUrl: 'https://sqs.us-east-1.amazonaws.com/1/q', credentials, fetch: fake }, 'x')).rejects.toThrow(SqsError);
    await expect(sendSqsMessage({ queueUrl: 'https://sqs.us-east-1.amazonaws.com/1/q', credentials, fetch: fake }, 'x')).rejects.toThrow(/QueueDoesNotExist/);
  });
});
