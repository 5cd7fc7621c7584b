import { z } from '@hono/zod-openapi';
import { ACTIVITY_INTERVALS, DEFAULT_ACTIVITY_INTERVAL, MAX_ACTIVITY_BUCKETS } from '@coupons/core';

/** A book's activity over time: the query and the answer (routes/activity.ts). */

const instant = (what: string) =>
  z.iso
    .datetime({
      offset: true,
      error: (issue) => (issue.input === undefined ? 'required' : 'an ISO 8601 date and time with seconds and a time zone, e.g. 2026-12-01T00:00:00Z'),
    })
    .openapi({ description: what, example: '2026-12-01T00:00:00Z' });

export const ActivityQuery = z.object({
  from: instant('The first bucket is the one holding this instant.'),
  to: instant('Exclusive: the last bucket is the one holding the last instant before it.'),
  interval: z
    .enum(ACTIVITY_INTERVALS, { error: `one of ${ACTIVITY_INTERVALS.join(', ')}` })
    .optional()
    .openapi({ description: `Bucket length, aligned in UTC. Default \`${DEFAULT_ACTIVITY_INTERVAL}\`.`, example: 'hour' }),
});

export const ActivitySchema = z
  .object({
    interval: z.enum(ACTIVITY_INTERVALS),
    buckets: z
      .array(
        z.object({
          start: z.string().openapi({ description: "The bucket's start, ISO 8601 in UTC.", example: '2026-12-01T10:00:00.000Z' }),
          assigned: z.number().int(),
          locked: z.number().int(),
          unlocked: z.number().int(),
          redeemed: z.number().int(),
          rolledBack: z.number().int(),
        }),
      )
      .openapi({ description: `Oldest first, empty buckets included; at most ${MAX_ACTIVITY_BUCKETS.toLocaleString('en-US')}.` }),
  })
  .openapi('Activity', {
    example: {
      interval: 'hour',
      buckets: [
        { start: '2026-12-01T10:00:00.000Z', assigned: 1520, locked: 610, unlocked: 41, redeemed: 560, rolledBack: 3 },
        { start: '2026-12-01T11:00:00.000Z', assigned: 0, locked: 0, unlocked: 0, redeemed: 0, rolledBack: 0 },
      ],
    },
  });
