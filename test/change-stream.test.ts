import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChangeConsumer, TableChange } from '@coupons/core';
import { followChanges } from '@coupons/api';
import { admin, answer, bookWithCodes, startTestApi, user, type TestApi } from './support/harness.ts';

/** A consumer that records what it is handed, and can be told to fail. */
function recorder() {
  const seen: TableChange[] = [];
  let failNext = 0;
  const consumer: ChangeConsumer = {
    name: 'recorder',
    async handle(changes) {
      if (failNext > 0) {
        failNext--;
        throw new Error('consumer down');
      }
      seen.push(...changes);
    },
  };
  return { consumer, seen, failTimes: (n: number) => (failNext = n) };
}

const codeWrites = (seen: TableChange[], code: string) => seen.filter((c) => c.keys.pk.endsWith(`#CODE#${code}`));

describe('the local change follower over DynamoDB Local', () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await startTestApi('stream', {}, { stream: true });
  });
  afterAll(() => api.close());

  it('hands every committed write over with old and new images, in commit order per item', async () => {
    const rec = recorder();
    const follower = followChanges(api.core, { name: 'order', consumers: [rec.consumer], idleMs: 20 });
    try {
      const { book, codes } = await bookWithCodes(api, 3);
      const r = await answer(api.client(await user('u-1')).coupons.assign.$post({ json: { bookId: book.id } }));
      expect(r.status).toBe(201);
      await answer(api.client(await user('u-1')).coupons.lock[':code'].$post({ param: { code: r.json.code }, json: {} }));
      await expect.poll(() => codeWrites(rec.seen, r.json.code).length, { timeout: 5000 }).toBe(3);
      const [insert, assign, lock] = codeWrites(rec.seen, r.json.code);
      expect(insert!.eventName).toBe('INSERT');
      expect(insert!.newImage).toMatchObject({ status: 'available', bookId: book.id });
      expect(assign!.eventName).toBe('MODIFY');
      expect(assign!.oldImage).toMatchObject({ status: 'available' });
      expect(assign!.newImage).toMatchObject({ status: 'assigned', userId: 'u-1' });
      expect(lock!.newImage!.lockId).toEqual(expect.any(String));
      expect(BigInt(assign!.sequenceNumber)).toBeGreaterThan(BigInt(insert!.sequenceNumber));
      expect(codes).toContain(r.json.code);
      // Its own checkpoints are never handed to consumers.
      expect(rec.seen.some((c) => c.keys.pk.startsWith('STREAM#'))).toBe(false);
    } finally {
      await follower.stop();
    }
  });

  it('resumes from its checkpoint after a restart: nothing written meanwhile is lost', async () => {
    const first = recorder();
    let follower = followChanges(api.core, { name: 'restart', consumers: [first.consumer], idleMs: 20 });
    const { book } = await bookWithCodes(api, 5);
    await follower.caughtUp();
    await follower.stop();
    const before = first.seen.length;
    expect(before).toBeGreaterThan(0);

    // Written while no follower runs.
    const token = await admin();
    const claimed: string[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await answer(api.client(token).coupons.assign.$post({ json: { bookId: book.id, userId: `u-${i}` } }));
      expect(r.status).toBe(201);
      claimed.push(r.json.code);
    }

    const second = recorder();
    follower = followChanges(api.core, { name: 'restart', consumers: [second.consumer], idleMs: 20 });
    try {
      await follower.caughtUp();
      for (const code of claimed) {
        const writes = codeWrites(second.seen, code);
        expect(writes.map((w) => w.newImage?.status)).toEqual(['assigned']);
      }
      // Nothing the first follower had checkpointed comes again.
      const firstSeqs = new Set(first.seen.map((c) => c.sequenceNumber));
      expect(second.seen.filter((c) => firstSeqs.has(c.sequenceNumber))).toEqual([]);
    } finally {
      await follower.stop();
    }
  });

  it('hands a batch over again when a consumer fails, so at-least-once holds', async () => {
    const rec = recorder();
    rec.failTimes(2);
    const follower = followChanges(api.core, { name: 'failing', consumers: [rec.consumer], idleMs: 20 });
    try {
      const { codes } = await bookWithCodes(api, 2);
      await expect.poll(() => codes.every((c) => codeWrites(rec.seen, c).length >= 1), { timeout: 10_000 }).toBe(true);
      expect(api.logs.filter((l) => l.message === 'change follower: batch failed, retrying' && l.follower === 'failing')).toHaveLength(2);
    } finally {
      await follower.stop();
    }
  });
});
