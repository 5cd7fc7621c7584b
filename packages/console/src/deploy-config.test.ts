import { describe, expect, it } from 'vitest';
import { configFromEnv, contentSecurityPolicy } from './deploy-config.ts';

describe('configFromEnv (what `sst deploy` builds into config.json)', () => {
  it('names the API and the identity provider', () => {
    expect(
      configFromEnv({
        CONSOLE_API_URL: 'https://abc.execute-api.us-east-1.amazonaws.com/',
        CONSOLE_OIDC_ISSUER: 'https://idp.example.com/realms/shop',
        CONSOLE_OIDC_CLIENT_ID: 'console',
        CONSOLE_OIDC_SCOPE: 'openid profile',
        CONSOLE_OIDC_ORIGINS: 'https://auth.example.com, https://login.example.com',
      }),
    ).toEqual({
      apiUrl: 'https://abc.execute-api.us-east-1.amazonaws.com',
      oidc: {
        issuer: 'https://idp.example.com/realms/shop',
        clientId: 'console',
        scope: 'openid profile',
        extraOrigins: ['https://auth.example.com', 'https://login.example.com'],
      },
    });
  });

  it('is nothing for a plain build, and refuses half an identity provider or a non-http API', () => {
    expect(configFromEnv({})).toBeUndefined();
    expect(() => configFromEnv({ CONSOLE_API_URL: 'https://api.example.com', CONSOLE_OIDC_ISSUER: 'https://idp.example.com' })).toThrow(/both/);
    expect(() => configFromEnv({ CONSOLE_API_URL: 'ftp://api.example.com' })).toThrow(/http/);
  });

  it('never turns on the local sign-in (a token in the link)', () => {
    expect(configFromEnv({ CONSOLE_API_URL: 'https://api.example.com', DEV_SIGN_IN: 'true' })).toEqual({ apiUrl: 'https://api.example.com' });
  });
});

describe('contentSecurityPolicy', () => {
  it('allows only its own origin, plus the API and the identity provider for requests', () => {
    const csp = contentSecurityPolicy({
      apiUrl: 'https://api.example.com/v1',
      oidc: { issuer: 'https://idp.example.com/realms/shop', clientId: 'c', extraOrigins: ['https://auth.example.com/oauth2'] },
    });
    const directives = Object.fromEntries(csp.split('; ').map((d) => [d.split(' ')[0], d.split(' ').slice(1).join(' ')]));
    expect(directives).toEqual({
      'default-src': "'none'",
      'script-src': "'self'",
      'style-src': "'self'",
      'img-src': "'self' data:",
      'font-src': "'self'",
      'connect-src': "'self' https://api.example.com https://idp.example.com https://auth.example.com",
      'manifest-src': "'self'",
      'base-uri': "'none'",
      'form-action': "'none'",
      'frame-ancestors': "'none'",
    });
  });
});
