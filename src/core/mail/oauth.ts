// Mailboxes that sign in with OAuth2 (Microsoft 365, Google): starting an authorization (PKCE + state, bound
// to the signed-in session), finishing it into a new or reconnected account, app-only accounts, and keeping
// access tokens fresh — one refresh at a time per account across every worker. Tokens are sealed with the
// same AES-GCM key as passwords and never returned or logged. The IMAP login check goes through a worker.
import type { Config, OAuthProviderConfig } from '../platform/config.ts';
import { kysely, type Db, type Em } from '../platform/db.ts';
import { ForbiddenError, NotFoundError, RuleError } from '../platform/errors.ts';
import { decryptSecret, encryptSecret, sha256Hex } from '../platform/secrets.ts';
import type { User } from '../staff/user.entity.ts';
import { canManageAccount, openOAuthTokens, sealOAuthTokens, type ImapConnectSettings, type OAuthTokens } from './accounts.ts';
import { MailAccount, Mailbox, type OAuthProviderId, type Visibility } from './mail-account.entity.ts';
import { OAuthFlow } from './oauth-flow.entity.ts';
import { buildAuthorizeUrl, clientCredentialsToken, discoverProvider, exchangeCode, OAuthGrantError, refreshTokens, startPkce, type TokenSet } from './oauth-client.ts';

export { OAuthGrantError } from './oauth-client.ts';

type ProviderInfo = { name: string; scopes: string; appScope: string | null; extraParams: Record<string, string> };
export const OAUTH_PROVIDER_INFO: Record<OAuthProviderId, ProviderInfo> = {
  microsoft: {
    name: 'Microsoft 365',
    scopes: 'openid email profile offline_access https://outlook.office.com/IMAP.AccessAsUser.All https://outlook.office.com/SMTP.Send',
    appScope: 'https://outlook.office365.com/.default',
    extraParams: {},
  },
  google: {
    name: 'Google',
    scopes: 'openid email https://mail.google.com/',
    appScope: null,
    // Google issues a refresh token only with access_type=offline, and again on a later sign-in only with consent.
    extraParams: { access_type: 'offline', prompt: 'consent' },
  },
};

/** Refresh this long before the access token expires (at most half its lifetime), so a sync never starts with one about to lapse. */
export const REFRESH_MARGIN_MS = 120_000;
const marginFor = (t: OAuthTokens) => Math.min(REFRESH_MARGIN_MS, t.obtainedAt ? (t.expiresAt - t.obtainedAt) / 2 : REFRESH_MARGIN_MS);
/** A started sign-in must come back within this long. */
export const FLOW_TTL_MS = 15 * 60_000;

export const oauthRedirectUri = (config: Config) => `${config.publicUrl}/api/oauth/callback`;

export function listOAuthProviders(config: Config) {
  return (Object.keys(OAUTH_PROVIDER_INFO) as OAuthProviderId[]).map((id) => ({ id, name: OAUTH_PROVIDER_INFO[id].name, configured: config.oauth[id] !== null }));
}

function providerConfig(config: Config, id: OAuthProviderId): OAuthProviderConfig {
  const p = config.oauth[id];
  if (!p) throw new RuleError('provider_not_configured', `${OAUTH_PROVIDER_INFO[id].name} sign-in is not set up on this Dossier installation`, 'provider');
  return p;
}

const requireKey = (key: Buffer | null): Buffer => {
  if (!key) throw new Error('no secret key configured for mailbox credentials');
  return key;
};

export type OAuthStartInput = { provider: OAuthProviderId; visibility: Visibility; name?: string; mailbox?: string; account?: MailAccount };

/**
 * Records a new authorization and returns the provider URL to send the browser to. `sessionToken` binds it
 * to the signed-in session (the callback must come in the same one); the caller flushes.
 */
export async function startOAuthFlow(em: Em, config: Config, user: User, sessionToken: string | null, input: OAuthStartInput): Promise<string> {
  if (input.visibility === 'public' && user.role !== 'admin') throw new ForbiddenError('Only administrators can add a shared (public) mailbox');
  const p = providerConfig(config, input.provider);
  const cfg = await discoverProvider(p);
  const pkce = await startPkce();
  em.create(OAuthFlow, {
    stateHash: sha256Hex(pkce.state), user, sessionHash: sessionToken ? sha256Hex(sessionToken) : null,
    provider: input.provider, visibility: input.visibility, name: input.name?.trim() || null,
    mailbox: input.mailbox?.trim().toLowerCase() || null, account: input.account ?? null,
    secret: encryptSecret(requireKey(config.secretKey), JSON.stringify({ verifier: pkce.verifier })),
  });
  const info = OAUTH_PROVIDER_INFO[input.provider];
  return buildAuthorizeUrl(cfg, {
    redirect_uri: oauthRedirectUri(config), scope: info.scopes, response_type: 'code',
    code_challenge: pkce.challenge, code_challenge_method: 'S256', state: pkce.state,
    // The mailbox to sign in to, when known: the provider preselects that account.
    ...(input.account ? { login_hint: input.account.imapUsername } : {}),
    ...info.extraParams,
  });
}

/**
 * The flow a callback's `state` names, used once (removed), when it belongs to this user and session and has
 * not expired. Anything else is oauth_state_invalid: a forged, replayed or someone else's callback.
 */
export async function takeOAuthFlow(em: Em, key: Buffer | null, user: User, sessionToken: string | null, state: string): Promise<{ flow: OAuthFlow; verifier: string }> {
  await em.nativeDelete(OAuthFlow, { createdAt: { $lt: new Date(Date.now() - FLOW_TTL_MS) } });
  const flow = await em.findOne(OAuthFlow, { stateHash: sha256Hex(state) }, { populate: ['account', 'account.owner'] });
  if (!flow || flow.user.id !== user.id || (flow.sessionHash !== null && flow.sessionHash !== (sessionToken ? sha256Hex(sessionToken) : null))) {
    throw new RuleError('oauth_state_invalid', 'This sign-in was not started in this session, or it expired: start again from Settings');
  }
  const sealed = (await kysely(em).selectFrom('oauth_flow').select('secret').where('id', '=', flow.id).executeTakeFirstOrThrow()).secret;
  em.remove(flow);
  return { flow, verifier: (JSON.parse(decryptSecret(requireKey(key), sealed)) as { verifier: string }).verifier };
}

export type OAuthLogin = { tokens: TokenSet; loginName: string };

/** Trades the callback's code for tokens; the login name is the shared mailbox, else the ID token's email, else preferred_username. */
export async function finishOAuthCode(config: Config, flow: OAuthFlow, verifier: string, callbackUrl: URL, state: string): Promise<OAuthLogin> {
  const cfg = await discoverProvider(providerConfig(config, flow.provider));
  const tokens = await exchangeCode(cfg, callbackUrl, { verifier, state });
  const loginName = (flow.mailbox ?? tokens.claims?.email ?? tokens.claims?.preferred_username ?? '').trim().toLowerCase();
  if (!loginName) throw new RuleError('oauth_no_email', 'The provider did not say which mailbox this is (no email in the sign-in): allow the email permission and try again');
  return { tokens, loginName };
}

/** The IMAP settings to check a fresh token with (the provider's server, XOAUTH2). */
export function oauthImapSettings(config: Config, provider: OAuthProviderId, loginName: string, accessToken: string): ImapConnectSettings {
  const s = providerConfig(config, provider).imap;
  return { host: s.host, port: s.port, secure: s.secure, allowInsecure: s.allowInsecure, username: loginName, password: '', accessToken };
}

const stored = (t: TokenSet): OAuthTokens => ({ accessToken: t.accessToken, refreshToken: t.refreshToken, expiresAt: t.expiresAt, obtainedAt: Date.now() });

/**
 * After a checked login: reconnects the flow's account (or the user's own account for the same mailbox),
 * keeping its folders, cursors and mail; otherwise creates a new account. The caller flushes and schedules.
 */
export async function connectOAuthAccount(em: Em, config: Config, user: User, flow: OAuthFlow, login: OAuthLogin): Promise<{ account: MailAccount; created: boolean }> {
  const p = providerConfig(config, flow.provider);
  const existing = flow.account ?? await em.findOne(MailAccount, { owner: user.id, provider: flow.provider, imapUsername: login.loginName, auth: 'oauth2' }, { populate: ['owner'] });
  const secret = sealOAuthTokens(config.secretKey, stored(login.tokens));
  if (existing) {
    if (!canManageAccount(user, existing)) throw new NotFoundError('Mail account');
    if (existing.imapUsername.toLowerCase() !== login.loginName) {
      throw new RuleError('oauth_wrong_mailbox', `You signed in as ${login.loginName}, but this account is ${existing.imapUsername}: sign in with that mailbox`);
    }
    existing.secret = secret;
    existing.auth = 'oauth2';
    existing.provider = flow.provider;
    existing.authFailures = 0;
    existing.lastError = null;
    if (existing.status !== 'syncing') existing.status = 'idle';
    return { account: existing, created: false };
  }
  const account = em.create(MailAccount, {
    owner: user, name: flow.name ?? login.loginName, email: login.loginName, visibility: flow.visibility,
    imapHost: p.imap.host, imapPort: p.imap.port, imapSecure: p.imap.secure, imapAllowInsecure: p.imap.allowInsecure, imapUsername: login.loginName,
    smtpHost: p.smtp.host, smtpPort: p.smtp.port, smtpSecure: p.smtp.secure, smtpAllowInsecure: p.smtp.allowInsecure, smtpUsername: login.loginName,
    auth: 'oauth2', provider: flow.provider, secret, extraFolders: [], status: 'idle',
  });
  em.create(Mailbox, { account, path: 'INBOX', role: 'inbox' });
  return { account, created: true };
}

/** App-only access (Microsoft client credentials): a first token for the login check. */
export async function fetchAppToken(config: Config, provider: OAuthProviderId): Promise<TokenSet> {
  const info = OAUTH_PROVIDER_INFO[provider];
  if (!info.appScope) throw new RuleError('app_only_unsupported', `${info.name} has no app-only access for mailboxes`, 'provider');
  return clientCredentialsToken(await discoverProvider(providerConfig(config, provider)), info.appScope);
}

export async function createAppOnlyAccount(em: Em, config: Config, user: User, input: { provider: OAuthProviderId; name: string; email: string; folders?: string[] }, tokens: TokenSet): Promise<MailAccount> {
  if (user.role !== 'admin') throw new ForbiddenError('Only administrators can connect a mailbox with app-only access');
  const p = providerConfig(config, input.provider);
  const email = input.email.trim().toLowerCase();
  const account = em.create(MailAccount, {
    owner: user, name: input.name.trim(), email, visibility: 'public',
    imapHost: p.imap.host, imapPort: p.imap.port, imapSecure: p.imap.secure, imapAllowInsecure: p.imap.allowInsecure, imapUsername: email,
    smtpHost: p.smtp.host, smtpPort: p.smtp.port, smtpSecure: p.smtp.secure, smtpAllowInsecure: p.smtp.allowInsecure, smtpUsername: email,
    auth: 'oauth2-app', provider: input.provider, secret: sealOAuthTokens(config.secretKey, stored(tokens)),
    extraFolders: [...new Set((input.folders ?? []).map((f) => f.trim()).filter((f) => f && f.toUpperCase() !== 'INBOX'))], status: 'idle',
  });
  em.create(Mailbox, { account, path: 'INBOX', role: 'inbox' });
  return account;
}

// ---------------------------------------------------------------- keeping tokens fresh (workers)

/** The provider refused to renew the grant: the account now waits in needs_reauth for the owner to reconnect. */
export class NeedsReauthError extends Error {}

/**
 * A usable access token for an OAuth2 account, refreshed when it expires within REFRESH_MARGIN_MS, or when
 * `failedToken` (a token the server just refused) is still the stored one. The row is locked (SELECT … FOR
 * UPDATE) for the refresh and the refresh token re-read inside the lock, so of two workers refreshing at
 * once the second waits and then uses the first one's result: a rotated refresh token is never used twice
 * or lost. A refused refresh (invalid_grant) sets needs_reauth with the provider's reason and throws
 * NeedsReauthError.
 */
export async function getFreshAccessToken(db: Db, config: Config, accountId: string, opts: { failedToken?: string } = {}): Promise<string> {
  const em = db.em.fork();
  const outcome = await em.transactional(async (tx) => {
    const row = await kysely(tx).selectFrom('mail_account').select(['secret', 'auth', 'provider']).where('id', '=', accountId).forUpdate().executeTakeFirst();
    if (!row) throw new NotFoundError('Mail account');
    if (row.auth === 'password' || !row.provider) throw new Error('not an OAuth2 account');
    const tokens = openOAuthTokens(config.secretKey, row.secret);
    const stale = opts.failedToken !== undefined && opts.failedToken === tokens.accessToken;
    if (!stale && tokens.expiresAt - Date.now() > marginFor(tokens)) return { ok: true as const, token: tokens.accessToken };
    let next: TokenSet;
    try {
      const provider = row.provider as OAuthProviderId;
      if (row.auth === 'oauth2-app') next = await fetchAppToken(config, provider);
      else if (!tokens.refreshToken) throw new OAuthGrantError('invalid_grant', 'no refresh token was issued');
      else next = await refreshTokens(await discoverProvider(providerConfig(config, provider)), tokens.refreshToken);
    } catch (err) {
      if (err instanceof OAuthGrantError && (err.error === 'invalid_grant' || err.error === 'unauthorized_client' || err.error === 'invalid_client')) {
        const reason = `The provider no longer accepts this connection (${err.message}). Reconnect the mailbox to resume syncing.`;
        await kysely(tx).updateTable('mail_account').set({ status: 'needs_reauth', last_error: reason }).where('id', '=', accountId).execute();
        return { ok: false as const, reason };
      }
      throw err;
    }
    await kysely(tx).updateTable('mail_account').set({ secret: sealOAuthTokens(config.secretKey, stored(next)) }).where('id', '=', accountId).execute();
    return { ok: true as const, token: next.accessToken };
  });
  if (!outcome.ok) throw new NeedsReauthError(outcome.reason);
  return outcome.token;
}
