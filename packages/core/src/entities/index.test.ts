import { describe, expect, it, vi } from 'vitest';
import { Entity } from 'electrodb';
import { createDocumentClient, createDynamoDbClient } from '../db/client.ts';
import { createStore, writeTransaction } from './index.ts';

// No request is sent: ElectroDB builds entities and transaction parameters without the network.
const store = () => createStore(createDocumentClient(createDynamoDbClient({ AWS_REGION: 'us-east-1' })), 'entities-test');

describe('the store', () => {
  it('builds every entity, and ElectroDB validates every model (the Lambda bundle skips that check: scripts/build-lambda.ts)', () => {
    const s = store();
    const names = Object.keys(s).filter((k) => !['client', 'table'].includes(k));
    expect(names.length).toBeGreaterThanOrEqual(16);
    for (const name of names) expect((s as unknown as Record<string, unknown>)[name], name).toBeInstanceOf(Entity);
    expect(Object.keys(s.service.entities).sort()).toEqual(names.sort());
  });

  it('builds an entity on first use only, and a transaction builds only the entities it uses', () => {
    // Each entity validates its model once, as it is built.
    const validations = vi.spyOn(Entity.prototype as unknown as { _validateModel(m: unknown): void }, '_validateModel');
    try {
      const s = store();
      expect(validations).toHaveBeenCalledTimes(0);
      expect(s.code).toBe(s.code);
      expect(validations).toHaveBeenCalledTimes(1);
      const params = writeTransaction(s, ({ book, bookStatsShard }) => [
        book.patch({ tenant: 't', bookId: 'b' }).set({ name: 'x' }).commit(),
        bookStatsShard.patch({ tenant: 't', bookId: 'b', shard: 0 }).add({ available: 1 }).commit(),
      ]).params() as { TransactItems: { Update: { TableName: string; Key: Record<string, string> } }[] };
      expect(params.TransactItems.map((i) => [i.Update.TableName, i.Update.Key.pk])).toEqual([
        ['entities-test', 'T#t#BOOK#b'],
        ['entities-test', expect.stringMatching(/^T#t#BOOK#b/)],
      ]);
      expect(validations).toHaveBeenCalledTimes(3);
    } finally {
      validations.mockRestore();
    }
  });
});
