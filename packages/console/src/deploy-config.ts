/**
 * What a server of the console needs to know, in one place: the settings the app reads at start
 * (`config.json`, beside index.html), and the headers it is served with. Used by the build
 * (vite.config.ts writes config.json when a deployment names its settings), by `npm start`'s
 * local server (scripts/lib/console-server.ts) and by the static site on AWS (infra/console.ts).
 * No imports: it runs in Node, in Vite's config and in SST's.
 */

/** `config.json`: read by the app at every start, so one build serves any deployment. */
export interface ConsoleConfig {
  /** The API's base URL, e.g. `https://abc123.execute-api.us-east-1.amazonaws.com`. */
  apiUrl: string;
  /** Sign-in through the identity provider (OpenID Connect, authorization code with PKCE). */
  oidc?: OidcSettings;
  /**
   * `npm start` only: accept a token handed over in the link's fragment (`#token=…`), never sent
   * to any server. A deployed config never has it, so a deployed console signs in only with the
   * identity provider.
   */
  devSignIn?: boolean;
}

export interface OidcSettings {
  /** The issuer; its `/.well-known/openid-configuration` names the endpoints. */
  issuer: string;
  clientId: string;
  /** Default `openid`. */
  scope?: string;
  /** A resource indicator (RFC 8707) for the API, when the provider issues its access tokens per resource. */
  resource?: string;
  /** Other origins of the provider the browser must reach (a token endpoint off the issuer's origin, as Cognito's hosted domain). */
  extraOrigins?: string[];
}

/**
 * The config a deployment builds in, from the variables `sst deploy` gives the build
 * (infra/console.ts): undefined when CONSOLE_API_URL is not set (a plain local build).
 */
export function configFromEnv(env: Record<string, string | undefined>): ConsoleConfig | undefined {
  const apiUrl = env.CONSOLE_API_URL?.trim();
  if (!apiUrl) return undefined;
  const issuer = env.CONSOLE_OIDC_ISSUER?.trim();
  const clientId = env.CONSOLE_OIDC_CLIENT_ID?.trim();
  if (!issuer !== !clientId) throw new Error('Set both CONSOLE_OIDC_ISSUER and CONSOLE_OIDC_CLIENT_ID, or neither.');
  const optional = (name: string) => env[name]?.trim() || undefined;
  const extraOrigins = optional('CONSOLE_OIDC_ORIGINS')?.split(/[\s,]+/).filter(Boolean);
  return {
    apiUrl: originOrUrl(apiUrl),
    ...(issuer && clientId
      ? {
          oidc: {
            issuer,
            clientId,
            ...(optional('CONSOLE_OIDC_SCOPE') ? { scope: optional('CONSOLE_OIDC_SCOPE') } : {}),
            ...(optional('CONSOLE_OIDC_RESOURCE') ? { resource: optional('CONSOLE_OIDC_RESOURCE') } : {}),
            ...(extraOrigins?.length ? { extraOrigins } : {}),
          },
        }
      : {}),
  };
}

/** An absolute http(s) URL, without its trailing slash; anything else is a deploy-time error. */
function originOrUrl(value: string): string {
  const url = new URL(value);
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error(`CONSOLE_API_URL must be an http(s) URL, got ${value}`);
  return value.replace(/\/+$/, '');
}

/**
 * Content-Security-Policy: scripts, styles, images and fonts from the console's own origin only
 * (it loads nothing from elsewhere, so it works offline); requests to itself, the API and the
 * identity provider only. `data:` images are Pico CSS's inline icons.
 */
export function contentSecurityPolicy(config: Pick<ConsoleConfig, 'apiUrl' | 'oidc'>): string {
  const connect = new Set(["'self'", new URL(config.apiUrl).origin]);
  if (config.oidc) {
    connect.add(new URL(config.oidc.issuer).origin);
    for (const o of config.oidc.extraOrigins ?? []) connect.add(new URL(o).origin);
  }
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    `connect-src ${[...connect].join(' ')}`,
    "manifest-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/** Headers besides the CSP on every response of the console. */
export const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
} as const;

/** Files under `assets/` carry a hash of their content in their name: a new build is new names. */
export const HASHED_ASSETS_DIR = 'assets';
export const CACHE_HASHED = 'public, max-age=31536000, immutable';
/** index.html, config.json and anything else unhashed: always asked again (cheap with ETags). */
export const CACHE_REVALIDATE = 'no-cache';
