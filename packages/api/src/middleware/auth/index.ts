import type { MiddlewareHandler } from 'hono';
import { decode, verify } from 'hono/jwt';
import { z } from 'zod';
import { API_KEY_SUB_PREFIX, AppError, isUserId, USER_ID_RULE, type Actor } from '@coupons/core';
import type { AppEnv } from '../../env.ts';
import type { ApiKeyAuthenticator } from './api-key.ts';
import { jwksVerifier } from './jwks.ts';

export interface AuthOptions {
  /** HS256 secret (local, tests, or a backend that signs its own tokens). */
  hs256Secret?: string;
  /** RS256 public keys, in production (e.g. Cognito's JWKS URL). */
  jwksUrl?: string;
  /** Tolerance for clocks that disagree, on `exp` and `nbf`. */
  clockSkewSeconds?: number;
}

export const MAX_CLOCK_SKEW_SECONDS = 60;

const ClaimsSchema = z.object({
  sub: z.string().min(1).max(128),
  // The tenant is part of every key; keep it to characters that cannot forge a key separator.
  tenant: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/),
  role: z.enum(['admin', 'service', 'user']),
  exp: z.number(),
  nbf: z.number().optional(),
});

const unauthenticated = (message: string) => new AppError('UNAUTHENTICATED', message);

/**
 * Bearer JWT, or an API key (`cbk_…`, when `apiKeys` is given). Each JWT
 * algorithm is pinned to its own key source: HS256 to the secret, RS256 to
 * the JWKS; any other `alg` (including `none`) is refused. `exp` is required;
 * `exp` and `nbf` allow at most 60 s of clock skew. A token's `sub` may not
 * start with `key:`, which names API keys. Puts the caller on the context as `actor`.
 */
export function authenticate(options: AuthOptions, apiKeys?: ApiKeyAuthenticator): MiddlewareHandler<AppEnv> {
  const skew = Math.min(options.clockSkewSeconds ?? MAX_CLOCK_SKEW_SECONDS, MAX_CLOCK_SKEW_SECONDS);
  const rs256 = options.jwksUrl ? jwksVerifier(options.jwksUrl) : undefined;
  // Imported once: given the secret as a string, hono/jwt imports it as a key on every request.
  let hs256Key: Promise<CryptoKey> | undefined;
  const hs256 = (secret: string) =>
    (hs256Key ??= crypto.subtle.importKey('raw', new TextEncoder().encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['verify']));

  async function verifySignature(token: string) {
    let header: { alg?: string; kid?: string };
    try {
      header = decode(token).header as typeof header;
    } catch {
      throw unauthenticated('The token is not a JWT.');
    }
    try {
      if (header.alg === 'HS256' && options.hs256Secret) {
        return await verify(token, await hs256(options.hs256Secret), { alg: 'HS256', exp: false, nbf: false, iat: false });
      }
      if (header.alg === 'RS256' && rs256) return await rs256(token, header.kid);
    } catch {
      throw unauthenticated('The token is badly signed.');
    }
    throw unauthenticated(`Tokens signed with ${header.alg ?? 'no algorithm'} are not accepted.`);
  }

  return async (c, next) => {
    const header = c.req.header('authorization');
    const match = header?.match(/^Bearer\s+(\S+)$/i);
    if (!match) throw unauthenticated('A bearer token is required.');
    const byKey = apiKeys?.(match[1]!);
    if (byKey) {
      c.set('actor', await byKey);
      return next();
    }
    const payload = await verifySignature(match[1]!);
    const claims = ClaimsSchema.safeParse(payload);
    if (!claims.success) throw unauthenticated('The token lacks sub, tenant, role (admin, service or user) or exp.');
    // One user-id rule for tokens, bodies and paths: a sub that no path could name is refused here.
    if (!isUserId(claims.data.sub)) throw unauthenticated(`The token's sub is not a user id (${USER_ID_RULE}).`);
    if (claims.data.sub.startsWith(API_KEY_SUB_PREFIX)) throw unauthenticated(`A token's sub may not start with ${API_KEY_SUB_PREFIX} (it names API keys).`);
    const now = Math.floor(Date.now() / 1000);
    if (claims.data.exp + skew <= now) throw unauthenticated('The token has expired.');
    if (claims.data.nbf !== undefined && claims.data.nbf - skew > now) throw unauthenticated('The token is not valid yet.');
    const actor: Actor = { sub: claims.data.sub, tenant: claims.data.tenant, role: claims.data.role };
    c.set('actor', actor);
    await next();
  };
}
