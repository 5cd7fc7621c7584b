import type { CoreContext } from '../context.ts';
import type { DeliveryJob } from './event-types.ts';
import type { EndpointDirectory } from './endpoint-directory.ts';
import { signingSecrets } from './endpoints.ts';
import { sendOnce, type AttemptOutcome } from './send.ts';
import { recordDelivery, type DeliveryState } from './deliveries.ts';

/** Where a delivery job goes: in-process locally, an SQS FIFO queue on AWS. */
export interface DeliverySink {
  enqueue(jobs: DeliveryJob[]): Promise<void>;
}

export type Attempt = AttemptOutcome & { cancelled?: boolean };

export interface AttemptOptions {
  /** Written by the in-process dispatcher, which resumes pending messages from the due index. */
  resumable?: boolean;
  /** Sees the request to the receiver while it is out (how long the receiver takes, not the table). */
  whileSending?: (request: Promise<AttemptOutcome>) => Promise<AttemptOutcome>;
}

/** One attempt to the endpoint as it is now; a deleted endpoint cancels the message instead. */
export async function attemptDelivery(ctx: CoreContext, directory: EndpointDirectory, job: DeliveryJob, options: AttemptOptions = {}): Promise<Attempt> {
  const endpoint = (await directory.current(job.tenant)).find((w) => w.webhookId === job.webhookId);
  if (!endpoint) return { ok: false, cancelled: true, error: 'the webhook was deleted' };
  const request = sendOnce(
    { url: endpoint.url, secrets: signingSecrets(endpoint, ctx.now()) },
    { messageId: job.messageId, body: job.body },
    { timeoutMs: ctx.config.WEBHOOK_TIMEOUT_MS, allowLoopback: ctx.config.WEBHOOK_ALLOW_LOOPBACK, now: ctx.now },
  );
  return options.whileSending ? options.whileSending(request) : request;
}

/**
 * What attempt number `attempts` (1-based) leads to: delivered, cancelled,
 * retried after the schedule's next delay, or failed for good once the
 * schedule is used up. The failed message stays in the log and can be resent.
 */
export function stateAfter(ctx: CoreContext, attempts: number, outcome: Attempt): DeliveryState {
  const now = ctx.now();
  const common = {
    attempts,
    lastAttemptAt: now,
    ...(outcome.status !== undefined ? { responseStatus: outcome.status } : {}),
    ...(outcome.error !== undefined ? { lastError: outcome.error.slice(0, 500) } : {}),
  };
  if (outcome.ok) return { status: 'delivered', ...common };
  if (outcome.cancelled) return { status: 'cancelled', ...common };
  const schedule = ctx.config.WEBHOOK_RETRY_SCHEDULE;
  if (attempts > schedule.length) return { status: 'failed', ...common };
  return { status: 'pending', nextAttemptAt: now + schedule[attempts - 1]! * 1000, ...common };
}

/**
 * One attempt and its record. `superseded`: the message was sent again by an
 * admin since this copy was made; the copy's record was dropped and it is
 * settled, whatever its attempt said.
 */
export async function attemptAndRecord(
  ctx: CoreContext,
  directory: EndpointDirectory,
  job: DeliveryJob,
  attempts: number,
  options: AttemptOptions = {},
) {
  const outcome = await attemptDelivery(ctx, directory, job, options);
  const state = stateAfter(ctx, attempts, outcome);
  const superseded = (await recordDelivery(ctx, job, state, { resumable: options.resumable })) === 'superseded';
  observeAttempt(ctx, job, state);
  return { state, outcome, superseded };
}

/** The dashboard's outcome words for a delivery's state after an attempt. */
const OUTCOME = { delivered: 'delivered', pending: 'retry', failed: 'failed', cancelled: 'cancelled' } as const;

/**
 * One metric and one log line per attempt. The endpoint is a log field, never
 * a dimension (there may be thousands): failures per endpoint are a Logs
 * Insights query on these lines (docs/observability.md).
 */
function observeAttempt(ctx: CoreContext, job: DeliveryJob, state: DeliveryState) {
  const outcome = OUTCOME[state.status as keyof typeof OUTCOME] ?? state.status;
  ctx.metrics.add('WebhookDeliveries', 1, { outcome });
  ctx.log[outcome === 'delivered' ? 'info' : 'warn']('webhook attempt', {
    tenant: job.tenant,
    webhookId: job.webhookId,
    messageId: job.messageId,
    outcome,
    attempts: state.attempts,
    ...(state.responseStatus !== undefined ? { responseStatus: state.responseStatus } : {}),
    ...(state.lastError !== undefined ? { error: state.lastError } : {}),
  });
}
