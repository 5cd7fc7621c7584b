import { describe, expect, it } from 'vitest';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createDocumentClient } from '../db/client.ts';
import { createStore } from '../entities/index.ts';

// Only the request parameters are built here; nothing is sent.
const store = createStore(createDocumentClient(new DynamoDBClient({ region: 'us-east-1' })), 'coupons');

describe('code history writes', () => {
  it('are blind puts (BatchWriteItem cannot refuse to overwrite) only ever addressed to HIST# items, never to the code item', () => {
    const entry = { tenant: 't1', code: 'ABC-123', bookId: 'b1', type: 'redeemed' as const, at: '2026-12-01T00:00:00.000Z', by: 'svc' };
    const history = store.codeHistory.put({ ...entry, seq: 7 }).params() as { Item: Record<string, string> };
    const code = store.code.get({ tenant: 't1', code: 'ABC-123' }).params() as { Key: Record<string, string> };
    // Same partition (the code's own), another sort key: a replayed batch rewrites its own entry and nothing else.
    expect(history.Item.pk).toBe(code.Key.pk);
    expect(history.Item.sk).toBe('HIST#0000000007');
    expect(code.Key.sk).not.toMatch(/^HIST#/);
  });
});
