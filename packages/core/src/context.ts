import type { Config } from './config.ts';
import type { Store } from './entities/index.ts';

/** What every use case needs: the table's entities, the parsed config and a clock. */
export interface CoreContext {
  store: Store;
  config: Config;
  now: () => number;
}
