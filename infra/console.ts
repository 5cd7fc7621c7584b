import {
  CACHE_HASHED,
  CACHE_REVALIDATE,
  HASHED_ASSETS_DIR,
  SECURITY_HEADERS,
  configFromEnv,
  contentSecurityPolicy,
} from '../packages/console/src/deploy-config';

// The operator's console (packages/console): a static site on S3 and CloudFront, on its own
// origin, calling the API across origins. People sign in with the identity provider the
// deployment names, read from the shell that runs `sst deploy` (public values, not secrets):
//
//   CONSOLE_OIDC_ISSUER     the issuer (its JWKS must be the API's JwksUrl secret)
//   CONSOLE_OIDC_CLIENT_ID  a public client (no secret; authorization code with PKCE) whose
//                           redirect URI is the console's URL (the stage's `consoleUrl` output)
//   CONSOLE_OIDC_SCOPE, CONSOLE_OIDC_RESOURCE, CONSOLE_OIDC_ORIGINS   optional (docs/console.md)
//
// Without an issuer there is no one to sign in, so no console is deployed.
const OIDC_VARIABLES = ['CONSOLE_OIDC_ISSUER', 'CONSOLE_OIDC_CLIENT_ID', 'CONSOLE_OIDC_SCOPE', 'CONSOLE_OIDC_RESOURCE', 'CONSOLE_OIDC_ORIGINS'] as const;

/** The console's site for the API at `apiUrl`, or undefined when the deployment names no identity provider. */
export function operatorConsole(apiUrl: $util.Output<string>) {
  const settings = Object.fromEntries(OIDC_VARIABLES.flatMap((name) => (process.env[name]?.trim() ? [[name, process.env[name]!.trim()]] : [])));
  // The same checks the build makes, before anything is created: both or neither, a valid URL.
  const oidc = configFromEnv({ ...settings, CONSOLE_API_URL: 'https://api.invalid' })?.oidc;
  if (!oidc) return undefined;

  // Every answer carries the console's CSP and headers, as `npm start`'s server sends them.
  const headers = apiUrl.apply((url) => ({ ...SECURITY_HEADERS, 'content-security-policy': contentSecurityPolicy({ apiUrl: url, oidc }) }));
  return new sst.aws.StaticSite('Console', {
    path: 'packages/console',
    // `sst dev`: Vite's dev server, serving config.json from the same variables (vite.config.ts).
    dev: { command: 'npm run dev', url: 'http://localhost:5173' },
    // vite.config.ts writes config.json from these (deploy-config.ts).
    build: { command: 'npm run build', output: 'dist' },
    environment: { CONSOLE_API_URL: apiUrl, ...settings },
    assets: {
      // The last match wins: hashed assets are kept for good, everything else asked again.
      fileOptions: [
        { files: '**', cacheControl: CACHE_REVALIDATE },
        { files: `${HASHED_ASSETS_DIR}/**`, cacheControl: CACHE_HASHED },
      ],
    },
    edge: {
      viewerResponse: {
        injection: headers.apply((all) =>
          Object.entries(all)
            .map(([name, value]) => `event.response.headers[${JSON.stringify(name)}] = { value: ${JSON.stringify(value)} };`)
            .join('\n'),
        ),
      },
    },
  });
}
