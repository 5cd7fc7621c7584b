import { randomUUID } from 'node:crypto';
import { CODE_PATTERN } from '../code-format/code-format.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * A redemption's id names its code: `<code>.<uuid>`. The record lives under
 * the code, so a rollback reads it with one GetItem; no lookup item (one more
 * transactional write on every redeem) and no index. Codes never contain a dot.
 */
export const newRedemptionId = (code: string) => `${code}.${randomUUID()}`;

/**
 * A redemption id of the previous release: a plain UUID, naming no code. Its
 * code is in a lookup item (entities/redemption-lookup.ts, written by
 * migration 002), read only when such an id is rolled back.
 */
export const isPlainRedemptionId = (id: string) => UUID.test(id);

/** The code a redemption id names, or undefined when the id is not one this service made. */
export function codeOfRedemptionId(id: string): string | undefined {
  const dot = id.lastIndexOf('.');
  if (dot < 0) return undefined;
  const code = id.slice(0, dot);
  return CODE_PATTERN.test(code) && UUID.test(id.slice(dot + 1)) ? code : undefined;
}
