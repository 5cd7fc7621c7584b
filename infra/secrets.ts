// Set per stage with `npx sst secret set <Name> <value> --stage <stage>`.

/** HS256 signing secret for tokens the business's own backend issues. Required: deploys fail without it. */
export const jwtSecret = new sst.Secret('JwtSecret');

/** JWKS endpoint (e.g. Cognito) for RS256 tokens. Empty turns RS256 off, so a stage can start without one. */
export const jwksUrl = new sst.Secret('JwksUrl', '');
