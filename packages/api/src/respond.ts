import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { runIdempotent, runIdempotentMultiStep, type CoreContext, type IdempotencyClaim } from '@coupons/core';
import type { AppEnv } from './env.ts';

const claimFor = (c: Context<AppEnv>, status: number): IdempotencyClaim | undefined => {
  const claim = c.get('idempotency');
  return claim && { ...claim, status };
};

function send(c: Context<AppEnv>, outcome: { status: number; body: unknown; replayed: boolean }) {
  if (outcome.replayed) c.header('Idempotent-Replayed', 'true');
  // Typed routes want literal statuses; the outcome's is the route's own (or the first response's).
  return c.json(outcome.body as any, outcome.status as ContentfulStatusCode) as any;
}

/** Runs a one-transaction use case under the request's Idempotency-Key (if any) and answers. */
export async function respondOnce<T>(
  c: Context<AppEnv>,
  core: CoreContext,
  status: number,
  work: (opts: { idempotency?: IdempotencyClaim }) => Promise<T>,
) {
  return send(c, await runIdempotent(core, claimFor(c, status), status, (idempotency) => work({ idempotency })));
}

/** The same for work spanning many transactions (uploads, generation). */
export async function respondOnceMultiStep<T>(c: Context<AppEnv>, core: CoreContext, status: number, work: () => Promise<T>) {
  return send(c, await runIdempotentMultiStep(core, claimFor(c, status), status, work));
}
