import { describe, expect, it } from 'vitest';
import type { TableChange } from '../stream/change.ts';
import { codeEventsOf } from './code-event.ts';

const code = (over: Record<string, any>) => ({ __edb_e__: 'code', tenant: 't1', code: 'ABC-1', bookId: 'b1', status: 'assigned', ...over });
const change = (oldImage: Record<string, any> | undefined, newImage: Record<string, any> | undefined): TableChange => ({
  eventName: oldImage && newImage ? 'MODIFY' : newImage ? 'INSERT' : 'REMOVE',
  keys: { pk: 'T#t1#CODE#ABC-1', sk: 'CODE' },
  oldImage,
  newImage,
  sequenceNumber: '1',
  at: 0,
});

describe('codeEventsOf', () => {
  it('reads one event from a write that moved changeSeq forward', () => {
    const last = { type: 'locked', at: '2026-12-01T00:00:00.000Z', by: 'svc-1', userId: 'u1', lockId: 'L1' };
    const [e, ...more] = codeEventsOf(change(code({ changeSeq: 1 }), code({ changeSeq: 2, lastChange: last })));
    expect(more).toEqual([]);
    expect(e).toMatchObject({ tenant: 't1', code: 'ABC-1', bookId: 'b1', seq: 2, ...last });
    expect(e!.redemptionId).toBeUndefined();
  });

  it('ignores inserts into the pool, writes that are not transitions, deletes and other entities', () => {
    expect(codeEventsOf(change(undefined, code({ status: 'available' })))).toEqual([]);
    expect(codeEventsOf(change(code({ changeSeq: 2, lastChange: { type: 'assigned' } }), code({ changeSeq: 2, lastChange: { type: 'assigned' } })))).toEqual([]);
    expect(codeEventsOf(change(code({}), undefined))).toEqual([]);
    expect(codeEventsOf(change(undefined, { __edb_e__: 'book', changeSeq: 1, lastChange: {} }))).toEqual([]);
  });

  it('reads a first transition (no changeSeq before)', () => {
    const [e] = codeEventsOf(change(code({ status: 'available' }), code({ changeSeq: 1, lastChange: { type: 'assigned', at: 'x', by: 'u1', userId: 'u1' } })));
    expect(e).toMatchObject({ seq: 1, type: 'assigned', by: 'u1', userId: 'u1' });
  });

  it('reads two steps from a claim with a lock: assigned, then locked, one sequence number each', () => {
    const last = { type: 'assigned', at: '2026-12-01T00:00:00.000Z', by: 'u1', userId: 'u1', lockId: 'L1' };
    const claimed = code({ changeSeq: 2, lastChange: last, lockId: 'L1', lockExpiresAt: 1_800_000_000_000 });
    const events = codeEventsOf(change(code({ status: 'available' }), claimed));
    expect(events.map((e) => [e.seq, e.type, e.lockId])).toEqual([
      [1, 'assigned', undefined],
      [2, 'locked', 'L1'],
    ]);
    // The assigned step shows the code as it was between the two: held, not yet locked.
    expect(events[0]!.item).not.toHaveProperty('lockId');
    expect(events[0]!.item).not.toHaveProperty('lockExpiresAt');
    expect(events[1]!.item).toBe(claimed);
    expect(events.every((e) => e.at === last.at && e.by === 'u1' && e.userId === 'u1')).toBe(true);
  });

  it('reads one step from a claim with a lock written before claims counted two (changeSeq moved by one)', () => {
    const last = { type: 'assigned', at: 'x', by: 'u1', userId: 'u1', lockId: 'L1' };
    const events = codeEventsOf(change(code({ status: 'available' }), code({ changeSeq: 1, lastChange: last })));
    expect(events.map((e) => [e.seq, e.type, e.lockId])).toEqual([[1, 'assigned', 'L1']]);
  });
});
