import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import { createCouponClient, type CouponClient } from '@coupons/client';

/**
 * The console reaches the API only through `@coupons/client` (Hono's `hc` over the app's own
 * type): every route's parameters and answers are checked against the API at compile time.
 * Retries stay few and short: a person is waiting, and an error they can read beats a long
 * spinner. No client-side timeout: an upload of 5,000 codes may take a while, and its retry
 * would only wait on the first one's idempotency key.
 */
export function createConsoleClient(apiUrl: string, token: () => string): CouponClient {
  return createCouponClient(apiUrl, { token, retry: { limit: 2, maxDelayMs: 3000 } });
}

export const ApiContext = createContext<CouponClient | null>(null);

export function useApi(): CouponClient {
  const client = useContext(ApiContext);
  if (!client) throw new Error('useApi outside <ApiContext.Provider>');
  return client;
}
