import { ACTIVITY_INTERVALS, type ActivityInterval } from '../entities/activity-counter.ts';

export { ACTIVITY_INTERVALS, type ActivityInterval };

/** The length of each interval's bucket. Buckets are aligned in UTC: epoch time has no time zone. */
export const INTERVAL_MS: Record<ActivityInterval, number> = { minute: 60_000, hour: 3_600_000, day: 86_400_000 };

/** At most this many buckets per chart: a day of minutes, 60 days of hours, about four years of days. */
export const MAX_ACTIVITY_BUCKETS = 1440;

/** The start (epoch ms) of the bucket of `interval` that holds `ms`. */
export const bucketStart = (ms: number, interval: ActivityInterval) => Math.floor(ms / INTERVAL_MS[interval]) * INTERVAL_MS[interval];

/** How many buckets of `interval` cover [from, to): the first holds `from`, the last the last instant before `to`. */
export const bucketCount = (from: number, to: number, interval: ActivityInterval) =>
  to <= from ? 0 : (bucketStart(to - 1, interval) - bucketStart(from, interval)) / INTERVAL_MS[interval] + 1;
