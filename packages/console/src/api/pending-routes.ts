/**
 * Routes the console uses that the API does not have yet, so `hc<AppType>` infers nothing for
 * them: a book's activity (`GET /coupons/{bookId}/activity`) and API keys (`POST`/`GET
 * /api-keys`, `DELETE /api-keys/{keyId}`). This file, and only this file, gives them a type: the
 * contract the API documents, written by hand, over the same client (the same base URL, token,
 * retries, idempotency keys and path encoding; `hc` builds any path from the properties read).
 *
 * Once the API has these routes, each accessor below becomes the inferred route, e.g.
 * `client.coupons[':bookId'].activity`, its types go, and the compiler checks the pages against
 * the real answers.
 */
import type { ClientResponse } from 'hono/client';
import type { CouponClient } from '@coupons/client';

export type ActivityInterval = 'minute' | 'hour' | 'day';

/** One bucket: changes whose time falls in `[start, start + interval)`, UTC. */
export interface ActivityBucket {
  start: string;
  assigned: number;
  locked: number;
  unlocked: number;
  redeemed: number;
  rolledBack: number;
}

/** Oldest first, empty buckets included, at most 1,440. */
export interface Activity {
  interval: ActivityInterval;
  buckets: ActivityBucket[];
}

export type ApiKeyRole = 'service' | 'admin';

export interface ApiKey {
  keyId: string;
  name: string;
  role: ApiKeyRole;
  /** The key's first characters (`cbk_…`); at least 16 stay hidden. */
  prefix: string;
  createdAt: string;
  lastUsedAt?: string;
  revokedAt?: string;
}

/** The create answer: the only time `key` is ever shown. */
export interface CreatedApiKey extends ApiKey {
  key: string;
}

type ErrorBody = { error: { code: string; message: string; details?: unknown } };
type Refused = ClientResponse<ErrorBody, 400 | 401 | 403 | 404 | 409 | 422 | 429 | 503, 'json'>;

interface ActivityRoute {
  $get(args: { param: { bookId: string }; query: { from: string; to: string; interval: ActivityInterval } }): Promise<ClientResponse<Activity, 200, 'json'> | Refused>;
}

interface ApiKeyRoutes {
  /** The documented list; the API's other lists answer `{ items }`, and so is this one typed. */
  $get(): Promise<ClientResponse<{ items: ApiKey[] }, 200, 'json'> | Refused>;
  $post(args: { json: { name: string; role: ApiKeyRole } }): Promise<ClientResponse<CreatedApiKey, 201, 'json'> | Refused>;
  ':keyId': {
    $delete(args: { param: { keyId: string } }): Promise<ClientResponse<null, 204, 'body'> | Refused>;
  };
}

/** `GET /coupons/{bookId}/activity?from&to&interval`; becomes `client.coupons[':bookId'].activity`. */
export const activityRoute = (client: CouponClient): ActivityRoute => (client.coupons[':bookId'] as unknown as { activity: ActivityRoute }).activity;

/** `/api-keys`; becomes `client['api-keys']`. */
export const apiKeyRoutes = (client: CouponClient): ApiKeyRoutes => (client as unknown as { 'api-keys': ApiKeyRoutes })['api-keys'];
