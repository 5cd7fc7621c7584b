import type { CoreContext } from '../context.ts';
import type { ScanFilter, TableItem } from '../jobs/scan-lanes.ts';

export type { ScanFilter, TableItem } from '../jobs/scan-lanes.ts';

/**
 * What one migration is (docs/upgrades.md explains how to write one).
 *
 * A deploy runs every pending migration twice. `prepare` runs while the
 * previous release still serves: it writes today's shape beside what that
 * release stores and removes nothing it reads, so the new code finds its
 * items the moment it takes traffic. `finish` runs once the previous release
 * has stopped: it brings over what that release wrote meanwhile and removes
 * the old shape; only then is the migration complete. Locally (`npm run
 * migrate`, `npm start`) nothing else is running, and `finish` alone does it all.
 */
export type Phase = 'prepare' | 'finish';
export const PHASES: readonly Phase[] = ['prepare', 'finish'];

export type ItemOutcome = 'changed' | 'unchanged';

export interface Migration {
  /** `NNN-what-changes`, the file's name: the number orders the registry. */
  id: string;
  /** What the previous release stored, and what it becomes. */
  summary: string;
  /** The items this migration may change; `migrate` still checks each one. */
  filter: ScanFilter;
  /**
   * Brings one item the previous release wrote to today's shape, or finds
   * nothing to do. Every write is conditional on the state it read, so the
   * same item may be handed over again (a resumed page, a second run, a
   * concurrent runner) and is changed at most once.
   */
  migrate(ctx: CoreContext, item: TableItem, phase: Phase): Promise<ItemOutcome>;
}
