import { describe, expect, it } from 'vitest';
import { marshall } from '@aws-sdk/util-dynamodb';
import { tableDefinition } from '../db/table-definition.ts';
import { indexChanges, tableShape } from './index-entries.ts';
import { itemSize, readUnits, writeUnits } from './item-size.ts';

const table = tableShape(tableDefinition('t'));
const m = (o: Record<string, unknown>) => marshall(o, { removeUndefinedValues: true });
const available = m({ pk: 'T#t#CODE#A', sk: 'CODE', gsi1pk: 'POOL#0', gsi1sk: 'slot', status: 'available' });
const assigned = m({ pk: 'T#t#CODE#A', sk: 'CODE', gsi2pk: 'T#t#USER#u', gsi2sk: 'BOOK#b#CODE#A', status: 'assigned' });

describe('index entries from before and after images', () => {
  it('reads the index keys and projections from the table definition', () => {
    expect(table.key).toEqual({ hash: 'pk', range: 'sk' });
    expect(table.indexes.map((i) => [i.name, i.hash, i.projection])).toEqual([
      ['pool', 'gsi1pk', 'KEYS_ONLY'],
      ['byOwner', 'gsi2pk', 'ALL'],
      ['byBook', 'gsi3pk', 'KEYS_ONLY'],
    ]);
  });

  it('an assignment removes the pool entry and adds the owner entry, 1 WCU each, under their own partition keys', () => {
    expect(indexChanges(table, available, assigned)).toEqual([
      { index: 'pool', change: 'remove', wcu: 1, keys: [{ pk: 'POOL#0', wcu: 1 }] },
      { index: 'byOwner', change: 'add', wcu: 1, keys: [{ pk: 'T#t#USER#u', wcu: 1 }] },
    ]);
  });

  it('a changed non-key attribute rewrites an ALL entry but not a KEYS_ONLY one; a changed index key is a move (2)', () => {
    const locked = { ...assigned, lockId: { S: 'l' } };
    expect(indexChanges(table, assigned, locked)).toEqual([{ index: 'byOwner', change: 'update', wcu: 1, keys: [{ pk: 'T#t#USER#u', wcu: 1 }] }]);
    expect(indexChanges(table, available, { ...available, status: { S: 'x' } })).toEqual([]);
    const moved = { ...assigned, gsi2pk: { S: 'T#t#USER#v' } };
    expect(indexChanges(table, assigned, moved)).toEqual([
      { index: 'byOwner', change: 'move', wcu: 2, keys: [{ pk: 'T#t#USER#u', wcu: 1 }, { pk: 'T#t#USER#v', wcu: 1 }] },
    ]);
    expect(indexChanges(table, undefined, undefined)).toEqual([]);
  });

  it('sizes items and prices them by the published rules', () => {
    expect(itemSize(m({ ab: 'xyz', n: 12345 }))).toBe(2 + 3 + 1 + 4);
    expect(writeUnits(1024, false)).toBe(1);
    expect(writeUnits(1025, true)).toBe(4);
    expect(readUnits(0, false)).toBe(0.5);
    expect(readUnits(4097, true)).toBe(2);
  });
});
