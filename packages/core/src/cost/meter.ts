import { BatchGetItemCommand, type AttributeValue, type BatchGetItemCommandOutput, type CreateTableCommandInput, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { indexChanges, partitionKeyOf, primaryKeyOf, tableShape, type IndexChange, type TableShape } from './index-entries.ts';
import { itemSize, readUnits, writeUnits } from './item-size.ts';

type Item = Record<string, AttributeValue>;

/** One item a write request touched, and what it cost in the table and in each index. */
export interface WriteCharge {
  entity: string;
  action: 'put' | 'update' | 'delete' | 'check';
  transactional: boolean;
  /** The item's partition key in the table. */
  pk: string;
  wcu: number;
  indexes: IndexChange[];
}

export interface ReadCharge {
  /** Undefined for the table itself. */
  index?: string;
  pk?: string;
  rcu: number;
  consistent: boolean;
}

/** One request sent to DynamoDB. */
export interface RequestCharge {
  command: string;
  /** `cancelled`: a transaction DynamoDB refused (a failed condition or a conflict); counted apart. */
  outcome: 'ok' | 'cancelled' | 'conditionFailed' | 'error';
  writes: WriteCharge[];
  reads: ReadCharge[];
  wcu: number;
  rcu: number;
}

const TABLE_WRITES = new Set(['PutItemCommand', 'UpdateItemCommand', 'DeleteItemCommand', 'BatchWriteItemCommand', 'TransactWriteItemsCommand']);

interface Planned {
  key: Item;
  action: WriteCharge['action'];
  transactional: boolean;
  /** The item a put writes, known without reading it back. */
  put?: Item;
}

/** The items a write request names, in request order. */
function plannedWrites(table: TableShape, command: string, input: any): Planned[] {
  const put = (item: Item, transactional: boolean): Planned => ({ key: primaryKeyOf(table, item), action: 'put', transactional, put: item });
  switch (command) {
    case 'PutItemCommand':
      return [put(input.Item, false)];
    case 'UpdateItemCommand':
      return [{ key: input.Key, action: 'update', transactional: false }];
    case 'DeleteItemCommand':
      return [{ key: input.Key, action: 'delete', transactional: false }];
    case 'BatchWriteItemCommand':
      return Object.values(input.RequestItems as Record<string, any[]>)
        .flat()
        .map((r) => (r.PutRequest ? put(r.PutRequest.Item, false) : { key: r.DeleteRequest.Key, action: 'delete' as const, transactional: false }));
    case 'TransactWriteItemsCommand':
      return (input.TransactItems as any[]).map((t) =>
        t.Put
          ? put(t.Put.Item, true)
          : t.Update
            ? { key: t.Update.Key, action: 'update' as const, transactional: true }
            : t.Delete
              ? { key: t.Delete.Key, action: 'delete' as const, transactional: true }
              : { key: t.ConditionCheck.Key, action: 'check' as const, transactional: true },
      );
    default:
      return [];
  }
}

/**
 * Counts what every request sent through a DynamoDB client costs, by the
 * published rules (item-size.ts, index-entries.ts), per partition key of the
 * table and of each index. DynamoDB Local's own ConsumedCapacity is wrong
 * for transactions and silent about indexes, so nothing is taken from it.
 *
 * How index entries are known: before a write is sent, the meter reads the
 * items it names (consistently, through `shadow`, a client it does not
 * meter) and, once committed, reads them again (a put's item is known). The
 * before and after images, with the table definition's index keys and
 * projections, say which entries appeared, vanished, changed or moved. This
 * is exact when no other writer changes the same item between those reads;
 * in this service the items many writers share (stats shards) carry no
 * index key, so concurrency changes their size by a digit at most. For tests
 * and benchmarks only: the extra reads double a request's round trips.
 */
export class CostMeter {
  readonly table: TableShape;
  private readonly tableName: string;
  private records: RequestCharge[] = [];
  /** Off while a benchmark seeds data it does not want counted. */
  enabled = true;

  constructor(
    definition: CreateTableCommandInput,
    private readonly shadow: DynamoDBClient,
  ) {
    this.table = tableShape(definition);
    this.tableName = definition.TableName!;
  }

  /** Every request through `client` from now on is counted. */
  attach(client: DynamoDBClient): void {
    client.middlewareStack.add((next, context: any) => async (args: any) => this.count(context, args, next), { step: 'build', name: 'costMeter' });
  }

  /** The requests counted since the last take, and a fresh start. */
  take(): RequestCharge[] {
    const out = this.records;
    this.records = [];
    return out;
  }

  private async count(context: any, args: any, next: (a: any) => Promise<any>) {
    const command: string = context.commandName;
    if (!this.enabled) return next(args);
    const input = args.input;
    const writes = TABLE_WRITES.has(command) ? plannedWrites(this.table, command, input) : [];
    const before = writes.length ? await this.images(writes.map((w) => w.key)) : new Map<string, Item>();
    let result: any;
    let outcome: RequestCharge['outcome'] = 'ok';
    try {
      result = await next(args);
    } catch (e) {
      const name = (e as Error).name;
      outcome = name === 'TransactionCanceledException' ? 'cancelled' : name === 'ConditionalCheckFailedException' ? 'conditionFailed' : 'error';
      this.push(command, outcome, this.chargeFailedWrites(writes, before, outcome), []);
      throw e;
    }
    const after = writes.some((w) => !w.put && w.action !== 'delete' && w.action !== 'check') ? await this.images(writes.map((w) => w.key)) : new Map();
    const charged = writes.map((w) => this.chargeWrite(w, before.get(this.id(w.key)), w.put ?? (w.action === 'delete' ? undefined : after.get(this.id(w.key)))));
    const mapped = !!context.__aws_sdk_context?.features?.DDB_MAPPER;
    this.push(command, outcome, charged, this.chargeReads(command, input, result?.output, mapped));
    return result;
  }

  private push(command: string, outcome: RequestCharge['outcome'], writes: WriteCharge[], reads: ReadCharge[]) {
    const counted = outcome === 'ok' || outcome === 'conditionFailed';
    const wcu = counted ? writes.reduce((s, w) => s + w.wcu + w.indexes.reduce((t, i) => t + i.wcu, 0), 0) : 0;
    this.records.push({ command, outcome, writes, reads, wcu, rcu: reads.reduce((s, r) => s + r.rcu, 0) });
  }

  private id = (key: Item) => JSON.stringify(key[this.table.key.hash]) + JSON.stringify(this.table.key.range ? key[this.table.key.range] : null);

  /** Current images of the keys, read consistently without being counted. */
  private async images(keys: Item[]): Promise<Map<string, Item>> {
    const unique = [...new Map(keys.map((k) => [this.id(k), k])).values()];
    const out = new Map<string, Item>();
    for (let i = 0; i < unique.length; i += 100) {
      let request: Record<string, any> | undefined = { [this.tableName]: { Keys: unique.slice(i, i + 100), ConsistentRead: true } };
      while (request && Object.keys(request).length) {
        const res: BatchGetItemCommandOutput = await this.shadow.send(new BatchGetItemCommand({ RequestItems: request }));
        for (const item of res.Responses?.[this.tableName] ?? []) out.set(this.id(item), item);
        request = res.UnprocessedKeys;
      }
    }
    return out;
  }

  private chargeWrite(w: Planned, before: Item | undefined, after: Item | undefined): WriteCharge {
    const entity = (after ?? before)?.__edb_e__?.S ?? 'unknown';
    const pk = partitionKeyOf(this.table, w.key);
    if (w.action === 'check') return { entity, action: 'check', transactional: true, pk, wcu: writeUnits(before ? itemSize(before) : 0, true), indexes: [] };
    const bytes = Math.max(before ? itemSize(before) : 0, after ? itemSize(after) : 0);
    return { entity, action: w.action, transactional: w.transactional, pk, wcu: writeUnits(bytes, w.transactional), indexes: indexChanges(this.table, before, after) };
  }

  /** A refused plain write still consumes write units; a cancelled transaction is recorded but not added up. */
  private chargeFailedWrites(writes: Planned[], before: Map<string, Item>, outcome: RequestCharge['outcome']): WriteCharge[] {
    if (outcome === 'error') return [];
    return writes.map((w) => {
      const b = before.get(this.id(w.key));
      return { ...this.chargeWrite(w, b, b), indexes: [] };
    });
  }

  /** The partition key a Query names: the value its key condition gives the (index's) hash attribute. */
  private queriedKey(input: any): string | undefined {
    const hash = input.IndexName ? this.table.indexes.find((i) => i.name === input.IndexName)?.hash : this.table.key.hash;
    const name = Object.entries((input.ExpressionAttributeNames ?? {}) as Record<string, string>).find(([, v]) => v === hash)?.[0] ?? hash;
    const placeholder = new RegExp(`${name}\\s*=\\s*(:[\\w]+)`).exec(input.KeyConditionExpression ?? '')?.[1];
    const value = placeholder ? (input.ExpressionAttributeValues?.[placeholder] as AttributeValue | undefined) : undefined;
    return value?.S;
  }

  /** Reads, sized from what came back. Inputs here are in DynamoDB's form; outputs of document-client commands are plain. */
  private chargeReads(command: string, input: any, output: any, mapped: boolean): ReadCharge[] {
    const wire = (item: any): Item => (mapped ? marshall(item, { removeUndefinedValues: true, convertClassInstanceToMap: true }) : item);
    const size = (item: any) => (item ? itemSize(wire(item)) : 0);
    switch (command) {
      case 'GetItemCommand': {
        const consistent = !!input.ConsistentRead;
        return [{ pk: partitionKeyOf(this.table, input.Key), rcu: readUnits(size(output?.Item), consistent), consistent }];
      }
      case 'BatchGetItemCommand': {
        const consistent = !!Object.values(input.RequestItems as Record<string, any>)[0]?.ConsistentRead;
        const items = Object.values((output?.Responses ?? {}) as Record<string, any[]>).flat();
        const requested = Object.values(input.RequestItems as Record<string, any>).reduce((s, r) => s + r.Keys.length, 0);
        // Each key is read as a GetItem would read it; a key that finds nothing still costs the minimum.
        const found = items.map((i) => ({ pk: partitionKeyOf(this.table, wire(i)), rcu: readUnits(size(i), consistent), consistent }));
        const missing = Array.from({ length: Math.max(0, requested - items.length) }, () => ({ rcu: readUnits(0, consistent), consistent }));
        return [...found, ...missing];
      }
      case 'QueryCommand':
      case 'ScanCommand': {
        const consistent = !!input.ConsistentRead;
        const bytes = (output?.Items ?? []).reduce((s: number, i: any) => s + size(i), 0);
        const pk = command === 'QueryCommand' ? this.queriedKey(input) : undefined;
        return [{ index: input.IndexName, pk, rcu: readUnits(bytes, consistent), consistent }];
      }
      case 'TransactGetItemsCommand':
        return (output?.Responses ?? []).map((r: any) => ({ rcu: 2 * readUnits(size(r.Item), true), consistent: true }));
      default:
        return [];
    }
  }
}
