import type { CoreContext } from '../context.ts';
import { requireRole, type Actor } from '../actor.ts';
import { AppError } from '../errors.ts';
import { isUserId, USER_ID_RULE } from '../user-id.ts';
import { pseudonymOf } from '../erased-users.ts';
import { queueJob } from '../jobs/jobs.ts';
import { SCAN_PAGE_SIZE } from '../jobs/scan-lanes.ts';
import { iso } from '../jobs/model.ts';
import { conditionalWrite } from '../db/conditional-write.ts';
import { passRefusalsOf, refusalsOf } from '../db/transition.ts';
import { where } from '../db/condition.ts';
import { countInPeriod, type Quota } from '../db/quota.ts';
import { makeOnce } from './transitions.ts';

/**
 * Erasures a tenant may ask for in one UTC day: each reads the whole table, so a loop of DELETEs
 * would be a loop of full scans (docs/security.md#bounds).
 */
export const ERASURES_PER_DAY = 1000;
const DAY_MS = 86_400_000;

/** The count of erasures asked for on the UTC day of `now`, kept two days (TTL). */
function erasuresToday(now: number): { quota: Quota; expiresAt: number } {
  const day = new Date(now).toISOString().slice(0, 10);
  return {
    quota: { kind: `erasures#${day}`, cap: ERASURES_PER_DAY, what: `erasures asked for on ${day}` },
    expiresAt: Math.floor((Date.parse(day) + 2 * DAY_MS) / 1000),
  };
}

export const eraseUserRefusals = refusalsOf({ runs: [countInPeriod] });

/**
 * Erases a user of the caller's tenant (admin only): marks the id erased
 * (keyed by its pseudonym; from then on requests acting for it are refused),
 * then queues the erasure job that rewrites every item naming it
 * (erasure-job.ts). Erasing again, or an id that never existed, queues a job
 * that finds nothing left and succeeds. docs/erasure.md.
 */
export async function eraseUser(ctx: CoreContext, actor: Actor, userId: string): Promise<{ jobId: string }> {
  requireRole(actor, 'admin');
  if (!isUserId(userId)) {
    throw new AppError('VALIDATION_FAILED', `userId is not a user id (${USER_ID_RULE}).`, { details: [{ field: 'userId', reason: USER_ID_RULE }] });
  }
  const pseudonym = pseudonymOf(ctx, actor.tenant, userId);
  const today = erasuresToday(ctx.now());
  await conditionalWrite(
    ctx.store,
    (e) =>
      e.tenantQuota
        .upsert({ tenant: actor.tenant, kind: today.quota.kind, expiresAt: today.expiresAt })
        .add({ used: 1 })
        .where(where(countInPeriod.condition(today.quota))),
    (item) => countInPeriod.refusal(item, today.quota),
  );
  // Marked first: a second erasure finds the mark and leaves it as the first wrote it.
  await conditionalWrite(
    ctx.store,
    (e) => e.erasedUser.create({ tenant: actor.tenant, pseudonym, erasedAt: iso(ctx.now()) }),
    (item) => makeOnce.refusal(item, undefined),
  ).catch(passRefusalsOf(makeOnce));
  return queueJob(ctx, actor, {
    kind: 'erasure',
    laneTargets: Array.from({ length: ctx.config.JOB_LANES }, () => 1),
    chunkSize: SCAN_PAGE_SIZE,
    attributes: { userId, pseudonym, settleUntil: Date.now() + ctx.config.ERASURE_SETTLE_MS },
    transient: ['userId'],
  });
}
