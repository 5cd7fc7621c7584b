import { randomBytes } from 'node:crypto';

/**
 * A code's place in its book shard's pool: a random 64-bit key, so upload
 * order says nothing about pick order, and a pick starts at a random one.
 */
export const randomPoolSlot = () => randomBytes(8).toString('hex');
