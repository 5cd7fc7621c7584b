import type { ConsoleConfig } from './deploy-config.ts';

export type { ConsoleConfig, OidcSettings } from './deploy-config.ts';

/**
 * `config.json` beside index.html: written by the deployment (or by `npm start`'s server), read
 * at every start, so one build serves any API and identity provider.
 */
export async function loadConfig(): Promise<ConsoleConfig> {
  // As index.html preloads it (same URL, mode and credentials), so the preloaded answer is used.
  const res = await fetch(new URL('config.json', document.baseURI));
  if (!res.ok) throw new Error(`config.json could not be read (${res.status}): the server that serves the console must provide it.`);
  const config = (await res.json()) as Partial<ConsoleConfig>;
  if (typeof config.apiUrl !== 'string' || !/^https?:\/\//.test(config.apiUrl)) throw new Error('config.json names no apiUrl.');
  if (config.oidc && (typeof config.oidc.issuer !== 'string' || typeof config.oidc.clientId !== 'string')) {
    throw new Error('config.json: oidc needs an issuer and a clientId.');
  }
  return config as ConsoleConfig;
}
