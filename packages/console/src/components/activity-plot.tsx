import { useEffect, useRef, useState } from 'preact/hooks';
import uPlot from 'uplot';
import type { Activity } from '../api/types.ts';
import { count } from '../lib/format.ts';
import { ACTIVITY_SERIES, activityTotals, axisLabel, bucketLabel, describeActivity, plotData } from './activity-data.ts';

const HEIGHT = 260;

/**
 * A book's activity drawn with uPlot (canvas), and the same numbers in words: the drawing's
 * accessible name says the span and the totals, the legend lists each series' total, and a table
 * holds every bucket for anyone who cannot see the lines.
 */
export function ActivityPlot({ activity }: { activity: Activity }) {
  const plotRef = useRef<HTMLDivElement>(null);
  const [cursor, setCursor] = useState<number | null>(null);
  const totals = activityTotals(activity.buckets);

  useEffect(() => {
    const target = plotRef.current!;
    const plot = new uPlot(
      {
        width: Math.max(target.clientWidth, 300),
        height: HEIGHT,
        // Buckets are aligned in UTC; so is the axis.
        tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC'),
        legend: { show: false },
        cursor: { drag: { x: false, y: false } },
        scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(4, Math.ceil(max * 1.1))] } },
        axes: [
          {
            stroke: '#4a5563',
            grid: { stroke: '#e7eaf0', width: 1 },
            ticks: { stroke: '#e7eaf0', width: 1 },
            // UTC, 24-hour, as every time in the console: 14:05, or 12-04 for days.
            values: (_u, splits) => splits.map((t) => axisLabel(t, activity.interval)),
          },
          {
            stroke: '#4a5563',
            grid: { stroke: '#e7eaf0', width: 1 },
            ticks: { stroke: '#e7eaf0', width: 1 },
            // Counts: whole numbers only.
            incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000, 50_000, 100_000, 1_000_000],
            values: (_u, splits) => splits.map((v) => (Number.isInteger(v) ? String(v) : '')),
          },
        ],
        series: [
          {},
          ...ACTIVITY_SERIES.map((s) => ({
            label: s.label,
            stroke: s.colour,
            width: 2,
            points: { show: activity.buckets.length <= 60, size: 5 },
          })),
        ],
        hooks: { setCursor: [(u: uPlot) => setCursor(u.cursor.idx ?? null)] },
      },
      plotData(activity),
      target,
    );
    const resize = new ResizeObserver(() => plot.setSize({ width: Math.max(target.clientWidth, 300), height: HEIGHT }));
    resize.observe(target);
    return () => {
      resize.disconnect();
      plot.destroy();
    };
  }, [activity]);

  const at = cursor !== null ? activity.buckets[cursor] : undefined;
  return (
    <figure class="activity">
      <figcaption>Activity per {activity.interval} (UTC)</figcaption>
      <div class="plot" role="img" aria-label={describeActivity(activity)} ref={plotRef} />
      <ul class="legend" aria-label={at ? `Bucket starting ${bucketLabel(at.start, activity.interval)}` : 'Totals'}>
        {ACTIVITY_SERIES.map((s) => (
          <li key={s.key}>
            <span class="swatch" style={{ background: s.colour }} aria-hidden="true" />
            {s.label} <strong>{count(at ? at[s.key] : totals[s.key])}</strong>
          </li>
        ))}
        <li class="muted small" aria-hidden="true">
          {at ? bucketLabel(at.start, activity.interval) : 'totals; point at the chart for one bucket'}
        </li>
      </ul>
      <details>
        <summary>Activity as a table</summary>
        <div class="table-scroll">
          <table class="striped compact" aria-label={`Activity per ${activity.interval}`}>
            <thead>
              <tr>
                <th scope="col">{activity.interval === 'day' ? 'Day' : 'Starting'}</th>
                {ACTIVITY_SERIES.map((s) => (
                  <th scope="col" class="num" key={s.key}>
                    {s.label}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {activity.buckets.map((b) => (
                <tr key={b.start}>
                  <th scope="row">{bucketLabel(b.start, activity.interval)}</th>
                  {ACTIVITY_SERIES.map((s) => (
                    <td class="num" key={s.key}>
                      {count(b[s.key])}
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </details>
    </figure>
  );
}
