import type { MiddlewareHandler } from 'hono';
import { verify } from 'hono/jwt';
import { z } from 'zod';
import { AppError, type Actor } from '@coupons/core';
import type { AppEnv } from '../../env.ts';

const ClaimsSchema = z.object({
  sub: z.string().min(1).max(128),
  // The tenant is part of every key; keep it to characters that cannot forge a key separator.
  tenant: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/),
  role: z.enum(['admin', 'service', 'user']),
  exp: z.number(),
});

const unauthenticated = (message: string) => new AppError('UNAUTHENTICATED', message);

/**
 * Bearer JWT, HS256 with the configured secret, algorithm pinned (a token
 * that names another algorithm is refused), `exp` required. Puts the
 * caller on the context as `actor`.
 */
export function authenticate(options: { hs256Secret: string }): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const header = c.req.header('authorization');
    const match = header?.match(/^Bearer\s+(\S+)$/i);
    if (!match) throw unauthenticated('A bearer token is required.');
    let payload: unknown;
    try {
      payload = await verify(match[1]!, options.hs256Secret, 'HS256');
    } catch {
      throw unauthenticated('The token is expired, not yet valid or badly signed.');
    }
    const claims = ClaimsSchema.safeParse(payload);
    if (!claims.success) throw unauthenticated('The token lacks sub, tenant, role (admin, service or user) or exp.');
    const actor: Actor = { sub: claims.data.sub, tenant: claims.data.tenant, role: claims.data.role };
    c.set('actor', actor);
    await next();
  };
}
