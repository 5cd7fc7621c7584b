import { sign } from 'hono/jwt';
import type { Role } from '@coupons/core';

/** HS256 tokens in the shape the API expects; for local use and tests only. */
export function mintToken(secret: string, claims: { sub: string; tenant: string; role: Role }, expiresInSeconds = 12 * 3600) {
  const now = Math.floor(Date.now() / 1000);
  return sign({ ...claims, iat: now, exp: now + expiresInSeconds }, secret, 'HS256');
}
