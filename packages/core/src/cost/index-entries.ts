import type { AttributeValue, CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
import { itemSize } from './item-size.ts';

type Item = Record<string, AttributeValue>;

export interface KeyShape {
  hash: string;
  range?: string;
}

export interface IndexShape extends KeyShape {
  name: string;
  projection: 'ALL' | 'KEYS_ONLY' | 'INCLUDE';
  include: string[];
}

/** The key schemas and projections the counting needs, read from the table's own definition. */
export interface TableShape {
  key: KeyShape;
  indexes: IndexShape[];
}

function keyShape(schema: { AttributeName?: string; KeyType?: string }[] | undefined): KeyShape {
  return {
    hash: schema!.find((k) => k.KeyType === 'HASH')!.AttributeName!,
    range: schema!.find((k) => k.KeyType === 'RANGE')?.AttributeName,
  };
}

export function tableShape(definition: CreateTableCommandInput): TableShape {
  return {
    key: keyShape(definition.KeySchema),
    indexes: (definition.GlobalSecondaryIndexes ?? []).map((i) => ({
      name: i.IndexName!,
      ...keyShape(i.KeySchema),
      projection: (i.Projection?.ProjectionType ?? 'ALL') as IndexShape['projection'],
      include: i.Projection?.NonKeyAttributes ?? [],
    })),
  };
}

export type IndexChangeKind = 'add' | 'remove' | 'update' | 'move';

/** One index entry written because its item changed: where (the index's partition keys) and at what cost. */
export interface IndexChange {
  index: string;
  change: IndexChangeKind;
  wcu: number;
  /** Per index partition key: a move writes the old key (delete) and the new one (put). */
  keys: { pk: string; wcu: number }[];
}

const str = (v: AttributeValue | undefined) => (v === undefined ? undefined : (v.S ?? v.N ?? (v.B ? Buffer.from(v.B).toString('hex') : JSON.stringify(v))));

/** The entry an item has in an index (none when it lacks the index's key attributes: sparse). */
function entryOf(table: TableShape, index: IndexShape, item: Item | undefined): Item | undefined {
  if (!item || item[index.hash] === undefined || (index.range && item[index.range] === undefined)) return undefined;
  if (index.projection === 'ALL') return item;
  const names = [table.key.hash, table.key.range, index.hash, index.range, ...(index.projection === 'INCLUDE' ? index.include : [])];
  return Object.fromEntries(names.filter((n): n is string => !!n && item[n] !== undefined).map((n) => [n, item[n]!]));
}

const units = (entry: Item) => Math.max(1, Math.ceil(itemSize(entry) / 1024));
const same = (a: Item, b: Item) => JSON.stringify(Object.entries(a).sort(([x], [y]) => x.localeCompare(y))) === JSON.stringify(Object.entries(b).sort(([x], [y]) => x.localeCompare(y)));

/**
 * What a write does to each index, from the item before and after it: an
 * entry appears (1 WCU per KB), disappears (1), changes in place because a
 * projected attribute changed (1), or moves because its index key changed
 * (a delete and a put: 2). An unchanged entry costs nothing.
 */
export function indexChanges(table: TableShape, before: Item | undefined, after: Item | undefined): IndexChange[] {
  const out: IndexChange[] = [];
  for (const index of table.indexes) {
    const old = entryOf(table, index, before);
    const next = entryOf(table, index, after);
    if (!old && !next) continue;
    const oldPk = str(old?.[index.hash]);
    const newPk = str(next?.[index.hash]);
    if (!old) out.push({ index: index.name, change: 'add', wcu: units(next!), keys: [{ pk: newPk!, wcu: units(next!) }] });
    else if (!next) out.push({ index: index.name, change: 'remove', wcu: units(old), keys: [{ pk: oldPk!, wcu: units(old) }] });
    else if (oldPk !== newPk || (index.range && str(old[index.range]) !== str(next[index.range]))) {
      out.push({
        index: index.name,
        change: 'move',
        wcu: units(old) + units(next),
        keys: [
          { pk: oldPk!, wcu: units(old) },
          { pk: newPk!, wcu: units(next) },
        ],
      });
    } else if (!same(old, next)) out.push({ index: index.name, change: 'update', wcu: units(next), keys: [{ pk: newPk!, wcu: units(next) }] });
  }
  return out;
}

export const partitionKeyOf = (table: TableShape, item: Item) => str(item[table.key.hash])!;
export const primaryKeyOf = (table: TableShape, item: Item): Item =>
  Object.fromEntries([table.key.hash, table.key.range].filter((n): n is string => !!n).map((n) => [n, item[n]!]));
