import { describe, expect, it } from 'vitest';
import type { Activity } from '../api/types.ts';
import { activityTotals, activityWindow, axisLabel, bucketLabel, describeActivity, plotData, WINDOW_BUCKETS } from './activity-data.ts';

// What the chart asks the API for and how it turns the answer into lines and words, on fixed data.

const at = new Date('2026-12-04T14:36:13.250Z');

describe('activityWindow', () => {
  it.each([
    ['minute', '2026-12-04T13:37:00.000Z', '2026-12-04T14:37:00.000Z'],
    ['hour', '2026-12-02T15:00:00.000Z', '2026-12-04T15:00:00.000Z'],
    ['day', '2026-11-05T00:00:00.000Z', '2026-12-05T00:00:00.000Z'],
  ] as const)('per %s: the last buckets up to the current one, aligned in UTC, to exclusive', (interval, from, to) => {
    expect(activityWindow(interval, at)).toEqual({ from, to });
  });

  it('never asks for more than the 1,440 buckets the API allows', () => {
    const step = { minute: 60_000, hour: 3_600_000, day: 86_400_000 };
    for (const interval of ['minute', 'hour', 'day'] as const) {
      const { from, to } = activityWindow(interval, at);
      const buckets = (Date.parse(to) - Date.parse(from)) / step[interval];
      expect(buckets).toBe(WINDOW_BUCKETS[interval]);
      expect(buckets).toBeLessThanOrEqual(1440);
    }
  });

  it('on a boundary, the bucket starting now is the last one', () => {
    expect(activityWindow('hour', new Date('2026-12-04T15:00:00.000Z')).to).toBe('2026-12-04T16:00:00.000Z');
  });
});

const activity: Activity = {
  interval: 'hour',
  buckets: [
    { start: '2026-12-01T10:00:00.000Z', assigned: 5, locked: 3, unlocked: 1, redeemed: 2, rolledBack: 0 },
    { start: '2026-12-01T11:00:00.000Z', assigned: 0, locked: 0, unlocked: 0, redeemed: 0, rolledBack: 0 },
    { start: '2026-12-01T12:00:00.000Z', assigned: 7, locked: 4, unlocked: 0, redeemed: 4, rolledBack: 1 },
  ],
};

describe('the chart of fixed activity', () => {
  it("plots each series in order, against the buckets' starts in seconds", () => {
    const t = Date.parse('2026-12-01T10:00:00.000Z') / 1000;
    expect(plotData(activity)).toEqual([
      [t, t + 3600, t + 7200],
      [5, 0, 7],
      [3, 0, 4],
      [1, 0, 0],
      [2, 0, 4],
      [0, 0, 1],
    ]);
  });

  it('totals every series, empty buckets included', () => {
    expect(activityTotals(activity.buckets)).toEqual({ assigned: 12, locked: 7, unlocked: 1, redeemed: 6, rolledBack: 1 });
  });

  it('says the span and the totals in words, for its accessible name', () => {
    expect(describeActivity(activity)).toBe('Activity per hour, 2026-12-01 10:00 to 2026-12-01 13:00 UTC: 12 assigned, 7 locked, 1 unlocked, 6 redeemed, 1 rolled back.');
    expect(describeActivity({ interval: 'day', buckets: [] })).toBe('Activity per day: no buckets.');
  });

  it('labels the time axis in UTC, 24-hour, or by day', () => {
    const t = Date.parse('2026-12-01T15:05:00.000Z') / 1000;
    expect(axisLabel(t, 'hour')).toBe('15:05');
    expect(axisLabel(t, 'day')).toBe('12-01');
  });

  it('labels a bucket by its day, or its minute', () => {
    expect(bucketLabel('2026-12-01T00:00:00.000Z', 'day')).toBe('2026-12-01');
    expect(bucketLabel('2026-12-01T10:05:00.000Z', 'minute')).toBe('2026-12-01 10:05');
  });
});
