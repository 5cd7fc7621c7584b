import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BatchWriteItemCommand, CreateTableCommand, waitUntilTableExists, type AttributeValue, type DynamoDBClient } from '@aws-sdk/client-dynamodb';

/** What test/fixtures/write-previous-release.ts recorded while running the previous release. */
export interface PreviousRelease {
  release: { commit: string; subject: string };
  writtenAt: string;
  /** When the last request was answered: everything time-bound was alive then. */
  finishedAt: string;
  /** That release's table: keys and indexes (no byBook). */
  table: Record<string, any>;
  manifest: {
    books: { tenant: string; id: string; name: string; status: string; stats: { codes: number; available: number; assigned: number; redeemed: number } }[];
    redemptions: { tenant: string; code: string; redemptionId: string; userId: string; orderId?: string }[];
    keyed: { tenant: string; role: 'admin' | 'service' | 'user'; sub: string; key: string; method: string; path: string; body: unknown; status: number; response: unknown }[];
    heldLock: { tenant: string; userId: string; code: string; lockId: string; lockExpiresAt: string };
    guesser: { tenant: string; sub: string };
  };
  /** Every item as that release stored it (AttributeValue maps). */
  items: Record<string, AttributeValue>[];
}

/** The fixture, binary attributes decoded from base64. */
export function readPreviousRelease(): PreviousRelease {
  const fixture = JSON.parse(readFileSync(join(import.meta.dirname, '..', 'fixtures', 'previous-release.json'), 'utf8'));
  const decode = (v: any): any => {
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      if (typeof v.B === 'string' && Object.keys(v).length === 1) return { B: Buffer.from(v.B, 'base64') };
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, decode(x)]));
    }
    return Array.isArray(v) ? v.map(decode) : v;
  };
  return { ...fixture, items: fixture.items.map(decode) };
}

/** The fixture's items of one entity (`__edb_e__`), optionally only those `keep` accepts. */
export const fixtureItems = (fixture: PreviousRelease, entity: string, keep: (i: Record<string, AttributeValue>) => boolean = () => true) =>
  fixture.items.filter((i) => i.__edb_e__?.S === entity && keep(i));

/**
 * The previous release's table: created with that release's definition (no `byBook` index),
 * holding exactly its items. Today's `ensureTable` then adds what it lacks, as `npm start` does
 * to a `DATA_DIR` table; building that index reads every item, which a DynamoDB Local shared
 * with a busy suite can take minutes to do, so only the test of that path makes one.
 */
export async function createPreviousReleaseTable(client: DynamoDBClient, table: string, fixture: PreviousRelease): Promise<void> {
  await client.send(new CreateTableCommand({ ...(fixture.table as any), TableName: table, StreamSpecification: undefined }));
  await waitUntilTableExists({ client, maxWaitTime: 60 }, { TableName: table });
  await loadPreviousRelease(client, table, fixture);
}

/**
 * The previous release's items, exactly as it stored them, into a table of today's definition: what
 * a deployed stage holds once the deploy has added the `byBook` index (its old items have no keys
 * in it) and before the migrations run.
 */
export async function loadPreviousRelease(client: DynamoDBClient, table: string, fixture: PreviousRelease): Promise<void> {
  for (let i = 0; i < fixture.items.length; i += 25) {
    let requests: any = { [table]: fixture.items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } })) };
    while (requests && Object.keys(requests).length) {
      const { UnprocessedItems } = await client.send(new BatchWriteItemCommand({ RequestItems: requests }));
      requests = UnprocessedItems;
    }
  }
}

/**
 * A clock for the API and the migrations: a second after the previous release answered its last
 * request, running on from there. The fixture's time-bound items (idempotency records live 24
 * hours, a lock, the code-guessing window) are then as alive as they were when it stopped.
 */
export function fixtureClock(fixture: PreviousRelease): () => number {
  const offset = Date.now() - (Date.parse(fixture.finishedAt) + 1000);
  return () => Date.now() - offset;
}
