import { setTimeout as sleep } from 'node:timers/promises';
import { DescribeTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DescribeStreamCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type DynamoDBStreamsClient,
  type GetRecordsCommandOutput,
  type Shard,
} from '@aws-sdk/client-dynamodb-streams';
import type { Store } from '../entities/index.ts';
import { silentLog, type Log } from '../telemetry/log.ts';
import { noMetrics, type Metrics } from '../telemetry/metrics.ts';
import type { ChangeConsumer } from './change.ts';
import { dispatch, isFollowerBookkeeping, toTableChange } from './records.ts';

export interface FollowerOptions {
  store: Store;
  dynamo: DynamoDBClient;
  streams: DynamoDBStreamsClient;
  /** Names the checkpoints: one follower name, one position in the stream. */
  name: string;
  consumers: readonly ChangeConsumer[];
  /** How long to wait when every shard is drained (default 100 ms): history trails writes by about this much. */
  idleMs?: number;
  log?: Log;
  /** Each batch's records and lag (stream/records.ts `dispatch`). */
  metrics?: Metrics;
}

export interface ChangeFollower {
  /** Stops after the batch in hand; what was handed over is checkpointed. */
  stop(): Promise<void>;
  /** Resolves once every shard has been read to its end at least once after this call. */
  caughtUp(): Promise<void>;
}

interface ShardState {
  id: string;
  parentId?: string;
  iterator?: string;
  done: boolean;
}

const RESHARD_CHECK_MS = 5000;

/**
 * Follows the table's DynamoDB stream in-process (npm start, tests) and hands
 * every committed change to the consumers, in order per shard, so per item.
 * A parent shard is read to its end before its children. After each batch
 * the position is checkpointed in the table, so a restarted follower resumes
 * where the last one stopped: nothing is lost, and a batch interrupted
 * mid-dispatch is handed over again (consumers are idempotent).
 *
 * On AWS the same consumers run behind Lambda's event source mapping instead
 * (see lambda-handler.ts); this loop is the local stand-in for it.
 */
export function startChangeFollower(options: FollowerOptions): ChangeFollower {
  const { store, streams, name, consumers } = options;
  const idleMs = options.idleMs ?? 100;
  const log = (options.log ?? silentLog).child({ follower: name });
  const observer = { log, metrics: options.metrics ?? noMetrics, now: Date.now };
  const shards = new Map<string, ShardState>();
  let streamArn: string | undefined;
  let stopped = false;
  let lastDescribe = 0;
  let waiters: { pending: Set<string>; resolve: () => void }[] = [];

  async function describe() {
    if (!streamArn) {
      const table = await options.dynamo.send(new DescribeTableCommand({ TableName: store.table }));
      streamArn = table.Table?.LatestStreamArn;
      if (!streamArn) throw new Error(`table ${store.table} has no stream`);
    }
    const found: Shard[] = [];
    let ExclusiveStartShardId: string | undefined;
    do {
      const page = await streams.send(new DescribeStreamCommand({ StreamArn: streamArn, ExclusiveStartShardId }));
      found.push(...(page.StreamDescription?.Shards ?? []));
      ExclusiveStartShardId = page.StreamDescription?.LastEvaluatedShardId;
    } while (ExclusiveStartShardId);
    for (const s of found) {
      if (!s.ShardId || shards.has(s.ShardId)) continue;
      shards.set(s.ShardId, { id: s.ShardId, parentId: s.ParentShardId, done: false });
    }
    lastDescribe = Date.now();
  }

  const readable = (s: ShardState) => {
    if (s.done) return false;
    const parent = s.parentId ? shards.get(s.parentId) : undefined;
    return !parent || parent.done;
  };

  async function checkpoint(shardId: string, change: { sequenceNumber?: string; closed?: boolean }) {
    await store.streamCheckpoint
      .upsert({ follower: name, shardId, ...change, updatedAt: new Date().toISOString() })
      .go({ response: 'none' });
  }

  async function openIterator(s: ShardState) {
    const { data } = await store.streamCheckpoint.get({ follower: name, shardId: s.id }).go({ consistent: true });
    if (data?.closed) {
      s.done = true;
      return;
    }
    const res = await streams.send(
      new GetShardIteratorCommand({
        StreamArn: streamArn,
        ShardId: s.id,
        ...(data?.sequenceNumber
          ? { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', SequenceNumber: data.sequenceNumber }
          : { ShardIteratorType: 'TRIM_HORIZON' }),
      }),
    );
    s.iterator = res.ShardIterator;
  }

  /** Reads one batch of one shard and hands it over; answers how many records it read. */
  async function poll(s: ShardState): Promise<number> {
    if (!s.iterator) await openIterator(s);
    if (s.done || !s.iterator) return 0;
    let res: GetRecordsCommandOutput;
    try {
      res = await streams.send(new GetRecordsCommand({ ShardIterator: s.iterator, Limit: 1000 }));
    } catch (e) {
      const n = (e as Error).name;
      if (n === 'ExpiredIteratorException' || n === 'TrimmedDataAccessException') {
        s.iterator = undefined; // reopen from the checkpoint
        return 0;
      }
      throw e;
    }
    const records = res.Records ?? [];
    if (records.length) {
      const changes = records.map((r) => toTableChange(r as any));
      await log.scope({ shardId: s.id }, () => dispatch(changes, consumers, observer));
      // Only batches that carried real changes move the checkpoint: a checkpoint write is itself a
      // change, and checkpointing those would write forever.
      if (changes.some((c) => !isFollowerBookkeeping(c))) await checkpoint(s.id, { sequenceNumber: changes.at(-1)!.sequenceNumber });
    }
    s.iterator = res.NextShardIterator;
    if (!s.iterator) {
      await checkpoint(s.id, { closed: true });
      s.done = true;
      lastDescribe = 0; // a closed shard has children to find
    }
    if (!records.length) drained(s.id);
    return records.length;
  }

  function drained(shardId: string) {
    for (const w of waiters) w.pending.delete(shardId);
    waiters = waiters.filter((w) => {
      if (w.pending.size) return true;
      w.resolve();
      return false;
    });
  }

  const loop = (async () => {
    let failures = 0;
    for (const c of consumers) {
      // A consumer that cannot start (the table down) is started again until it can.
      for (let attempt = 0; !stopped; attempt++) {
        try {
          await c.start?.();
          break;
        } catch (e) {
          log.error('change follower: consumer failed to start, retrying', { consumer: c.name, error: e });
          await sleep(Math.min(5000, 100 * 2 ** Math.min(attempt, 6)));
        }
      }
    }
    while (!stopped) {
      try {
        if (Date.now() - lastDescribe > RESHARD_CHECK_MS) await describe();
        let read = 0;
        for (const s of shards.values()) {
          if (stopped) break;
          if (readable(s)) read += await poll(s);
          else if (s.done) drained(s.id);
        }
        failures = 0;
        if (!read && !stopped) await sleep(idleMs);
      } catch (e) {
        // A consumer or the database failed: the batch was not checkpointed, so it is read again.
        failures++;
        for (const s of shards.values()) s.iterator = undefined;
        log.error('change follower: batch failed, retrying', { failures, error: e });
        if (!stopped) await sleep(Math.min(5000, 100 * 2 ** Math.min(failures, 6)));
      }
    }
  })();

  return {
    async stop() {
      stopped = true;
      await loop;
      for (const c of consumers) await c.stop?.();
      for (const w of waiters) w.resolve();
      waiters = [];
    },
    caughtUp() {
      return new Promise<void>((resolve) => {
        const pending = new Set([...shards.values()].filter((s) => !s.done).map((s) => s.id));
        if (!pending.size && shards.size) return resolve();
        // Not described yet: wait for whatever shards the first describe finds.
        const waiter = { pending, resolve };
        if (!shards.size) {
          const t = setInterval(() => {
            if (!shards.size && !stopped) return;
            clearInterval(t);
            for (const s of shards.values()) if (!s.done) waiter.pending.add(s.id);
            if (!waiter.pending.size) resolve();
            else waiters.push(waiter);
          }, 20);
          return;
        }
        waiters.push(waiter);
      });
    },
  };
}
