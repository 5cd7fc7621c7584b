import { createHmac } from 'node:crypto';
import { newKeyMaterial, provisionApiKey, type CoreContext } from '@coupons/core';

export const DEV_KEY_NAME = 'npm start (development)';

/**
 * The service key `npm start` prints, derived from the development JWT secret instead of drawn at
 * random: with DATA_DIR the secret is kept, so a restart derives the same key, which still matches
 * the record the first run stored, and a key pasted into a shell keeps working, as the tokens do.
 * It gives nothing away: whoever holds that secret can mint admin tokens already. A derived key
 * that was revoked is skipped for the next one in the sequence. Never used on a deployed stage.
 */
export async function devServiceKey(core: CoreContext, jwtSecret: string, tenant: string): Promise<string> {
  for (let generation = 0; generation < 100; generation++) {
    let part = 0;
    const derived = (size: number) =>
      createHmac('sha256', jwtSecret).update(`npm start service key|${tenant}|${generation}|${part++}`).digest().subarray(0, size);
    const { key, state } = await provisionApiKey(core, { tenant, name: DEV_KEY_NAME, role: 'service', createdBy: 'npm-start' }, newKeyMaterial(derived));
    if (state !== 'revoked') return key;
  }
  throw new Error(`npm start: the first 100 development keys of tenant ${tenant} are revoked; use another DATA_DIR or JWT_SECRET`);
}
