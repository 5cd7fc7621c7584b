import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import Provider, { errors } from 'oidc-provider';

export interface Account {
  tenant: string;
  role: 'admin' | 'service' | 'user';
}

/**
 * A real OpenID Connect provider (`oidc-provider`) on 127.0.0.1, as a deployment's identity
 * provider would be: the console is a public client (authorization code with PKCE, no secret),
 * and the access tokens it gets for the API are RS256 JWTs (RFC 8707 resource indicators, JWT
 * format) carrying the `tenant` and `role` the API requires, signed with a key the provider
 * publishes at `/jwks`, which is what the API's JWT_JWKS_URL points at. Its own login and consent
 * pages (devInteractions) stand in for a company's sign-in page: any password is accepted for
 * the accounts given.
 */
export async function startOidcProvider(options: { port: number; clientId: string; redirectUri: string; resource: string; accounts: Record<string, Account> }) {
  const issuer = `http://127.0.0.1:${options.port}`;
  const key = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: options.clientId,
        token_endpoint_auth_method: 'none',
        redirect_uris: [options.redirectUri],
        post_logout_redirect_uris: [options.redirectUri],
        response_types: ['code'],
        grant_types: ['authorization_code'],
      },
    ],
    jwks: { keys: [{ ...key, kid: 'console-test', alg: 'RS256', use: 'sig' }] },
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    pkce: { required: () => true },
    // Lifetimes and CORS set here, not left to defaults the library warns about.
    ttl: { AccessToken: 600, IdToken: 600, Interaction: 600, Session: 3600, Grant: 3600, AuthorizationCode: 60 },
    clientBasedCORS: (_ctx, origin, client) => (client.redirectUris ?? []).some((uri) => new URL(uri).origin === origin),
    findAccount: (_ctx, sub) => (options.accounts[sub] ? { accountId: sub, claims: () => ({ sub }) } : undefined),
    // What the API reads from the access token besides sub and exp.
    extraTokenClaims: (_ctx, token) => {
      const account = 'accountId' in token && typeof token.accountId === 'string' ? options.accounts[token.accountId] : undefined;
      return token.kind === 'AccessToken' && account ? { tenant: account.tenant, role: account.role } : undefined;
    },
    features: {
      devInteractions: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => options.resource,
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx, resource) => {
          if (resource !== options.resource) throw new errors.InvalidTarget();
          return { scope: 'openid', audience: options.resource, accessTokenFormat: 'jwt', accessTokenTTL: 600, jwt: { sign: { alg: 'RS256' } } };
        },
      },
    },
  });
  const server: Server = createServer(provider.callback());
  await new Promise<void>((resolve) => server.listen(options.port, '127.0.0.1', () => resolve()));
  return {
    issuer,
    jwksUrl: `${issuer}/jwks`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
