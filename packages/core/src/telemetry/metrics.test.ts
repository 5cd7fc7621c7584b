import { describe, expect, it } from 'vitest';
import { emfLines, MetricsRecorder, percentile } from './metrics.ts';

describe('the metrics recorder and its EMF lines', () => {
  it('keeps only the dimensions the registry declares, so a user or a code never becomes one', () => {
    const m = new MetricsRecorder();
    const w = m.window();
    m.add('Claims', 1, { tenant: 't1', userId: 'u-1', code: 'SECRET-CODE' } as never);
    m.add('StreamLag', 40, { tenant: 't1' });
    const lines = emfLines(w.drain(), 'prod', 0).map((l) => JSON.parse(l));
    expect(JSON.stringify(lines)).not.toMatch(/u-1|SECRET-CODE/);
    expect(lines.find((l) => 'Claims' in l)._aws.CloudWatchMetrics[0].Dimensions).toEqual([['stage'], ['stage', 'tenant']]);
    expect(lines.find((l) => 'StreamLag' in l)).toMatchObject({ stage: 'prod', StreamLag: 40 });
    expect(lines.find((l) => 'StreamLag' in l)).not.toHaveProperty('tenant');
  });

  it('sums counts, keeps timings as samples (at most 100 a line), and gives each reader its own window', () => {
    const m = new MetricsRecorder();
    const a = m.window();
    const b = m.window();
    for (let i = 1; i <= 250; i++) m.add('Latency', i, { route: 'POST /coupons/assign' });
    m.add('Claims', 2, { tenant: 't1' });
    m.add('Claims', 3, { tenant: 't1' });
    m.add('Claims', 1, { tenant: 't2' });
    const lines = emfLines(a.drain(), 's', 0).map((l) => JSON.parse(l));
    const latency = lines.filter((l) => 'Latency' in l);
    expect(latency.map((l) => l.Latency.length)).toEqual([100, 100, 50]);
    expect(lines.filter((l) => 'Claims' in l).map((l) => [l.tenant, l.Claims]).sort()).toEqual([['t1', 5], ['t2', 1]]);
    expect(a.drain()).toEqual([]);
    expect(b.drain().find((s) => s.name === 'Latency')).toMatchObject({ count: 250, max: 250 });
    expect(percentile(Array.from({ length: 100 }, (_, i) => i + 1), 99)).toBe(99);
  });
});
