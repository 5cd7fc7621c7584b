/** What a book is: its fields as clients send and see them, and as the table stores them. */
export interface Discount {
  type: 'percentage' | 'fixed';
  value: number;
  currency?: string;
}

export interface CreateBookInput {
  name: string;
  description?: string;
  validFrom?: string;
  validUntil?: string;
  maxRedemptionsPerUser?: number;
  maxCodesPerUser?: number;
  lockTtlSeconds?: number;
  discount?: Discount;
  codePattern?: string;
  /** Generated codes get a check character (code-format/check-char.ts). */
  checkChar?: boolean;
  metadata?: Record<string, unknown>;
  /** Available codes at which `book.low_stock` fires. */
  lowStockThreshold?: number;
  /** Stats and pool shards; at most one of `shards` and `expectedClaimsPerSecond` (cost/shards.ts). */
  shards?: number;
  expectedClaimsPerSecond?: number;
}

export interface UpdateBookInput {
  name?: string;
  description?: string | null;
  validFrom?: string | null;
  validUntil?: string | null;
  status?: 'active' | 'paused';
  lowStockThreshold?: number | null;
}

export interface BookStats {
  codes: number;
  available: number;
  assigned: number;
  redeemed: number;
}

export interface Book {
  id: string;
  name: string;
  description?: string;
  validFrom?: string;
  validUntil?: string;
  maxRedemptionsPerUser: number;
  maxCodesPerUser?: number;
  lockTtlSeconds: number;
  discount?: Discount;
  codePattern?: string;
  checkChar?: boolean;
  metadata?: Record<string, unknown>;
  lowStockThreshold?: number;
  status: 'active' | 'paused';
  /** Stats and pool shards, fixed at creation. */
  shards: number;
  createdAt: string;
  updatedAt: string;
  /** Bumped by every edit; absent on a book never edited (version 0). The API's ETag. */
  version?: number;
}

export type BookRecord = Book & { tenant: string; bookId: string; poolShards: number; gateVersion?: number };




export const DEFAULT_LOCK_TTL_SECONDS = 300;
/** A book's `maxRedemptionsPerUser` when not given; also what a code assigned before `maxRedemptions` was stored allows. */
export const DEFAULT_MAX_REDEMPTIONS = 1;

export function toBook(record: Record<string, any>): Book {
  const { tenant: _t, bookId, poolShards, gateVersion: _g, ...rest } = record;
  return { id: bookId, ...rest, shards: poolShards } as Book;
}

/** The version an ETag names: absent (never edited) is 0. */
export const bookVersion = (book: { version?: number }) => book.version ?? 0;
