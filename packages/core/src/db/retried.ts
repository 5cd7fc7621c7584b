import { setTimeout as sleep } from 'node:timers/promises';
import { isTransientAwsError } from './aws-errors.ts';
import { backoffMs } from './transact.ts';

/**
 * Sends again after throttling, a timeout or a DynamoDB 500, with backoff, up
 * to 20 times: for background work (jobs, migrations) that is not in a hurry
 * and must not stop for a blip. A request path answers 503 instead.
 */
export async function retried<T>(send: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await send();
    } catch (e) {
      if (!isTransientAwsError(e) || attempt >= 20) throw e;
      await sleep(backoffMs(Math.min(attempt, 8), 20, 2000));
    }
  }
}
