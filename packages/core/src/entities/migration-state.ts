import { Entity } from 'electrodb';
import { SERVICE, type EntityConfig } from './entity-config.ts';

/**
 * The partition that says which migrations (migrations/registry.ts) a table
 * has been through. It is about the table, not about any tenant, so it is
 * not under a tenant key; no request reads it, only the migration runner
 * (`npm run migrate`, `npm start`, the deploy's migration function), once
 * per run: one Query of a handful of items.
 */
export const MIGRATIONS_PARTITION = 'SYS#MIGRATIONS';

/**
 * One migration's state in this table: the job of its current `prepare` run
 * and of its `finish` run (jobs/, so a run resumes where it stopped), and
 * once `finish` has gone through the whole table, when, with what it counted.
 * A migration with `completedAt` is never run again.
 */
export const createMigrationStateEntity = (config: EntityConfig) =>
  new Entity(
    {
      model: { entity: 'migrationState', version: '1', service: SERVICE },
      attributes: {
        migration: { type: 'string', required: true, readOnly: true },
        prepareJobId: { type: 'string' },
        finishJobId: { type: 'string' },
        completedAt: { type: 'string' },
        /** What the completing run read and changed. */
        scanned: { type: 'number' },
        changed: { type: 'number' },
      },
      indexes: {
        byMigration: {
          pk: { field: 'pk', composite: [], template: MIGRATIONS_PARTITION, casing: 'none' },
          sk: { field: 'sk', composite: ['migration'], template: 'MIGRATION#${migration}', casing: 'none' },
        },
      },
    },
    config,
  );
