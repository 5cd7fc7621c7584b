import type { MiddlewareHandler } from 'hono';
import { refuseErased, type CoreContext } from '@coupons/core';
import type { AppEnv } from '../../env.ts';

/**
 * A user's token outlives their erasure: once a user is marked erased
 * (DELETE /users/{userId}), every request signed as them is refused with 403
 * before it can write their id again, in an idempotency record, a rate-limit
 * counter or a claim. One cached read per caller (docs/erasure.md).
 */
export function refuseErasedUsers(core: CoreContext): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const actor = c.get('actor');
    if (actor?.role === 'user') await refuseErased(core, actor.tenant, actor.sub);
    return next();
  };
}
