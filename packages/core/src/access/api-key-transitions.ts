import { AppError } from '../errors.ts';
import { always, lt, notExists, or } from '../db/condition.ts';
import { Refused, transition, type Item } from '../db/transition.ts';

/**
 * Every conditional write of an API key (db/transition.ts says what a
 * transition is): its creation, its revocation, and the hourly `lastUsedAt`.
 */

export const apiKeyNotFound = (keyId: string) => new AppError('API_KEY_NOT_FOUND', `No API key ${keyId}.`);

/** A key is stored once: never over another key (96 random bits do not collide; npm start's derived key may exist already). */
export const storeKey = transition({
  refusals: ['exists'],
  presence: 'absent',
  condition: () => always,
  refusal: (item: Item | null) => new Refused('exists', 'the key is stored already', item),
});

/** Revoked once: the first `revokedAt` stands; a key that is not there (or another tenant's) is not found. */
export const revokeKey = transition({
  refusals: ['API_KEY_NOT_FOUND', 'revoked'],
  alreadyDone: ['revoked'],
  condition: (_: { keyId: string }) => notExists('revokedAt'),
  refusal: (item: Item | null, { keyId }) => (item ? new Refused('revoked', `API key ${keyId} was revoked already`, item) : apiKeyNotFound(keyId)),
});

/** `lastUsedAt` moves at most once an hour: absent, or older than an hour (`hourAgo`, ISO). */
export const touchKey = transition({
  refusals: ['touched'],
  condition: ({ hourAgo }: { hourAgo: string }) => or(notExists('lastUsedAt'), lt('lastUsedAt', hourAgo)),
  refusal: (item: Item | null) => new Refused('touched', 'used within the hour already, or gone', item),
});
