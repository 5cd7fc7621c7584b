import { Entity } from 'electrodb';
import { SERVICE, type EntityConfig } from './entity-config.ts';

/**
 * How far a local stream follower has read one shard of the table's stream.
 * Only the local follower (npm start, tests) writes these: on AWS the Lambda
 * event source mapping keeps its own position. Not tenant data, so not under
 * a tenant key; one item per follower and shard, written once per batch.
 */
export const createStreamCheckpointEntity = (config: EntityConfig) =>
  new Entity(
    {
      model: { entity: 'streamCheckpoint', version: '1', service: SERVICE },
      attributes: {
        follower: { type: 'string', required: true, readOnly: true },
        shardId: { type: 'string', required: true, readOnly: true },
        /** The last sequence number handed to every consumer. */
        sequenceNumber: { type: 'string' },
        /** The shard ended and everything in it was handed over. */
        closed: { type: 'boolean' },
        updatedAt: { type: 'string', required: true },
      },
      indexes: {
        byShard: {
          pk: { field: 'pk', composite: ['follower'], template: 'STREAM#${follower}', casing: 'none' },
          sk: { field: 'sk', composite: ['shardId'], template: 'SHARD#${shardId}', casing: 'none' },
        },
      },
    },
    config,
  );
