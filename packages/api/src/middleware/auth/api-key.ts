import { looksLikeApiKey, verifyApiKey, type Actor, type CoreContext } from '@coupons/core';

/** Verifies a bearer credential that is an API key; `undefined` for anything else (a JWT). */
export type ApiKeyAuthenticator = (credential: string) => Promise<Actor> | undefined;

/**
 * `Authorization: Bearer cbk_…` is an API key: verified against the key's record, which this
 * instance caches for API_KEY_CACHE_MS (access/api-key-verifier.ts). Any other credential is a JWT.
 */
export const apiKeyAuthenticator =
  (core: CoreContext): ApiKeyAuthenticator =>
  (credential) =>
    looksLikeApiKey(credential) ? verifyApiKey(core, credential) : undefined;
