// Set per stage with `npx sst secret set <Name> <value> --stage <stage>`.

/** HS256 signing secret for tokens the business's own backend issues. Required: deploys fail without it. */
export const jwtSecret = new sst.Secret('JwtSecret');

/**
 * The key of the HMAC that turns an erased user's id into their pseudonym (docs/erasure.md).
 * Required: without it every stage would share the development key, and anyone could compute a
 * pseudonym from an id. Set once per stage and never changed.
 */
export const erasureSecret = new sst.Secret('ErasureSecret');

/** JWKS endpoint (e.g. Cognito) for RS256 tokens. Empty turns RS256 off, so a stage can start without one. */
export const jwksUrl = new sst.Secret('JwksUrl', '');
