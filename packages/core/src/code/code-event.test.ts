import { describe, expect, it } from 'vitest';
import type { TableChange } from '../stream/change.ts';
import { codeEventOf } from './code-event.ts';

const code = (over: Record<string, any>) => ({ __edb_e__: 'code', tenant: 't1', code: 'ABC-1', bookId: 'b1', status: 'assigned', ...over });
const change = (oldImage: Record<string, any> | undefined, newImage: Record<string, any> | undefined): TableChange => ({
  eventName: oldImage && newImage ? 'MODIFY' : newImage ? 'INSERT' : 'REMOVE',
  keys: { pk: 'T#t1#CODE#ABC-1', sk: 'CODE' },
  oldImage,
  newImage,
  sequenceNumber: '1',
  at: 0,
});

describe('codeEventOf', () => {
  it('reads one event from a write that moved changeSeq forward', () => {
    const last = { type: 'locked', at: '2026-12-01T00:00:00.000Z', by: 'svc-1', userId: 'u1', lockId: 'L1' };
    const e = codeEventOf(change(code({ changeSeq: 1 }), code({ changeSeq: 2, lastChange: last })));
    expect(e).toMatchObject({ tenant: 't1', code: 'ABC-1', bookId: 'b1', seq: 2, ...last });
    expect(e!.redemptionId).toBeUndefined();
  });

  it('ignores inserts into the pool, writes that are not transitions, deletes and other entities', () => {
    expect(codeEventOf(change(undefined, code({ status: 'available' })))).toBeUndefined();
    expect(codeEventOf(change(code({ changeSeq: 2, lastChange: { type: 'assigned' } }), code({ changeSeq: 2, lastChange: { type: 'assigned' } })))).toBeUndefined();
    expect(codeEventOf(change(code({}), undefined))).toBeUndefined();
    expect(codeEventOf(change(undefined, { __edb_e__: 'book', changeSeq: 1, lastChange: {} }))).toBeUndefined();
  });

  it('reads a first transition (no changeSeq before)', () => {
    const e = codeEventOf(change(code({ status: 'available' }), code({ changeSeq: 1, lastChange: { type: 'assigned', at: 'x', by: 'u1', userId: 'u1' } })));
    expect(e).toMatchObject({ seq: 1, type: 'assigned', by: 'u1', userId: 'u1' });
  });
});
