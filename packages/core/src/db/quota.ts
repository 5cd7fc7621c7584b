import type { Store } from '../entities/index.ts';
import { AppError } from '../errors.ts';
import { always, gt, lt, notExists, or, where } from './condition.ts';
import type { Entities } from './transact.ts';
import { BrokenInvariant, Refused, refusedBy, transition, type Item } from './transition.ts';

/**
 * Caps on what a tenant can make (docs/security.md#bounds): each is a count
 * in one item per tenant and kind (entities/tenant-quota.ts), moved in the
 * same transaction as the thing it counts, under a condition that names the
 * cap, so no two requests can pass a cap together.
 *
 * A count is started the first time something is made after it existed (a
 * tenant that made endpoints before this release has no count yet): from a
 * count of what exists, written only if no count was started meanwhile.
 */
export interface Quota {
  kind: string;
  cap: number;
  /** What is counted, for the refusal: "webhook endpoints". */
  what: string;
}

export const tenantLimitReached = ({ cap, what }: Quota) =>
  new AppError('TENANT_LIMIT_REACHED', `This tenant has ${cap} ${what}, the most it may have.`, { details: { limit: cap } });

type Input = Quota;

/** One more, under the cap (a patch: the count must have been started). */
export const takeQuota = transition({
  refusals: ['TENANT_LIMIT_REACHED', 'uncounted'],
  condition: ({ cap }: Input) => lt('used', cap),
  refusal: (item: Item | null, quota) => (item ? tenantLimitReached(quota) : new Refused('uncounted', `no ${quota.kind} count yet`, null)),
});

/** A count started from what exists, only if none was started meanwhile (a create). */
export const startCount = transition({
  refusals: ['counted'],
  presence: 'absent',
  condition: (_: Input) => always,
  refusal: (item: Item | null, { kind }) => new Refused('counted', `the ${kind} count was started meanwhile`, item),
});

/** One fewer: the count is there and above zero. */
export const giveBack = transition({
  refusals: ['uncounted'],
  condition: (_: Input) => gt('used', 0),
  refusal: (item: Item | null, { kind }) =>
    item ? new BrokenInvariant(`the ${kind} count is ${item.used} with one to give back`) : new Refused('uncounted', `no ${kind} count yet`, null),
});

/** With no count started, nothing to give back: the start will count what is left then (a condition check). */
export const stillUncounted = transition({
  refusals: ['counted'],
  presence: 'any',
  condition: (_: Input) => notExists('used'),
  refusal: (item: Item | null, { kind }) => new Refused('counted', `the ${kind} count was started meanwhile`, item),
});

/** A count of a period (created today), started at 1 by the first one: an upsert under the cap. */
export const countInPeriod = transition({
  refusals: ['TENANT_LIMIT_REACHED'],
  presence: 'any',
  condition: ({ cap }: Input) => or(notExists('used'), lt('used', cap)),
  refusal: (_item: Item | null, quota) => tenantLimitReached(quota),
});

/** The tenant's count of `kind` (consistent), undefined when none was started. */
export async function readQuota(store: Store, tenant: string, kind: string): Promise<number | undefined> {
  const { data } = await store.tenantQuota.get({ tenant, kind }).go({ consistent: true });
  return data?.used;
}

/**
 * The count's item in the transaction that makes one more: taken under the
 * cap, or started at `existing + 1` when `used` (as read) is undefined.
 */
export function takeQuotaItem(entities: Entities, tenant: string, quota: Quota, used: number | undefined, existing: number) {
  if (used !== undefined) {
    return entities.tenantQuota.patch({ tenant, kind: quota.kind }).add({ used: 1 }).where(where(takeQuota.condition(quota))).commit({ response: 'all_old' });
  }
  if (existing >= quota.cap) throw tenantLimitReached(quota);
  return entities.tenantQuota.create({ tenant, kind: quota.kind, used: existing + 1 }).where(where(startCount.condition(quota))).commit({ response: 'all_old' });
}

/** The count's item in the transaction that removes one: given back, or checked still unstarted. */
export function giveBackItem(entities: Entities, tenant: string, quota: Quota, used: number | undefined) {
  if (used !== undefined) {
    return entities.tenantQuota.patch({ tenant, kind: quota.kind }).add({ used: -1 }).where(where(giveBack.condition(quota))).commit({ response: 'all_old' });
  }
  return entities.tenantQuota.check({ tenant, kind: quota.kind }).where(where(stillUncounted.condition(quota))).commit();
}

/** Why the count's item refused, for `onConditionFailed`: the cap, or a count another request moved or started (try again). */
export function quotaRefusal(item: Item | null, quota: Quota, used: number | undefined, removing = false): Error {
  if (removing) return used !== undefined ? giveBack.refusal(item, quota) : stillUncounted.refusal(item, quota);
  return used !== undefined ? takeQuota.refusal(item, quota) : startCount.refusal(item, quota);
}

/** The count was started, or is not there, unlike what the attempt read: read it again and try again. */
export const countMoved = (e: unknown) => [takeQuota, startCount, giveBack, stillUncounted].some((t) => refusedBy(t, e));

/** Something counted changed while a count was being started from it: start again. */
export const countedMoved = (quota: Quota) => startCount.refusal(null, quota);

/**
 * Runs `attempt` with the count as read, again with a fresh read when the
 * count moved under it (another request made or removed one meanwhile), at
 * most 8 times.
 */
export async function withQuota<T>(store: Store, tenant: string, kind: string, attempt: (used: number | undefined) => Promise<T>): Promise<T> {
  for (let tries = 1; ; tries++) {
    const used = await readQuota(store, tenant, kind);
    try {
      return await attempt(used);
    } catch (e) {
      if (!countMoved(e) || tries >= 8) throw e;
    }
  }
}
