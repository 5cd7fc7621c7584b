import { describe, expect, it } from 'vitest';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createDocumentClient } from '../db/client.ts';
import { createStore } from '../entities/index.ts';
import { transactionsOf, type HistoryItem } from './history-write.ts';

// Only the request parameters are built here; nothing is sent.
const store = createStore(createDocumentClient(new DynamoDBClient({ region: 'us-east-1' })), 'coupons');
const entry = (seq: number, at = '2026-12-01T00:00:00.000Z'): HistoryItem => ({ tenant: 't1', code: `ABC-${seq}`, bookId: 'b1', seq, type: 'redeemed', at, by: 'svc' });

describe('code history writes', () => {
  it('put an entry only if it does not exist, addressed to a HIST# item under the code, never to the code item', () => {
    const history = store.codeHistory.create({ ...entry(7), code: 'ABC-123' }).params() as { Item: Record<string, string>; ConditionExpression: string };
    const code = store.code.get({ tenant: 't1', code: 'ABC-123' }).params() as { Key: Record<string, string> };
    // Same partition (the code's own), another sort key: a replayed change names its own entry and nothing else.
    expect(history.Item.pk).toBe(code.Key.pk);
    expect(history.Item.sk).toBe('HIST#0000000007');
    expect(code.Key.sk).not.toMatch(/^HIST#/);
    expect(history.ConditionExpression).toBe('attribute_not_exists(#pk) AND attribute_not_exists(#sk)');
  });

  it('go in transactions of at most 100 items, entries and their distinct counters together', () => {
    const counter = { counterKeys: (i: HistoryItem) => ['day', `minute ${i.at}`] };
    const items = (n: number, at: (i: number) => string) => Array.from({ length: n }, (_, i) => entry(i + 1, at(i)));
    // One day, one minute: 2 counters per transaction, so 98 entries.
    expect(transactionsOf(items(250, () => 'm'), counter).map((c) => c.length)).toEqual([98, 98, 54]);
    // Every entry in a minute of its own: each adds a counter, so 49 entries (+ 49 minutes + 1 day).
    expect(transactionsOf(items(100, (i) => `m${i}`), counter).map((c) => c.length)).toEqual([49, 49, 2]);
    // Nothing counted: 100 entries.
    expect(transactionsOf(items(201, () => 'm')).map((c) => c.length)).toEqual([100, 100, 1]);
    expect(transactionsOf([])).toEqual([]);
  });
});
