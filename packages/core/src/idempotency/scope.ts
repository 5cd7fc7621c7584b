import { createHash } from 'node:crypto';

/** Who made a keyed request, and with which key: the record's identity. */
export interface KeyOwner {
  tenant: string;
  role: string;
  caller: string;
  key: string;
}

/**
 * The record's key inside the tenant: sha256 of the JSON array [role, sub,
 * key]. JSON quotes and escapes each part, so no two triples share a text
 * (`alice-is` + `K#1` and `alice-is#K` + `1` differ), and the role is part of
 * it, so a user whose sub equals a service's sub has its own records.
 * (The tenant is limited to [A-Za-z0-9_-] by the token check, so it is used as is.)
 */
export const idempotencyScope = (o: Pick<KeyOwner, 'role' | 'caller' | 'key'>) =>
  createHash('sha256').update(JSON.stringify([o.role, o.caller, o.key])).digest('hex');

export const recordKey = (o: KeyOwner) => ({ tenant: o.tenant, scope: idempotencyScope(o) });
