import type { Actor, IdempotencyClaim } from '@coupons/core';

/** Variables middleware puts on the context for handlers. */
export interface AppEnv {
  Variables: {
    requestId: string;
    actor: Actor;
    idempotency?: IdempotencyClaim;
    errorCode?: string;
    errorCause?: unknown;
  };
}
