// Test harness: a real OpenID provider (the oidc-provider package) on a free loopback port, standing in for
// Microsoft Entra / Google: discovery, authorize (code + PKCE S256), token (code, refresh with rotation,
// client credentials), JWKS, revocation and RFC 7662 introspection, with short-lived opaque access tokens.
// Its sign-in page is a plain form (any known address signs in, consent is implied) that a browser test
// fills in and `authorize()` posts for API tests. Introspection answers carry the `email` of the grant's
// user, which is what Dovecot and the SMTP sink compare with the login name.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import Provider, { type KoaContextWithOIDC } from 'oidc-provider';

export const MAIL_SCOPES = [
  'https://outlook.office.com/IMAP.AccessAsUser.All', 'https://outlook.office.com/SMTP.Send',
  'https://mail.google.com/', 'https://outlook.office365.com/.default',
];

export type OAuthProviderOptions = {
  /** Access token lifetime in seconds (Microsoft's are about an hour; tests use a few seconds). */
  accessTokenTtl?: number;
  /** The Dossier callback URL registered for the client. */
  redirectUri: string;
};

/** Dossier's environment for "Connect Microsoft 365" against this provider, Dovecot and an SMTP peer on loopback. */
export function microsoftEnv(provider: OAuthProvider, ports: { imap: number; smtp: number }, publicUrl: string): Record<string, string> {
  return {
    DOSSIER_PUBLIC_URL: publicUrl,
    DOSSIER_OAUTH_MICROSOFT_CLIENT_ID: provider.clientId,
    DOSSIER_OAUTH_MICROSOFT_CLIENT_SECRET: provider.clientSecret,
    DOSSIER_OAUTH_MICROSOFT_ISSUER: provider.issuer,
    DOSSIER_OAUTH_MICROSOFT_IMAP: `imap://127.0.0.1:${ports.imap}`,
    DOSSIER_OAUTH_MICROSOFT_SMTP: `smtp://127.0.0.1:${ports.smtp}`,
  };
}

export type IntrospectionResult = { active: boolean; email?: string; sub?: string; client_id?: string; exp?: number };

export class OAuthProvider {
  readonly issuer: string;
  readonly clientId: string;
  readonly clientSecret: string;
  /** The resource server's client (Dovecot, the SMTP sink) allowed to introspect tokens. */
  readonly introspector = { id: 'mail-server', secret: randomBytes(12).toString('hex') };
  /** The mailbox app-only (client credentials) tokens are granted for, like an Exchange application access policy. */
  appMailbox: string | null = null;
  /** Requests counted by endpoint path, e.g. token grants. */
  readonly counts = new Map<string, number>();
  /** Token endpoint requests by grant_type. */
  readonly grants = new Map<string, number>();
  readonly provider: Provider;
  #server: http.Server;

  constructor(init: { issuer: string; clientId: string; clientSecret: string; provider: Provider; server: http.Server }) {
    this.issuer = init.issuer;
    this.clientId = init.clientId;
    this.clientSecret = init.clientSecret;
    this.provider = init.provider;
    this.#server = init.server;
  }

  /** The introspection URL with the resource server's credentials, for Dovecot's oauth2 passdb. */
  get introspectionUrl(): string {
    const u = new URL(`${this.issuer}/token/introspection`);
    u.username = this.introspector.id;
    u.password = this.introspector.secret;
    return u.toString();
  }

  /** RFC 7662 introspection as a resource server would call it. */
  async introspect(token: string): Promise<IntrospectionResult> {
    const res = await fetch(`${this.issuer}/token/introspection`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${this.introspector.id}:${this.introspector.secret}`).toString('base64')}` },
      body: new URLSearchParams({ token }).toString(),
    });
    return (await res.json()) as IntrospectionResult;
  }

  /** Revokes every grant of a user (what "sign out everywhere" or an admin's revoke does at Microsoft). */
  async revokeUser(email: string): Promise<void> {
    // The grant id is stored on every token; revoking the grant invalidates its access and refresh tokens.
    for (const grantId of grantsOf.get(`${this.issuer}|${email}`) ?? []) {
      const grant = await this.provider.Grant.find(grantId);
      if (grant) await grant.destroy();
      for (const model of [this.provider.AccessToken, this.provider.RefreshToken, this.provider.AuthorizationCode]) await model.revokeByGrantId(grantId);
    }
  }

  /**
   * Signs in at the provider the way a browser would, for API tests: follows the authorize URL, posts the
   * sign-in form as `email`, and returns the URL the provider redirects back to (Dossier's callback).
   */
  async authorize(authorizeUrl: string, email: string, redirectUri: string): Promise<string> {
    const cookies = new Map<string, string>();
    const remember = (res: Response) => {
      for (const c of res.headers.getSetCookie()) {
        const [pair] = c.split(';');
        const i = pair!.indexOf('=');
        cookies.set(pair!.slice(0, i), pair!.slice(i + 1));
      }
    };
    const cookie = () => [...cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    let url = authorizeUrl;
    for (let hop = 0; hop < 10; hop++) {
      if (url.startsWith(redirectUri)) return url;
      const interaction = /\/interaction\/([^/?]+)$/.exec(new URL(url).pathname);
      const res = interaction
        ? await fetch(new URL(`/interaction/${interaction[1]}/login`, this.issuer), {
          method: 'POST', redirect: 'manual', headers: { cookie: cookie(), 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ email }).toString(),
        })
        : await fetch(url, { redirect: 'manual', headers: { cookie: cookie() } });
      remember(res);
      const location = res.headers.get('location');
      if (!location) throw new Error(`the provider answered ${res.status} without a redirect: ${(await res.text()).slice(0, 500)}`);
      url = new URL(location, url).toString();
    }
    throw new Error('too many redirects at the provider');
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}

/** Grant ids per (issuer, user), so a test can revoke a user's grants. */
const grantsOf = new Map<string, Set<string>>();

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

async function readForm(req: http.IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

export async function startOAuthProvider(opts: OAuthProviderOptions): Promise<OAuthProvider> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  server.unref();
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const clientId = `dossier-${randomBytes(4).toString('hex')}`;
  const clientSecret = randomBytes(16).toString('hex');
  const box: { harness?: OAuthProvider } = {};
  const introspector = { id: 'mail-server', secret: randomBytes(12).toString('hex') };

  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: clientId, client_secret: clientSecret, redirect_uris: [opts.redirectUri], response_types: ['code'], token_endpoint_auth_method: 'client_secret_post',
        grant_types: ['authorization_code', 'refresh_token', 'client_credentials'],
      },
      { client_id: introspector.id, client_secret: introspector.secret, redirect_uris: [], response_types: [], grant_types: [] },
    ],
    scopes: ['openid', 'email', 'profile', 'offline_access', ...MAIL_SCOPES],
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name', 'preferred_username'] },
    // The ID token carries the address (as Microsoft's and Google's do with the email scope).
    conformIdTokenClaims: false,
    pkce: { required: () => true },
    rotateRefreshToken: true,
    // Like Microsoft (offline_access without prompt=consent): oidc-provider follows OpenID Core §11 and drops
    // offline_access unless prompt=consent, so refresh tokens are issued whenever the client may refresh.
    issueRefreshToken: async (_ctx: KoaContextWithOIDC, client) => client.grantTypeAllowed('refresh_token'),
    expiresWithSession: async () => false,
    ttl: { AccessToken: opts.accessTokenTtl ?? 3600, ClientCredentials: opts.accessTokenTtl ?? 3600, AuthorizationCode: 60, IdToken: 3600, RefreshToken: 86400, Grant: 86400, Interaction: 600, Session: 3600 },
    features: {
      devInteractions: { enabled: false },
      introspection: { enabled: true, allowedPolicy: async (_ctx: KoaContextWithOIDC, client) => client.clientId === introspector.id || client.clientId === clientId },
      revocation: { enabled: true },
      clientCredentials: { enabled: true },
    },
    findAccount: async (_ctx: KoaContextWithOIDC, sub: string) => ({
      accountId: sub,
      claims: async () => ({ sub, email: sub, email_verified: true, preferred_username: sub, name: sub.split('@')[0] }),
    }),
    // What introspection reports as the user's address: the grant's user, or the app's mailbox for app-only tokens.
    extraTokenClaims: async (_ctx: KoaContextWithOIDC, token) => {
      if (token.kind === 'ClientCredentials') return box.harness?.appMailbox ? { email: box.harness.appMailbox } : undefined;
      const accountId = (token as { accountId?: string }).accountId;
      return accountId ? { email: accountId } : undefined;
    },
    interactions: { url: (_ctx: KoaContextWithOIDC, interaction) => `/interaction/${interaction.uid}` },
    cookies: { keys: [randomBytes(16).toString('hex')] },
  });
  provider.on('grant.success', (ctx: KoaContextWithOIDC) => {
    const type = (ctx.oidc.params?.grant_type as string | undefined) ?? 'unknown';
    box.harness?.grants.set(type, (box.harness.grants.get(type) ?? 0) + 1);
  });
  const callback = provider.callback();

  server.on('request', (req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', issuer);
      box.harness?.counts.set(url.pathname, (box.harness.counts.get(url.pathname) ?? 0) + 1);
      const m = /^\/interaction\/([^/]+)(\/login)?$/.exec(url.pathname);
      if (!m) return callback(req, res);
      try {
        const details = await provider.interactionDetails(req, res);
        if (!m[2]) {
          res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
          res.end(`<!doctype html><html lang="en"><head><title>Sign in – Test Identity</title></head><body>
<h1>Sign in to Test Identity</h1><p>${escapeHtml(String(details.params.client_id))} wants to read and send your mail.</p>
<form method="post" action="/interaction/${escapeHtml(details.uid)}/login">
<label for="email">Email</label> <input id="email" name="email" type="email" required>
<button type="submit">Sign in and allow</button></form></body></html>`);
          return;
        }
        const email = (await readForm(req)).get('email')?.trim().toLowerCase() ?? '';
        const grant = new provider.Grant({ accountId: email, clientId: String(details.params.client_id) });
        grant.addOIDCScope(String(details.params.scope ?? 'openid'));
        grant.addOIDCClaims(['email', 'email_verified', 'preferred_username', 'name']);
        const grantId = await grant.save();
        const key = `${issuer}|${email}`;
        grantsOf.set(key, new Set([...(grantsOf.get(key) ?? []), grantId]));
        await provider.interactionFinished(req, res, { login: { accountId: email }, consent: { grantId } }, { mergeWithLastSubmission: false });
      } catch (err) {
        res.writeHead(400, { 'content-type': 'text/plain' });
        res.end(`interaction failed: ${(err as Error).message}`);
      }
    })();
  });

  const harness = new OAuthProvider({ issuer, clientId, clientSecret, provider, server });
  Object.assign(harness.introspector, introspector);
  box.harness = harness;
  return harness;
}
