import { createCipheriv, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runProcess } from '../../../scripts/lib/run-process.ts';
import { createCoreContext, readAuthConfig, withLinkedResources } from './runtime.ts';

const links = {
  Coupons: { name: 'coupon-books-prod-CouponsTable-abc' },
  GenerationJobs: { url: 'https://sqs.us-east-1.amazonaws.com/1/GenerationJobs-x' },
  JwtSecret: { value: 'a-secret-of-enough-length' },
  JwksUrl: { value: '' },
  ErasureSecret: { value: 'an-erasure-key-of-enough-length' },
};

describe('configuration from SST links', () => {
  it('a linked function takes its table, queue and secret from the links, over plain variables', () => {
    const env = withLinkedResources({ TABLE_NAME: 'stale', JWT_SECRET: 'stale-secret-xxxxxxxx' }, links);
    expect(env.TABLE_NAME).toBe('coupon-books-prod-CouponsTable-abc');
    expect(env.ERASURE_SECRET).toBe('an-erasure-key-of-enough-length');
    expect(env.QUEUE_URL).toBe('https://sqs.us-east-1.amazonaws.com/1/GenerationJobs-x');
    expect(env.JWT_SECRET).toBe('a-secret-of-enough-length');
    // An empty secret (JwksUrl's default) is no setting at all.
    expect(env.JWT_JWKS_URL).toBeUndefined();
    expect(createCoreContext({}, links).config.TABLE_NAME).toBe('coupon-books-prod-CouponsTable-abc');
    expect(readAuthConfig({}, links)).toEqual({ hs256Secret: 'a-secret-of-enough-length', jwksUrl: undefined });
  });

  it('under sst dev the table link carries DynamoDB Local’s endpoint', () => {
    const dev = { ...links, Coupons: { name: 'coupons-dev', endpoint: 'http://127.0.0.1:8000' } };
    expect(createCoreContext({}, dev).config).toMatchObject({ TABLE_NAME: 'coupons-dev', DYNAMODB_ENDPOINT: 'http://127.0.0.1:8000' });
  });

  it('locally, without links, the app reads its own variables', () => {
    expect(createCoreContext({ TABLE_NAME: 'local-table' }).config.TABLE_NAME).toBe('local-table');
    expect(readAuthConfig({ JWT_SECRET: 'local-secret-0123456789' }).hs256Secret).toBe('local-secret-0123456789');
  });

  it('refuses to start without any way to check tokens, or with a short secret', () => {
    expect(() => readAuthConfig({})).toThrow(/JWT_SECRET or JWT_JWKS_URL/);
    expect(() => readAuthConfig({ JWT_SECRET: 'short' })).toThrow(/16 characters/);
  });
});

// The real `Resource` of the pinned `sst` package, in a fresh process each time (it reads its
// links once per process), fed the way SST feeds a function.
describe("links read through SST's own SDK", () => {
  const dir = mkdtempSync(join(tmpdir(), 'sst-links-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const script = join(dir, 'print-config.ts');
  writeFileSync(
    script,
    `import { createCoreContext, readAuthConfig } from ${JSON.stringify(join(import.meta.dirname, 'runtime.ts'))};
const { config } = createCoreContext();
console.log(JSON.stringify({ table: config.TABLE_NAME, endpoint: config.DYNAMODB_ENDPOINT, queue: config.QUEUE_URL, auth: readAuthConfig() }));`,
  );
  const tsx = join(import.meta.dirname, '..', '..', '..', 'node_modules', '.bin', 'tsx');
  /** The child's environment: this one without anything SST or app-specific that could leak in. */
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(SST_|TABLE_NAME|JWT_|QUEUE_URL|DYNAMODB_ENDPOINT)/.test(k)));
  async function configWith(env: Record<string, string>) {
    const r = await runProcess(tsx, [script], { env: { ...clean, ...env } });
    expect(r.code, r.stderr).toBe(0);
    return JSON.parse(r.stdout);
  }

  it('deployed: the links are in resource.enc, encrypted with SST_KEY; no secret in a variable', async () => {
    // What SST writes beside a function's code: AES-256-GCM with a zero nonce, tag at the end.
    const key = randomBytes(32);
    const cipher = createCipheriv('aes-256-gcm', key, Buffer.alloc(12, 0));
    const body = Buffer.concat([cipher.update(JSON.stringify(links)), cipher.final(), cipher.getAuthTag()]);
    const file = join(dir, 'resource.enc');
    writeFileSync(file, body);
    const env = { SST_KEY: key.toString('base64'), SST_KEY_FILE: file, SST_RESOURCE_App: JSON.stringify({ name: 'coupon-books', stage: 'prod' }) };
    expect(await configWith(env)).toEqual({
      table: 'coupon-books-prod-CouponsTable-abc',
      queue: 'https://sqs.us-east-1.amazonaws.com/1/GenerationJobs-x',
      auth: { hs256Secret: 'a-secret-of-enough-length' },
    });
    expect(JSON.stringify(env)).not.toContain('a-secret-of-enough-length');
  });

  it('sst dev: the links are SST_RESOURCE_* variables, DynamoDB Local’s endpoint among them', async () => {
    const env = {
      SST_RESOURCE_App: JSON.stringify({ name: 'coupon-books', stage: 'alice' }),
      SST_RESOURCE_Coupons: JSON.stringify({ name: 'coupons-dev', endpoint: 'http://127.0.0.1:8000' }),
      SST_RESOURCE_JwtSecret: JSON.stringify({ value: 'dev-secret-0123456789' }),
      SST_RESOURCE_JwksUrl: JSON.stringify({ value: '' }),
    };
    expect(await configWith(env)).toEqual({
      table: 'coupons-dev',
      endpoint: 'http://127.0.0.1:8000',
      auth: { hs256Secret: 'dev-secret-0123456789' },
    });
  });

  it('without SST (npm start, tests): the variables', async () => {
    expect(await configWith({ TABLE_NAME: 'local-table', JWT_SECRET: 'local-secret-0123456789' })).toEqual({
      table: 'local-table',
      auth: { hs256Secret: 'local-secret-0123456789' },
    });
  });
});
