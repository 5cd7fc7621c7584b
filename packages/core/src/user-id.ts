/**
 * What a user id is, in a token's `sub`, in a body's `userId` and in a path:
 * 1 to 128 of letters, digits and . _ : @ | -. It becomes part of keys
 * (`T#tenant#USER#<id>`), so `#` and anything that could forge a separator is
 * out; `|` and `:` stay, for identity providers' subs like `auth0|5f7c…`.
 * A token whose sub is not one is refused (401): a caller that could claim but
 * never list its codes is worse than one told at once (docs/edges.md).
 */
export const USER_ID_PATTERN = /^[A-Za-z0-9._:@|-]{1,128}$/;

export const USER_ID_RULE = '1 to 128 letters, digits and . _ : @ | - only';

export const isUserId = (value: unknown): value is string => typeof value === 'string' && USER_ID_PATTERN.test(value);
