import type { JWTPayload } from 'hono/utils/jwt/types';
import { decode, verify } from 'hono/jwt';

type Jwk = { kty?: string; kid?: string; alg?: string; use?: string; n?: string; e?: string };

/**
 * Public keys from a JWKS URL (e.g. Cognito), cached per instance. An
 * unknown `kid` refetches (keys rotate), at most once every 30 s so a flood
 * of forged kids cannot turn into a flood of fetches.
 */
export function jwksVerifier(url: string, options: { cacheMs?: number; refetchFloorMs?: number } = {}) {
  const cacheMs = options.cacheMs ?? 10 * 60_000;
  const refetchFloorMs = options.refetchFloorMs ?? 30_000;
  let keys: Jwk[] = [];
  let fetchedAt = 0;
  let inflight: Promise<void> | null = null;

  async function refresh() {
    inflight ??= (async () => {
      try {
        const res = await fetch(url, { signal: AbortSignal.timeout(3000) });
        if (!res.ok) throw new Error(`JWKS ${res.status}`);
        const body = (await res.json()) as { keys?: Jwk[] };
        keys = (body.keys ?? []).filter((k) => k.kty === 'RSA' && (k.use === undefined || k.use === 'sig'));
        fetchedAt = Date.now();
      } finally {
        inflight = null;
      }
    })();
    await inflight;
  }

  return async function verifyRs256(token: string, kid: string | undefined): Promise<JWTPayload> {
    if (Date.now() - fetchedAt > cacheMs) await refresh();
    let key = keys.find((k) => k.kid === kid);
    if (!key && Date.now() - fetchedAt > refetchFloorMs) {
      await refresh();
      key = keys.find((k) => k.kid === kid);
    }
    if (!key) throw new Error('unknown key id');
    // An identity provider's JWT access tokens (RFC 9068) say `typ: at+jwt`; hono/jwt accepts
    // only JWT (or none) unless told. Time claims are checked by the caller, with a bounded clock skew.
    const typ = (decode(token).header as { typ?: unknown }).typ;
    const accessToken = typeof typ === 'string' && typ.toLowerCase().replace(/^application\//, '') === 'at+jwt';
    return verify(token, key as Parameters<typeof verify>[1], { alg: 'RS256', exp: false, nbf: false, iat: false, ...(accessToken ? { typ: 'at+jwt' } : {}) });
  };
}
