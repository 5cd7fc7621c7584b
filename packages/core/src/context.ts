import type { Config } from './config.ts';
import type { Store } from './entities/index.ts';
import type { Log } from './telemetry/log.ts';
import type { Metrics } from './telemetry/metrics.ts';

/**
 * What every use case needs: the table's entities, the parsed config, a clock, and where it
 * logs and counts (the processes' edge supplies both: packages/api/src/telemetry).
 */
export interface CoreContext {
  store: Store;
  config: Config;
  now: () => number;
  log: Log;
  metrics: Metrics;
}
