import type { Migration } from './migration.ts';
import { statsShardsOwnPartition } from './001-stats-shards-own-partition.ts';
import { redemptionIdsNameTheirCode } from './002-redemption-ids-name-their-code.ts';
import { idempotencyRecordKeys } from './003-idempotency-record-keys.ts';
import { codesInByBookIndex } from './004-codes-in-by-book-index.ts';
import { missCountersScope } from './005-miss-counters-scope.ts';
import { historyCountedIntoActivity } from './006-history-counted-into-activity.ts';

/**
 * Every migration, in the order they run. A change to what is stored adds
 * its file (`NNN-what-changes.ts`, the next number) and one line here, with a
 * test on data the previous release wrote (docs/upgrades.md). A migration is
 * never edited or removed once released: tables that have not run it yet
 * still need it, and the ones that have skip it.
 */
export const MIGRATIONS: readonly Migration[] = [
  statsShardsOwnPartition,
  redemptionIdsNameTheirCode,
  idempotencyRecordKeys,
  codesInByBookIndex,
  missCountersScope,
  historyCountedIntoActivity,
];

export const migrationById = (id: string) => MIGRATIONS.find((m) => m.id === id);
