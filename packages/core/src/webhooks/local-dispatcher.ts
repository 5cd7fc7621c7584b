import type { CoreContext } from '../context.ts';
import type { DeliveryJob } from './event-types.ts';
import type { AttemptOutcome } from './send.ts';
import type { EndpointDirectory } from './endpoint-directory.ts';
import { attemptAndRecord, type DeliverySink } from './delivery.ts';
import { jobOfRecord, readPendingDeliveries, recordPendingIfNew } from './deliveries.ts';

interface Waiting {
  job: DeliveryJob;
  attempts: number;
  nextAttemptAt: number;
  /** Delivered, or written down in the table: a restart finds it (false only for a new message before its first record). */
  onRecord: boolean;
  /** Why writing it down failed, for the batch waiting on it (cleared when read). */
  error?: unknown;
}

const RESUMABLE = { resumable: true };

/** Lanes of one endpoint sent side by side; each endpoint has its own, so a slow one takes only its own. */
export const LANES_PER_ENDPOINT = 32;
/** Lanes sent side by side in all (sockets); reached only when many endpoints are slow at once. */
export const LANES_IN_ALL = 512;
/**
 * How often a batch looks again whether an endpoint it waits for has become slow: one whose
 * receiver has had a request out WEBHOOK_SLOW_ENDPOINT_MS, or took that long to answer the last
 * one, or gave no answer. A batch stops waiting for a slow endpoint's messages.
 */
const WATCH_MS = 20;

/**
 * Delivery in the process that follows the stream (`npm start`, tests).
 *
 * Every message goes through one scheduler: jobs of one lane (endpoint +
 * code/book/job) go one at a time in their order, and while a lane has a
 * message waiting for a retry, later ones queue behind it. Lanes run side by
 * side, at most LANES_PER_ENDPOINT of one endpoint, so endpoints do not
 * share fate: a slow or dead endpoint holds up only its own lanes.
 *
 * `enqueue` returns once every job is either delivered or on record in the
 * table as pending, so the follower's checkpoint never passes an event that
 * could still be lost (a restart reads the pending ones back). It waits for
 * the first attempts of endpoints that answer promptly (a delivered message
 * costs one write); for an endpoint that is slow (an attempt in flight for
 * WEBHOOK_SLOW_ENDPOINT_MS) or gives no answer, it writes its messages down as
 * pending instead of waiting, and their attempts go on in the background, so
 * neither the stream nor other tenants' next events wait for it.
 */
export class LocalDispatcher implements DeliverySink {
  private readonly lanes = new Map<string, Waiting[]>();
  private readonly running = new Set<string>();
  /** Per endpoint: lanes running now, when each of its requests out started, and whether its last answer was slow or none. */
  private readonly endpoints = new Map<string, { running: number; inFlight: Set<{ at: number }>; slow: boolean }>();
  /** Batches waiting for a message to be on record, woken when one is. */
  private readonly watchers = new Set<() => void>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly ctx: CoreContext,
    private readonly directory: EndpointDirectory,
  ) {}

  private static keyOf = (job: DeliveryJob) => `${job.tenant}\u0000${job.webhookId}\u0000${job.lane}`;
  private static endpointOf = (job: DeliveryJob) => `${job.tenant}\u0000${job.webhookId}`;

  /** Reads back what a previous run left pending, then retries on the schedule. */
  async start(): Promise<void> {
    if (this.timer) return;
    for (const r of await readPendingDeliveries(this.ctx)) {
      this.queue({ job: jobOfRecord(r), attempts: r.attempts, nextAttemptAt: r.nextAttemptAt ?? 0, onRecord: true });
    }
    this.timer = setInterval(() => this.tick(), this.ctx.config.WEBHOOK_POLL_MS);
    this.timer.unref();
    this.tick();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Messages waiting in memory (tests, logs). */
  get pending(): number {
    let n = 0;
    for (const q of this.lanes.values()) n += q.length;
    return n;
  }

  /** The message waiting here already (a change read again, or a batch handed over again after a failure). */
  private waiting(job: DeliveryJob): Waiting | undefined {
    return this.lanes.get(LocalDispatcher.keyOf(job))?.find((x) => x.job.messageId === job.messageId);
  }

  private queue(w: Waiting): void {
    if (this.waiting(w.job)) return;
    const key = LocalDispatcher.keyOf(w.job);
    const q = this.lanes.get(key) ?? [];
    q.push(w);
    q.sort((a, b) => a.job.order.localeCompare(b.job.order));
    this.lanes.set(key, q);
  }

  private changed(): void {
    for (const wake of this.watchers) wake();
    this.watchers.clear();
  }

  /** Resolves when a message is on record, or after `ms`. */
  private nextChange(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.watchers.add(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  private endpoint(job: DeliveryJob) {
    const key = LocalDispatcher.endpointOf(job);
    let e = this.endpoints.get(key);
    if (!e) {
      e = { running: 0, inFlight: new Set(), slow: false };
      this.endpoints.set(key, e);
    }
    return e;
  }

  /**
   * Whether a batch should stop waiting for this message: its endpoint is
   * slow (a request out for WEBHOOK_SLOW_ENDPOINT_MS, or its last answer that slow or
   * none at all), or the message waits in its lane behind one due for a retry.
   */
  private notSoon(w: Waiting): boolean {
    const e = this.endpoint(w.job);
    const now = this.ctx.now();
    if (e.slow || [...e.inFlight].some((f) => now - f.at >= this.ctx.config.WEBHOOK_SLOW_ENDPOINT_MS)) return true;
    const head = this.lanes.get(LocalDispatcher.keyOf(w.job))?.[0];
    return head !== undefined && head !== w && head.nextAttemptAt > now;
  }

  async enqueue(jobs: DeliveryJob[]): Promise<void> {
    const since = this.ctx.now();
    const batch: Waiting[] = [];
    for (const job of jobs) {
      let w = this.waiting(job);
      if (!w) {
        w = { job, attempts: 0, nextAttemptAt: since, onRecord: false };
        this.queue(w);
      }
      if (!w.onRecord) batch.push(w);
    }
    this.tick();
    for (;;) {
      const failed = batch.find((w) => w.error !== undefined);
      if (failed) {
        const e = failed.error;
        failed.error = undefined;
        throw e;
      }
      const open = batch.filter((w) => !w.onRecord);
      if (!open.length) return;
      // Messages that will not be sent soon are written down as pending and left to the scheduler.
      const slow = open.filter((w) => this.notSoon(w));
      await Promise.all(
        slow.map(async (w) => {
          await recordPendingIfNew(this.ctx, w.job, since, RESUMABLE);
          w.onRecord = true;
        }),
      );
      if (slow.length < open.length) await this.nextChange(WATCH_MS);
    }
  }

  private tick(): void {
    const now = this.ctx.now();
    for (const [key, q] of this.lanes) {
      if (this.running.size >= LANES_IN_ALL) break;
      const head = q[0];
      if (this.running.has(key) || !head || head.nextAttemptAt > now) continue;
      const endpoint = this.endpoint(head.job);
      if (endpoint.running >= LANES_PER_ENDPOINT) continue;
      this.running.add(key);
      endpoint.running++;
      this.drain(key, q)
        // The table was unreachable: the lane stays and is tried on a later tick.
        .catch((e) => this.ctx.log.warn('webhook retry lane failed; tried again on a later tick', { error: e }))
        .finally(() => {
          this.running.delete(key);
          endpoint.running--;
          this.tick(); // a lane waiting for this endpoint's or the process's capacity goes now
        });
    }
  }

  /** Sends a lane's due messages in order, stopping at the first that must wait for a retry. */
  private async drain(key: string, q: Waiting[]): Promise<void> {
    while (q[0] && q[0].nextAttemptAt <= this.ctx.now()) {
      const head = q[0];
      const endpoint = this.endpoint(head.job);
      const whileSending = async (request: Promise<AttemptOutcome>) => {
        const flight = { at: this.ctx.now() };
        endpoint.inFlight.add(flight);
        try {
          const outcome = await request;
          endpoint.slow = outcome.status === undefined || this.ctx.now() - flight.at >= this.ctx.config.WEBHOOK_SLOW_ENDPOINT_MS;
          return outcome;
        } finally {
          endpoint.inFlight.delete(flight);
        }
      };
      let result: Awaited<ReturnType<typeof attemptAndRecord>>;
      try {
        result = await attemptAndRecord(this.ctx, this.directory, head.job, head.attempts + 1, { ...RESUMABLE, whileSending });
      } catch (e) {
        // The table was unreachable: a batch waiting for this message fails (the follower hands it over again).
        if (!head.onRecord) head.error = e;
        this.changed();
        throw e;
      }
      const { state, superseded } = result;
      head.onRecord = true;
      this.changed();
      if (state.status === 'pending' && !superseded) {
        head.attempts = state.attempts;
        head.nextAttemptAt = state.nextAttemptAt!;
        return;
      }
      q.shift();
    }
    if (q.length === 0 && this.lanes.get(key) === q) this.lanes.delete(key);
  }
}
