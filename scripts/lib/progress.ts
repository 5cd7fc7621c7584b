/**
 * Progress for long CLI runs: a redrawn bar with rate and ETA on a terminal,
 * plain lines (every few seconds) otherwise, so logs and CI stay readable.
 */
export type ProgressMode = 'bar' | 'lines' | 'none';

export interface ProgressState {
  /** Fraction done, 0..1 (null when unknown). */
  fraction: number | null;
  /** Units per second (codes) done by this run; null until there is enough of it to measure. */
  rate: number | null;
  etaSeconds: number | null;
  /** Short text after the figures, e.g. counts so far. */
  detail: string;
}

export const formatCount = (n: number) => Math.round(n).toLocaleString('en-US');

export function formatDuration(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return '--';
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = s % 60;
  return h ? `${h}h${String(m).padStart(2, '0')}m` : m ? `${m}m${String(r).padStart(2, '0')}s` : `${r}s`;
}

export function progressMode(requested: string | undefined, stream: NodeJS.WriteStream): ProgressMode {
  if (requested === 'bar' || requested === 'lines' || requested === 'none') return requested;
  return stream.isTTY ? 'bar' : 'lines';
}

export function createProgress(mode: ProgressMode, stream: NodeJS.WriteStream = process.stderr, options: { intervalMs?: number } = {}) {
  const interval = options.intervalMs ?? (mode === 'bar' ? 150 : 5000);
  let last = 0;
  let drawn = false;

  const render = (s: ProgressState) => {
    const pct = s.fraction === null ? '' : `${(s.fraction * 100).toFixed(1).padStart(5)}%`;
    const figures = `${pct} ${s.rate === null ? '--' : formatCount(s.rate)}/s ETA ${formatDuration(s.etaSeconds)}  ${s.detail}`;
    if (mode === 'bar') {
      const width = Math.max(10, Math.min(40, (stream.columns ?? 80) - figures.length - 4));
      const filled = s.fraction === null ? 0 : Math.round(width * Math.min(1, s.fraction));
      const bar = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
      stream.write(`\r\x1b[2K${bar} ${figures}`.slice(0, (stream.columns ?? 200) + 8));
      drawn = true;
    } else {
      stream.write(`progress:${figures.replace(/\s+/g, ' ')}\n`);
    }
  };

  return {
    update(state: ProgressState, force = false) {
      if (mode === 'none') return;
      const now = Date.now();
      if (!force && now - last < interval) return;
      last = now;
      render(state);
    },
    /** Ends the bar's line so that what follows starts on a fresh one. */
    done(state?: ProgressState) {
      if (mode === 'none') return;
      if (state) render(state);
      if (mode === 'bar' && drawn) stream.write('\n');
      drawn = false;
    },
  };
}
