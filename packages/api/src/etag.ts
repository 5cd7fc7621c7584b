import { AppError } from '@coupons/core';

/**
 * A book's ETag is its version, strong (`"3"`): it names the editable state
 * (what PATCH changes), not the live stats GET adds beside it, so a client can
 * read, edit and send `If-Match` without stats making every tag stale.
 */
export const etagOf = (version: number) => `"${version}"`;

/**
 * The versions an `If-Match` header allows: undefined when absent or `*`
 * (any existing book). The comparison is strong, character by character
 * (RFC 9110 8.8.3.2): a tag matches a version only if it is exactly
 * `etagOf(version)`, so `"01"` is not version 1. Tags that are not ours, or
 * weak ones (which never match under If-Match), match no version.
 */
export function ifMatchVersions(header: string | undefined): number[] | undefined {
  if (header === undefined || header.trim() === '*') return undefined;
  const versions: number[] = [];
  for (const tag of header.split(',')) {
    const m = /^\s*"(\d{1,15})"\s*$/.exec(tag);
    if (m && etagOf(Number(m[1])) === `"${m[1]}"`) versions.push(Number(m[1]));
  }
  if (!versions.length && !/"/.test(header)) {
    throw new AppError('VALIDATION_FAILED', 'If-Match must be * or a list of quoted entity tags.', {
      details: [{ field: 'If-Match', reason: 'an entity tag from ETag, e.g. "3"' }],
    });
  }
  return versions;
}
