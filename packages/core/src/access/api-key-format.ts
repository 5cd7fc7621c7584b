import { createHash, randomBytes } from 'node:crypto';

/**
 * What an API key looks like: `cbk_<tenant>_<keyId>_<secret>`.
 *
 * - `cbk_` makes it recognisable (to the server, which tells it from a JWT, and to secret scanners);
 * - `<tenant>_<keyId>` is the lookup: the record's key is `T#<tenant>#APIKEY#<keyId>`, so it is one
 *   GetItem, never a scan. The tenant follows the token rule (`[A-Za-z0-9_-]{1,64}`); the key id is
 *   96 random bits in hex and is public (listed, and named by `DELETE /api-keys/{keyId}`);
 * - `<secret>` is 256 random bits from node:crypto in base64url (43 characters): the only secret part.
 *
 * The key id and the secret have fixed lengths, so the key is read from its end and a tenant
 * holding `_` cannot shift the parts. docs/security.md#api-keys explains the choices.
 */
export const API_KEY_PREFIX = 'cbk_';
export const KEY_ID_BYTES = 12;
export const SECRET_BYTES = 32;
/** Characters of the secret the listed prefix shows, to tell keys apart at a glance; 39 stay hidden. */
const SHOWN_SECRET_CHARS = 4;

const KEY = /^cbk_([A-Za-z0-9_-]{1,64})_([0-9a-f]{24})_([A-Za-z0-9_-]{43})$/;
export const KEY_ID = /^[0-9a-f]{24}$/;

export interface KeyMaterial {
  keyId: string;
  secret: string;
}

export interface ParsedApiKey extends KeyMaterial {
  tenant: string;
}

/** A new key id and secret; `bytes` is node:crypto's randomBytes except where a key is derived on purpose (npm start). */
export function newKeyMaterial(bytes: (size: number) => Buffer = randomBytes): KeyMaterial {
  return { keyId: bytes(KEY_ID_BYTES).toString('hex'), secret: bytes(SECRET_BYTES).toString('base64url') };
}

export const formatApiKey = (tenant: string, m: KeyMaterial) => `${API_KEY_PREFIX}${tenant}_${m.keyId}_${m.secret}`;

/** The listed prefix: the lookup part and four characters of the secret. */
export const prefixOf = (tenant: string, m: KeyMaterial) => `${API_KEY_PREFIX}${tenant}_${m.keyId}_${m.secret.slice(0, SHOWN_SECRET_CHARS)}`;

/** The parts of a well-formed key; null for anything else (the caller answers as for any bad key). */
export function parseApiKey(key: string): ParsedApiKey | null {
  const m = KEY.exec(key);
  return m ? { tenant: m[1]!, keyId: m[2]!, secret: m[3]! } : null;
}

/** Does this bearer credential claim to be an API key (rather than a JWT)? */
export const looksLikeApiKey = (credential: string) => credential.startsWith(API_KEY_PREFIX);

/**
 * SHA-256 of the secret. A fast hash is enough: the secret is 256 random bits, so no dictionary or
 * brute force applies, and a slow hash (bcrypt, scrypt) would only make every cache miss cost CPU.
 */
export const hashSecret = (secret: string): Buffer => createHash('sha256').update(secret).digest();
