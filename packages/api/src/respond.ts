import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { runIdempotent, runIdempotentMultiStep, type CoreContext, type IdempotencyClaim, type Outcome, type UseCaseRefusals } from '@coupons/core';
import type { AppEnv } from './env.ts';

const claimFor = (c: Context<AppEnv>, status: number): IdempotencyClaim | undefined => {
  const claim = c.get('idempotency');
  return claim && { ...claim, status };
};

/**
 * Answers with the outcome, typed as the route's own status and body so `hc<AppType>` infers
 * them. A replay carries the first response's status and body, which are this route's own
 * (the key is scoped to the route and the request's hash).
 */
function send<T extends {}, S extends ContentfulStatusCode>(c: Context<AppEnv>, outcome: Outcome<T>, _status: S) {
  if (outcome.replayed) c.header('Idempotent-Replayed', 'true');
  return c.json(outcome.body, outcome.status as S);
}

/**
 * Runs a one-transaction use case under the request's Idempotency-Key (if any) and answers.
 * `refusals` are the use case's (its `...Refusals`): a copy of a keyed request refused by the
 * state its first left (`ofACopy`) answers the first's response.
 */
export async function respondOnce<T extends {}, S extends ContentfulStatusCode>(
  c: Context<AppEnv>,
  core: CoreContext,
  status: S,
  work: (opts: { idempotency?: IdempotencyClaim }) => Promise<T>,
  refusals?: Pick<UseCaseRefusals, 'ofACopy'>,
) {
  return send(c, await runIdempotent(core, claimFor(c, status), status, (idempotency) => work({ idempotency }), refusals?.ofACopy), status);
}

/** The same for work spanning many transactions (uploads, generation). */
export async function respondOnceMultiStep<T extends {}, S extends ContentfulStatusCode>(
  c: Context<AppEnv>,
  core: CoreContext,
  status: S,
  work: () => Promise<T>,
) {
  return send(c, await runIdempotentMultiStep(core, claimFor(c, status), status, work), status);
}
