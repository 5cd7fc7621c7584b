import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** The file, inside DATA_DIR, that keeps `npm start`'s development JWT secret. */
export const DEV_SECRET_FILE = 'dev-jwt-secret';

/**
 * The HS256 secret `npm start` signs its printed tokens with. JWT_SECRET wins; otherwise a random
 * development secret, kept beside the data when there is a DATA_DIR so that tokens printed by one
 * run (and pasted into a shell) still work after a restart, as the data they refer to does.
 */
export function devSecret(env: NodeJS.ProcessEnv): { secret: string; source: string } {
  if (env.JWT_SECRET) return { secret: env.JWT_SECRET, source: 'from JWT_SECRET' };
  if (!env.DATA_DIR) return { secret: randomSecret(), source: 'a new development secret each start (DATA_DIR keeps one; JWT_SECRET chooses one)' };
  const dir = resolve(env.DATA_DIR);
  const file = join(dir, DEV_SECRET_FILE);
  if (existsSync(file)) {
    const kept = readFileSync(file, 'utf8').trim();
    if (kept.length >= 16) return { secret: kept, source: `the development secret kept in ${file}` };
  }
  mkdirSync(dir, { recursive: true });
  const secret = randomSecret();
  writeFileSync(file, `${secret}\n`, { mode: 0o600 });
  return { secret, source: `a development secret, now kept in ${file}` };
}

const randomSecret = () => `dev-secret-${randomBytes(16).toString('hex')}`;
