import type { CoreContext } from '../context.ts';
import type { DeliveryJob } from './event-types.ts';
import type { EndpointDirectory } from './endpoint-directory.ts';
import { attemptAndRecord, type DeliverySink } from './delivery.ts';
import { jobOfRecord, readPendingDeliveries, recordDelivery } from './deliveries.ts';

interface Waiting {
  job: DeliveryJob;
  attempts: number;
  nextAttemptAt: number;
}

const RESUMABLE = { resumable: true };

const PARALLEL_LANES = 32;

/** Runs `work` over `items` with at most `limit` at a time. */
async function eachLimited<T>(items: T[], limit: number, work: (item: T) => Promise<void>) {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await work(items[next++]!);
  }));
}

/**
 * Delivery in the process that follows the stream (`npm start`, tests).
 *
 * `enqueue` returns only once every job is either delivered or recorded as
 * pending in the table, so the follower's checkpoint never passes an event
 * that could still be lost; a restart reads the pending ones back.
 *
 * Order: jobs of one lane (endpoint + code/book/job) go one at a time in
 * their order; while a lane has a message waiting for a retry, later ones
 * queue behind it. Lanes run side by side, so one failing endpoint or code
 * holds up nothing else.
 */
export class LocalDispatcher implements DeliverySink {
  private readonly lanes = new Map<string, Waiting[]>();
  private readonly running = new Set<string>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly ctx: CoreContext,
    private readonly directory: EndpointDirectory,
  ) {}

  private static keyOf = (job: DeliveryJob) => `${job.tenant}\u0000${job.webhookId}\u0000${job.lane}`;

  /** Reads back what a previous run left pending, then retries on the schedule. */
  async start(): Promise<void> {
    if (this.timer) return;
    for (const r of await readPendingDeliveries(this.ctx)) {
      this.queue({ job: jobOfRecord(r), attempts: r.attempts, nextAttemptAt: r.nextAttemptAt ?? 0 });
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

  /** Whether the message already waits here (a change read again after a restart). */
  private holds(job: DeliveryJob): boolean {
    return this.lanes.get(LocalDispatcher.keyOf(job))?.some((x) => x.job.messageId === job.messageId) ?? false;
  }

  private queue(w: Waiting): void {
    if (this.holds(w.job)) return;
    const key = LocalDispatcher.keyOf(w.job);
    const q = this.lanes.get(key) ?? [];
    q.push(w);
    q.sort((a, b) => a.job.order.localeCompare(b.job.order));
    this.lanes.set(key, q);
  }

  async enqueue(jobs: DeliveryJob[]): Promise<void> {
    const byLane = new Map<string, DeliveryJob[]>();
    for (const job of jobs) {
      const key = LocalDispatcher.keyOf(job);
      byLane.set(key, [...(byLane.get(key) ?? []), job]);
    }
    // Endpoints that gave no answer in this batch (timeout, refused, unreachable): their other
    // messages are recorded and left to the retry loop rather than each waiting out a timeout
    // here, which would hold up the follower and every other consumer behind it.
    const silent = new Set<string>();
    await eachLimited([...byLane.entries()], PARALLEL_LANES, async ([key, laneJobs]) => {
      for (const job of laneJobs) {
        const now = this.ctx.now();
        if (this.lanes.has(key) || this.running.has(key) || silent.has(job.webhookId)) {
          // Recorded before the retry loop can see it (so its record never overwrites the loop's),
          // and so that a restart still has it; then sent by the loop in its lane's order.
          if (this.holds(job)) continue;
          const recorded = await recordDelivery(this.ctx, job, { status: 'pending', attempts: 0, nextAttemptAt: now }, RESUMABLE);
          if (recorded === 'recorded') this.queue({ job, attempts: 0, nextAttemptAt: now });
          continue;
        }
        const { state, outcome, superseded } = await attemptAndRecord(this.ctx, this.directory, job, 1, RESUMABLE);
        if (state.status === 'pending' && !superseded) this.queue({ job, attempts: 1, nextAttemptAt: state.nextAttemptAt! });
        if (!outcome.ok && outcome.status === undefined && !outcome.cancelled) silent.add(job.webhookId);
      }
    });
  }

  private tick(): void {
    const now = this.ctx.now();
    for (const [key, q] of this.lanes) {
      if (this.running.size >= PARALLEL_LANES) break;
      if (this.running.has(key) || !q[0] || q[0].nextAttemptAt > now) continue;
      this.running.add(key);
      this.drain(key, q)
        // The table was unreachable: the lane stays and is tried on a later tick.
        .catch((e) => this.ctx.log.warn('webhook retry lane failed; tried again on a later tick', { error: e }))
        .finally(() => this.running.delete(key));
    }
  }

  /** Sends a lane's due messages in order, stopping at the first that must wait for a retry. */
  private async drain(key: string, q: Waiting[]): Promise<void> {
    while (q[0] && q[0].nextAttemptAt <= this.ctx.now()) {
      const head = q[0];
      const { state, superseded } = await attemptAndRecord(this.ctx, this.directory, head.job, head.attempts + 1, RESUMABLE);
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
