import { useState } from 'preact/hooks';
import { unwrap } from '@coupons/client';
import { useApi } from '../api/client.ts';
import type { ActivityInterval } from '../api/types.ts';
import { useResource } from '../lib/use-resource.ts';
import { activityWindow } from './activity-data.ts';
import { ActivityPlot } from './activity-plot.tsx';
import { ErrorMessage } from './error-message.tsx';

/**
 * Read again while the tab is visible: the counts trail the writes by the stream's second or two,
 * so a minute chart during a sale keeps up with the stock beside it (3 s). A read is 17 requests
 * whatever the book's size (docs/activity.md), so a tab left open costs little.
 */
const INTERVALS: { value: ActivityInterval; label: string; refreshMs: number }[] = [
  { value: 'minute', label: 'Minute', refreshMs: 5_000 },
  { value: 'hour', label: 'Hour', refreshMs: 15_000 },
  { value: 'day', label: 'Day', refreshMs: 60_000 },
];

/** The book's activity (`GET /coupons/{bookId}/activity`) over a window that suits the chosen interval. */
export function ActivityChart({ bookId }: { bookId: string }) {
  const client = useApi();
  const [interval, choose] = useState<ActivityInterval>('hour');
  const activity = useResource(
    () => unwrap(client.coupons[':bookId'].activity.$get({ param: { bookId }, query: { ...activityWindow(interval, new Date()), interval } })),
    [bookId, interval],
    { refreshMs: INTERVALS.find((i) => i.value === interval)!.refreshMs },
  );
  return (
    <section aria-labelledby="activity-heading">
      <div class="section-head">
        <h2 id="activity-heading">Activity</h2>
        <fieldset class="segmented">
          <legend>Interval</legend>
          {INTERVALS.map((i) => (
            <label key={i.value}>
              <input type="radio" name="activity-interval" value={i.value} checked={interval === i.value} onChange={() => choose(i.value)} />
              {i.label}
            </label>
          ))}
        </fieldset>
      </div>
      {activity.error ? <ErrorMessage error={activity.error} prefix="The activity could not be read." /> : null}
      {activity.data ? <ActivityPlot activity={activity.data} /> : activity.loading ? <p aria-busy="true">Reading the activity…</p> : null}
    </section>
  );
}
