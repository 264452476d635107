// The one place openid-client is used: OpenID discovery, the authorization URL (code + PKCE S256 + state),
// and the token requests (code, refresh, client credentials). Knows nothing of accounts or the database;
// tokens pass through here and are never logged.
import * as oidc from 'openid-client';
import type { OAuthProviderConfig } from '../platform/config.ts';

export type TokenSet = {
  accessToken: string;
  refreshToken: string | null;
  /** ms since the epoch. */
  expiresAt: number;
  /** ID token claims, when one came with the response. */
  claims: { email?: string; preferred_username?: string; upn?: string } | null;
};

/** The provider refused the grant (RFC 6749 §5.2): invalid_grant means the user must sign in again. */
export class OAuthGrantError extends Error {
  readonly error: string;
  constructor(error: string, description: string | undefined) {
    super(description ? `${error}: ${description}` : error);
    this.error = error;
  }
}

const discovered = new Map<string, Promise<oidc.Configuration>>();

/** Discovery (ISSUER/.well-known/openid-configuration), cached per issuer and client. Plain http only to loopback. */
export function discoverProvider(p: OAuthProviderConfig): Promise<oidc.Configuration> {
  const key = `${p.issuer}|${p.clientId}`;
  let found = discovered.get(key);
  if (!found) {
    const issuer = new URL(p.issuer);
    const loopback = issuer.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(issuer.hostname);
    // The bare issuer (not the .well-known URL): openid-client then accepts Microsoft's multi-tenant
    // "{tenantid}" issuer template and checks ID tokens against the tenant they name.
    found = oidc.discovery(issuer, p.clientId, p.clientSecret ?? undefined, undefined, loopback ? { execute: [oidc.allowInsecureRequests] } : undefined);
    discovered.set(key, found);
    found.catch(() => discovered.delete(key));
  }
  return found;
}

export type PkceStart = { state: string; verifier: string; challenge: string };

export async function startPkce(): Promise<PkceStart> {
  const verifier = oidc.randomPKCECodeVerifier();
  return { verifier, challenge: await oidc.calculatePKCECodeChallenge(verifier), state: oidc.randomState() };
}

export function buildAuthorizeUrl(cfg: oidc.Configuration, params: Record<string, string>): string {
  return oidc.buildAuthorizationUrl(cfg, params).href;
}

function toTokenSet(res: oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers, previousRefresh: string | null): TokenSet {
  const expiresIn = res.expiresIn() ?? 3600;
  const claims = res.id_token ? (res.claims() as TokenSet['claims']) ?? null : null;
  // A provider that does not rotate refresh tokens sends none with a refresh response: keep the one we have.
  return { accessToken: res.access_token, refreshToken: res.refresh_token ?? previousRefresh, expiresAt: Date.now() + expiresIn * 1000, claims };
}

async function grant<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof oidc.ResponseBodyError) throw new OAuthGrantError(err.error, err.error_description);
    throw err;
  }
}

/** The authorization-code grant for the callback URL as received (state and PKCE verified by openid-client). */
export function exchangeCode(cfg: oidc.Configuration, callbackUrl: URL, check: { verifier: string; state: string }): Promise<TokenSet> {
  return grant(async () => toTokenSet(await oidc.authorizationCodeGrant(cfg, callbackUrl, { pkceCodeVerifier: check.verifier, expectedState: check.state }), null));
}

export function refreshTokens(cfg: oidc.Configuration, refreshToken: string): Promise<TokenSet> {
  return grant(async () => toTokenSet(await oidc.refreshTokenGrant(cfg, refreshToken), refreshToken));
}

/** App-only access (client credentials, RFC 6749 §4.4). */
export function clientCredentialsToken(cfg: oidc.Configuration, scope: string): Promise<TokenSet> {
  return grant(async () => toTokenSet(await oidc.clientCredentialsGrant(cfg, { scope }), null));
}
