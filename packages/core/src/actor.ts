import { AppError } from './errors.ts';

export type Role = 'admin' | 'service' | 'user';

/** Who is calling, as proven by the token or API key. Every key the caller touches is scoped by `tenant`. */
export interface Actor {
  /** The token's `sub`; for an API key, `key:<keyId>` (a prefix tokens may not use). */
  sub: string;
  tenant: string;
  role: Role;
  /** Set when the caller signed in with an API key (which may not manage keys), never from a token. */
  apiKeyId?: string;
}

/** The `sub` of a caller signed in with an API key; tokens whose `sub` starts so are refused. */
export const API_KEY_SUB_PREFIX = 'key:';

/**
 * The user a request acts for. A `user` may only name itself (or omit it);
 * admins and services act for whoever they name.
 */
export function resolveUserId(actor: Actor, named: string | undefined, { required }: { required: boolean }): string | undefined {
  if (actor.role === 'user') {
    if (named !== undefined && named !== actor.sub) {
      throw new AppError('FORBIDDEN', 'A user may only act for itself.');
    }
    return actor.sub;
  }
  if (required && named === undefined) {
    throw new AppError('VALIDATION_FAILED', 'userId is required for admin and service callers.', {
      details: [{ field: 'userId', reason: 'required when the caller is not a user' }],
    });
  }
  return named;
}

export function requireRole(actor: Actor, ...roles: Role[]): void {
  if (!roles.includes(actor.role)) {
    throw new AppError('FORBIDDEN', `This action needs one of the roles: ${roles.join(', ')}.`);
  }
}
