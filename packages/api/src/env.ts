import type { Actor, CoreContext, IdempotencyClaim } from '@coupons/core';

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

export interface AppDeps {
  core: CoreContext;
  auth: { hs256Secret: string };
  log?: (line: Record<string, unknown>) => void;
}
