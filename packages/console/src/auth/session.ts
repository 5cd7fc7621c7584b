import { UserManager, WebStorageStateStore } from 'oidc-client-ts';
import type { ConsoleConfig, OidcSettings } from '../config.ts';

/** Whoever is signed in: the bearer token for the API, and what it says about its holder. */
export interface Session {
  token(): string;
  who: Claims;
  signOut(): Promise<void>;
}

export interface Claims {
  sub: string;
  tenant?: string;
  role?: string;
  exp?: number;
}

/** Not signed in: how to (a button for the identity provider, or a hint), and why, if it failed. */
export interface SignedOut {
  signIn?: () => Promise<void>;
  hint?: string;
  problem?: string;
}

export type Start = { session: Session } | { signedOut: SignedOut };

const DEV_TOKEN_KEY = 'coupons.console.token';

/**
 * Signs in the way config.json says. With an identity provider: OpenID Connect, authorization
 * code with PKCE (oidc-client-ts), the user kept in this tab's sessionStorage, the route the
 * person was on carried through the round trip. Under `npm start` (devSignIn): the token in the
 * link's fragment, which never reaches a server, is kept for this tab and removed from the URL.
 */
export async function startSession(config: ConsoleConfig): Promise<Start> {
  if (config.oidc) return startOidc(config.oidc);
  if (config.devSignIn) return startDev();
  return { signedOut: { problem: 'This deployment names no identity provider, so nobody can sign in. Set CONSOLE_OIDC_ISSUER and CONSOLE_OIDC_CLIENT_ID when deploying.' } };
}

function startDev(): Start {
  const handed = /^#token=([\w.-]+)/.exec(location.hash)?.[1];
  if (handed) {
    sessionStorage.setItem(DEV_TOKEN_KEY, handed);
    history.replaceState(null, '', `${location.pathname}${location.search}#/`);
  }
  const token = sessionStorage.getItem(DEV_TOKEN_KEY);
  const claims = token ? claimsOf(token) : undefined;
  const signOut = async () => sessionStorage.removeItem(DEV_TOKEN_KEY);
  const hint = 'Open the console link that npm start prints: it signs you in as its admin.';
  if (!token || !claims) return { signedOut: { hint } };
  if (expired(claims)) {
    sessionStorage.removeItem(DEV_TOKEN_KEY);
    return { signedOut: { hint, problem: 'The token in the link has expired.' } };
  }
  return { session: { token: () => token, who: claims, signOut } };
}

async function startOidc(oidc: OidcSettings): Promise<Start> {
  const home = `${location.origin}${location.pathname}`;
  const resource = oidc.resource ? { resource: oidc.resource } : undefined;
  const manager = new UserManager({
    authority: oidc.issuer,
    client_id: oidc.clientId,
    redirect_uri: home,
    post_logout_redirect_uri: home,
    response_type: 'code',
    scope: oidc.scope ?? 'openid',
    extraQueryParams: resource,
    extraTokenParams: resource,
    userStore: new WebStorageStateStore({ store: sessionStorage }),
    automaticSilentRenew: false,
    monitorSession: false,
    loadUserInfo: false,
  });
  const signIn = () => manager.signinRedirect({ state: location.hash || '#/' });
  const params = new URLSearchParams(location.search);
  let problem: string | undefined;
  if (params.has('state') && (params.has('code') || params.has('error'))) {
    try {
      const user = await manager.signinRedirectCallback();
      history.replaceState(null, '', `${home}${typeof user.state === 'string' ? user.state : '#/'}`);
    } catch (e) {
      history.replaceState(null, '', `${home}#/`);
      problem = `Sign-in failed: ${e instanceof Error ? e.message : String(e)}`;
    }
  }
  const user = await manager.getUser();
  // The API needs a JWT carrying the tenant and role: the access token, issued for the API.
  const claims = user && !user.expired ? claimsOf(user.access_token) : undefined;
  if (!user || !claims) {
    if (user && !claims) problem ??= 'The identity provider issued an access token the console cannot read: it must be a JWT with sub, tenant and role.';
    return { signedOut: { signIn, problem } };
  }
  return { session: { token: () => user.access_token, who: claims, signOut: () => manager.removeUser() } };
}

/** The claims of a JWT, read (not verified: the API verifies it) to show who is signed in. */
export function claimsOf(token: string): Claims | undefined {
  try {
    const payload = token.split('.')[1];
    if (!payload) return undefined;
    const bytes = Uint8Array.from(atob(payload.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0));
    const claims = JSON.parse(new TextDecoder().decode(bytes)) as Record<string, unknown>;
    if (typeof claims.sub !== 'string') return undefined;
    return {
      sub: claims.sub,
      tenant: typeof claims.tenant === 'string' ? claims.tenant : undefined,
      role: typeof claims.role === 'string' ? claims.role : undefined,
      exp: typeof claims.exp === 'number' ? claims.exp : undefined,
    };
  } catch {
    return undefined;
  }
}

const expired = (claims: Claims) => claims.exp !== undefined && claims.exp * 1000 <= Date.now();
