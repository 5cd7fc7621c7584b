import type { Activity, ActivityBucket, ActivityInterval } from '../api/types.ts';

/** The counts of a bucket, in the order the chart draws them, with the words and colours it uses. */
export const ACTIVITY_SERIES = [
  { key: 'assigned', label: 'Assigned', colour: '#0172ad' },
  { key: 'locked', label: 'Locked', colour: '#9236a4' },
  { key: 'unlocked', label: 'Unlocked', colour: '#8a6d00' },
  { key: 'redeemed', label: 'Redeemed', colour: '#2f7d32' },
  { key: 'rolledBack', label: 'Rolled back', colour: '#c52f21' },
] as const satisfies readonly { key: keyof Omit<ActivityBucket, 'start'>; label: string; colour: string }[];

const STEP_MS: Record<ActivityInterval, number> = { minute: 60_000, hour: 3_600_000, day: 86_400_000 };
/** Buckets a chart shows per interval: the last hour by minute, two days by hour, a month by day (the API allows up to 1,440). */
export const WINDOW_BUCKETS: Record<ActivityInterval, number> = { minute: 60, hour: 48, day: 30 };

/**
 * The `from` and `to` to ask for: the last `WINDOW_BUCKETS` buckets, the current one included,
 * aligned to the interval in UTC as the API aligns them (`to` exclusive).
 */
export function activityWindow(interval: ActivityInterval, now: Date): { from: string; to: string } {
  const step = STEP_MS[interval];
  const to = Math.floor(now.getTime() / step) * step + step;
  return { from: new Date(to - WINDOW_BUCKETS[interval] * step).toISOString(), to: new Date(to).toISOString() };
}

/** uPlot's data: bucket starts in seconds, then one array per series. */
export function plotData(activity: Activity): [number[], ...number[][]] {
  return [activity.buckets.map((b) => Date.parse(b.start) / 1000), ...ACTIVITY_SERIES.map((s) => activity.buckets.map((b) => b[s.key]))];
}

export function activityTotals(buckets: ActivityBucket[]): Record<(typeof ACTIVITY_SERIES)[number]['key'], number> {
  const totals = { assigned: 0, locked: 0, unlocked: 0, redeemed: 0, rolledBack: 0 };
  for (const b of buckets) for (const s of ACTIVITY_SERIES) totals[s.key] += b[s.key];
  return totals;
}

const minuteOf = (iso: string) => `${iso.slice(0, 16).replace('T', ' ')}`;

/**
 * The chart in words, for its accessible name: the span it covers and the totals of each series,
 * e.g. "Activity per hour, 2026-12-01 10:00 to 2026-12-03 10:00 UTC: 12 assigned, 3 locked, …".
 */
export function describeActivity(activity: Activity): string {
  const { buckets, interval } = activity;
  if (buckets.length === 0) return `Activity per ${interval}: no buckets.`;
  const end = new Date(Date.parse(buckets[buckets.length - 1]!.start) + STEP_MS[interval]).toISOString();
  const totals = activityTotals(buckets);
  const parts = ACTIVITY_SERIES.map((s) => `${totals[s.key]} ${s.label.toLowerCase()}`);
  return `Activity per ${interval}, ${minuteOf(buckets[0]!.start)} to ${minuteOf(end)} UTC: ${parts.join(', ')}.`;
}

/** A bucket's start as its row in the table shows it. */
export function bucketLabel(start: string, interval: ActivityInterval): string {
  return interval === 'day' ? start.slice(0, 10) : minuteOf(start);
}

/** A time axis label (seconds since the epoch): the day for days, else the UTC time of day. */
export function axisLabel(seconds: number, interval: ActivityInterval): string {
  const iso = new Date(seconds * 1000).toISOString();
  return interval === 'day' ? iso.slice(5, 10) : iso.slice(11, 16);
}
