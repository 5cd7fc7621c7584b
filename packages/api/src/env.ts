import type { Actor, CoreContext, IdempotencyClaim } from '@coupons/core';
import type { AuthOptions } from './middleware/auth/index.ts';

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
  auth: AuthOptions;
  /** Origins of browser apps allowed to call the API; none by default. */
  corsOrigins?: string[];
  log?: (line: Record<string, unknown>) => void;
}
