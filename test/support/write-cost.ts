import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/**
 * Counts what the service asks of DynamoDB, request by request (DynamoDB
 * Local's own ConsumedCapacity is wrong for transactions), and prices it by
 * the published rules: a write 1 WCU per KB, an item of TransactWriteItems 2
 * per KB, a ConditionCheck 2; each index entry added, removed or changed 1
 * (a changed index key 2); a read 1 RCU per 4 KB consistent, half that
 * eventually consistent. Index effects and item sizes come from the items as
 * they were before and after (the caller scans the table around the
 * operation).
 */
export interface SentRequest {
  command: string;
  input: any;
  output: any;
}

export function meter(client: DynamoDBDocumentClient) {
  const sent: SentRequest[] = [];
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const result: any = await next(args);
      sent.push({ command: (context as { commandName?: string }).commandName ?? '', input: args.input, output: result.output });
      return result;
    },
    { step: 'initialize', name: 'costMeter', override: true },
  );
  return {
    sent,
    reset: () => {
      sent.length = 0;
    },
  };
}

/** DynamoDB's item size: attribute names plus values (strings by UTF-8 length, numbers about 1 byte per 2 digits). */
export function itemBytes(item: Record<string, unknown>): number {
  let n = 0;
  for (const [k, v] of Object.entries(item)) n += Buffer.byteLength(k) + valueBytes(v);
  return n;
}
function valueBytes(v: unknown): number {
  if (v === null || typeof v === 'boolean') return 1;
  if (typeof v === 'string') return Buffer.byteLength(v);
  if (typeof v === 'number') return Math.ceil(String(Math.abs(v)).replace(/[.-]/g, '').replace(/^0+/, '').length / 2) + 1;
  if (Array.isArray(v)) return 3 + v.reduce((s: number, x) => s + 1 + valueBytes(x), 0);
  if (typeof v === 'object') return 3 + Object.entries(v as object).reduce((s, [k, x]) => s + 1 + Buffer.byteLength(k) + valueBytes(x), 0);
  return 0;
}

const kb = (bytes: number, unit = 1024) => Math.max(1, Math.ceil(bytes / unit));
const keyOf = (k: { pk: string; sk: string }) => `${k.pk}|${k.sk}`;

/** The table's GSIs: key attributes and whether the whole item is projected. */
const INDEXES = [
  { name: 'pool', pk: 'gsi1pk', sk: 'gsi1sk', all: false },
  { name: 'byOwner', pk: 'gsi2pk', sk: 'gsi2sk', all: true },
  { name: 'byBook', pk: 'gsi3pk', sk: 'gsi3sk', all: false },
];

export interface WriteCost {
  requests: string[];
  table: number;
  indexes: Record<string, number>;
  wcu: number;
  /** Largest item written, in bytes. */
  largestItem: number;
}

/** Prices the writes in `sent`, given the table before and after. */
export function writeCost(sent: SentRequest[], before: Record<string, any>[], after: Record<string, any>[]): WriteCost {
  const was = new Map(before.map((i) => [keyOf(i as any), i]));
  const now = new Map(after.map((i) => [keyOf(i as any), i]));
  const cost: WriteCost = { requests: [], table: 0, indexes: Object.fromEntries(INDEXES.map((ix) => [ix.name, 0])), wcu: 0, largestItem: 0 };
  const written = (key: { pk: string; sk: string }, transactional: boolean) => {
    const old = was.get(keyOf(key));
    const neu = now.get(keyOf(key));
    const size = Math.max(old ? itemBytes(old) : 0, neu ? itemBytes(neu) : 0);
    cost.largestItem = Math.max(cost.largestItem, size);
    cost.table += kb(size) * (transactional ? 2 : 1);
    if (JSON.stringify(old) === JSON.stringify(neu)) return;
    for (const ix of INDEXES) {
      const o = old?.[ix.pk] !== undefined ? `${old[ix.pk]}|${old[ix.sk]}` : undefined;
      const n = neu?.[ix.pk] !== undefined ? `${neu[ix.pk]}|${neu[ix.sk]}` : undefined;
      let units = 0;
      if (o && n) units = o !== n ? 2 : ix.all ? kb(itemBytes(neu!)) : 0;
      else if (o || n) units = 1;
      cost.indexes[ix.name]! += units;
    }
  };
  for (const { command, input } of sent) {
    if (command === 'TransactWriteItemsCommand') {
      cost.requests.push(`TransactWriteItems(${input.TransactItems.length})`);
      for (const t of input.TransactItems) {
        if (t.ConditionCheck) cost.table += 2;
        else written((t.Put?.Item ?? t.Update?.Key ?? t.Delete?.Key) as any, true);
      }
    } else if (/^(Update|Put|Delete)(Item)?Command$/.test(command)) {
      cost.requests.push(command.replace(/(Item)?Command$/, 'Item'));
      written((input.Item ?? input.Key) as any, false);
    } else if (/^BatchWrite(Item)?Command$/.test(command)) {
      for (const reqs of Object.values(input.RequestItems) as any[]) {
        cost.requests.push(`BatchWriteItem(${reqs.length})`);
        for (const r of reqs) written((r.PutRequest?.Item ?? r.DeleteRequest?.Key) as any, false);
      }
    } else if (!/^(TransactGet|Get|Query|Scan|BatchGet)/.test(command)) {
      throw new Error(`the cost meter does not know ${command}`);
    }
  }
  cost.wcu = cost.table + Object.values(cost.indexes).reduce((a, b) => a + b, 0);
  return cost;
}

/** RCU of the reads in `sent`: 4 KB units of what each returned (at least one), halved when eventually consistent. */
export function readCost(sent: SentRequest[]): { requests: number; rcu: number } {
  let rcu = 0;
  let requests = 0;
  for (const { command, input, output } of sent) {
    if (!/^(Get|Query|Scan)/.test(command)) continue;
    requests++;
    const items: Record<string, unknown>[] = output?.Items ?? (output?.Item ? [output.Item] : []);
    const bytes = items.reduce((s, i) => s + itemBytes(i), 0);
    rcu += kb(bytes, 4096) * (input.ConsistentRead ? 1 : 0.5);
  }
  return { requests, rcu };
}

export function isWrite(command: string) {
  return /^(TransactWriteItems|UpdateItem|PutItem|DeleteItem|BatchWriteItem|Update|Put|Delete|BatchWrite)Command$/.test(command);
}
