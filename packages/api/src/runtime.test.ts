import { describe, expect, it } from 'vitest';
import { readAuthConfig, withLinkedResources, createCoreContext } from './runtime.ts';

describe('configuration from SST links', () => {
  const linked = {
    SST_RESOURCE_Coupons: JSON.stringify({ name: 'coupon-books-prod-CouponsTable-abc' }),
    SST_RESOURCE_GenerationJobs: JSON.stringify({ url: 'https://sqs.us-east-1.amazonaws.com/1/GenerationJobs-x' }),
    SST_RESOURCE_JwtSecret: JSON.stringify({ value: 'a-secret-of-enough-length' }),
    SST_RESOURCE_JwksUrl: JSON.stringify({ value: '' }),
  };

  it('a deployed function takes its table, queue and secret from the links, over plain variables', () => {
    const env = withLinkedResources({ ...linked, TABLE_NAME: 'stale', JWT_SECRET: 'stale-secret-xxxxxxxx' });
    expect(env.TABLE_NAME).toBe('coupon-books-prod-CouponsTable-abc');
    expect(env.QUEUE_URL).toBe('https://sqs.us-east-1.amazonaws.com/1/GenerationJobs-x');
    expect(env.JWT_SECRET).toBe('a-secret-of-enough-length');
    // An empty secret (JwksUrl's default) is no setting at all.
    expect(env.JWT_JWKS_URL).toBeUndefined();
    expect(createCoreContext(linked).config.TABLE_NAME).toBe('coupon-books-prod-CouponsTable-abc');
    expect(readAuthConfig(linked)).toEqual({ hs256Secret: 'a-secret-of-enough-length', jwksUrl: undefined });
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
