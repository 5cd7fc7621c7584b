/**
 * One committed write to the table, as its change stream reports it
 * (DynamoDB Streams, NEW_AND_OLD_IMAGES). Everything that reacts to writes
 * (a code's history, webhook events) consumes these, so an event exists
 * exactly when its write committed and no second write can be forgotten.
 *
 * Locally `npm start` and the tests follow DynamoDB Local's stream in-process;
 * on AWS a Lambda subscribed to the stream hands the same records to the same
 * consumers.
 */
export interface TableChange {
  eventName: 'INSERT' | 'MODIFY' | 'REMOVE';
  /** The item's table key. */
  keys: { pk: string; sk: string };
  /** Unmarshalled images (plain JS values); absent on INSERT / REMOVE respectively. */
  oldImage?: Record<string, any>;
  newImage?: Record<string, any>;
  /** The shard-local sequence number: orders the changes of one item. */
  sequenceNumber: string;
  /** When the change was committed (epoch ms, from ApproximateCreationDateTime). */
  at: number;
}

/**
 * Something that reacts to committed writes. `handle` receives a batch in
 * commit order per item; it must be idempotent, because a follower restarted
 * from its checkpoint (or a Lambda retried by its event source) hands a
 * batch over again.
 */
export interface ChangeConsumer {
  /** Stable name; checkpoints and logs use it. */
  name: string;
  handle(changes: TableChange[]): Promise<void>;
  /**
   * Optional, for consumers with background work of their own (the local
   * webhook dispatcher's retries): the local follower calls `start` before
   * its first batch and `stop` after its last. The Lambda handler calls neither.
   */
  start?(): Promise<void>;
  stop?(): Promise<void>;
}
