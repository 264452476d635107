// OAuth2 mailboxes end to end with real parts: a local OpenID provider (oidc-provider: discovery, code + PKCE,
// refresh with rotation, client credentials, introspection, 4-second access tokens), Dovecot with an oauth2
// passdb validating tokens by introspection, an SMTP peer accepting AUTH XOAUTH2 the same way, the server and a
// sync worker. Connect → sync across token expiries → reply → revoked grant → needs_reauth → reconnect.
import t from 'tap';
import { openDb } from '../../src/core/platform/db.ts';
import { getFreshAccessToken } from '../../src/core/mail/oauth.ts';
import { openOAuthTokens } from '../../src/core/mail/accounts.ts';
import { userSession, type Session, type TestApp } from '../support/app.ts';
import { startAppWithWorker } from '../support/app-worker.ts';
import { startDovecot, type Dovecot } from '../support/dovecot.ts';
import { microsoftEnv, startOAuthProvider, type OAuthProvider } from '../support/oauth-provider.ts';
import { startSmtpSink, type SmtpSink } from '../support/smtp-sink.ts';
import { createTestMail } from '../support/factories.ts';
import { uniq } from '../support/env.ts';

const PUBLIC_URL = 'http://dossier.test:3000';
const REDIRECT = `${PUBLIC_URL}/api/oauth/callback`;
const TOKEN_TTL_S = 4;

let ta: TestApp;
let dovecot: Dovecot;
let provider: OAuthProvider;
let sink: SmtpSink;
let close: () => Promise<void>;
t.before(async () => {
  provider = await startOAuthProvider({ redirectUri: REDIRECT, accessTokenTtl: TOKEN_TTL_S });
  dovecot = await startDovecot({ oauth2: { introspectionUrl: provider.introspectionUrl } });
  sink = await startSmtpSink({ requireAuth: true, oauth2: { introspect: (token) => provider.introspect(token) } });
  ({ ta, close } = await startAppWithWorker('oauth', {
    dovecot,
    env: microsoftEnv(provider, { imap: dovecot.port, smtp: sink.port }, PUBLIC_URL),
  }));
});
t.teardown(async () => {
  await close();
  await sink.close();
  await provider.close();
  await dovecot.stop();
});

const until = async (what: string, fn: () => Promise<boolean>, ms = 30_000) => {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await fn()) return;
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new Error(`timed out waiting for ${what}`);
};

/** A provider user whose mailbox lives in Dovecot under its address. */
async function mailUser(label = 'ms') {
  const email = `${uniq(label)}@firm.test`;
  await dovecot.addUser({ name: email });
  return email;
}

/** Settings → Connect Microsoft 365 → the provider's sign-in → back: the callback's redirect. */
async function connect(s: Session, email: string, path = '/api/mail-accounts/oauth', body: unknown = { provider: 'microsoft', visibility: 'private' }) {
  const start = await s.request('POST', path, body);
  if (start.statusCode !== 200) throw new Error(`start: ${start.statusCode} ${start.body}`);
  const back = new URL(await provider.authorize(start.json().authorizeUrl, email, REDIRECT));
  const res = await s.request('GET', `${back.pathname}${back.search}`);
  return { start, back, res, location: res.headers.location as string | undefined };
}

const accountOf = async (s: Session, id: string) => (await s.request('GET', `/api/mail-accounts/${id}`)).json();
const stored = async (s: Session, id: string) => (await accountOf(s, id)).folders.find((f: { role: string }) => f.role === 'inbox')?.storedMessages ?? 0;
async function syncedTo(s: Session, id: string, n: number) {
  await s.request('POST', `/api/mail-accounts/${id}/sync`);
  await until(`${n} messages stored`, async () => (await stored(s, id)) >= n);
}

t.test('providers: Microsoft configured, Google not', async (t) => {
  const s = await userSession(ta);
  const res = await s.request('GET', '/api/oauth/providers');
  t.equal(res.statusCode, 200);
  t.same(res.json().items, [{ id: 'microsoft', name: 'Microsoft 365', configured: true }, { id: 'google', name: 'Google', configured: false }]);
  const google = await s.request('POST', '/api/mail-accounts/oauth', { provider: 'google', visibility: 'private' });
  t.equal(google.statusCode, 422);
  t.equal(google.json().error.code, 'provider_not_configured');
});

let connected: { s: Session; email: string; id: string };

t.test('connect Microsoft 365: PKCE and state, the IMAP login checked, the account created and syncing', async (t) => {
  const s = await userSession(ta);
  const email = await mailUser();
  await dovecot.deliverMany(email, [createTestMail({ subject: 'One', to: email }), createTestMail({ subject: 'Two', to: email })]);
  const { start, back, location } = await connect(s, email);
  const url = new URL(start.json().authorizeUrl);
  t.equal(url.searchParams.get('code_challenge_method'), 'S256');
  t.ok(url.searchParams.get('code_challenge'));
  t.equal(url.searchParams.get('redirect_uri'), REDIRECT);
  t.match(url.searchParams.get('scope'), /offline_access https:\/\/outlook\.office\.com\/IMAP\.AccessAsUser\.All https:\/\/outlook\.office\.com\/SMTP\.Send/);
  t.match(location, /^\/settings\/mail-accounts\?connected=[0-9a-f-]{36}$/, `redirected back: ${location}`);
  const id = new URL(location!, PUBLIC_URL).searchParams.get('connected')!;
  const view = await accountOf(s, id);
  t.match(view, { email, auth: 'oauth2', provider: 'microsoft', visibility: 'private', imap: { host: '127.0.0.1', port: dovecot.port, username: email }, smtp: { port: sink.port, username: email } });
  await until('the first sync', async () => (await stored(s, id)) === 2).catch(async (err: Error) => {
    throw new Error(`${err.message}: ${JSON.stringify(await accountOf(s, id))}`);
  });

  // Tokens only encrypted at rest, never in a view.
  const row = (await ta.db.em.fork().execute<{ secret: string }[]>('select secret from mail_account where id = ?', [id]))[0]!;
  const tokens = openOAuthTokens(ta.config.secretKey, row.secret);
  t.notOk(row.secret.includes(tokens.accessToken) || row.secret.includes(tokens.refreshToken ?? '-'), 'sealed');
  t.notOk(JSON.stringify(view).includes(tokens.accessToken));
  t.ok(tokens.refreshToken, 'a refresh token was issued');

  // The callback is used once, and only in the session that started it.
  const replay = await s.request('GET', `${back.pathname}${back.search}`);
  t.equal(replay.headers.location, '/settings/mail-accounts?oauthError=oauth_state_invalid');
  const other = await userSession(ta);
  const foreign = await connectAs(other, s, await mailUser());
  t.equal(foreign, '/settings/mail-accounts?oauthError=oauth_state_invalid', 'another user cannot finish my sign-in');
  connected = { s, email, id };
});

/** Starts a flow as `starter`, then brings the provider's answer back in `finisher`'s session. */
async function connectAs(finisher: Session, starter: Session, email: string) {
  const start = await starter.request('POST', '/api/mail-accounts/oauth', { provider: 'microsoft', visibility: 'private' });
  const back = new URL(await provider.authorize(start.json().authorizeUrl, email, REDIRECT));
  return (await finisher.request('GET', `${back.pathname}${back.search}`)).headers.location;
}

t.test('sync keeps running across several access-token expiries', async (t) => {
  const { s, email, id } = connected;
  const refreshes = provider.grants.get('refresh_token') ?? 0;
  for (let round = 1; round <= 3; round++) {
    const expiresAt = openOAuthTokens(ta.config.secretKey, (await ta.db.em.fork().execute<{ secret: string }[]>('select secret from mail_account where id = ?', [id]))[0]!.secret).expiresAt;
    // Wait until the stored token has expired at the provider (not a negative check: the sync below must succeed).
    await until('the access token to expire', async () => Date.now() > expiresAt + 500, 15_000);
    await dovecot.deliver(email, createTestMail({ subject: `After expiry ${round}`, to: email }));
    await syncedTo(s, id, 2 + round);
  }
  await until('the sync to finish', async () => (await accountOf(s, id)).status === 'idle');
  t.equal((await accountOf(s, id)).lastError, null);
  t.ok((provider.grants.get('refresh_token') ?? 0) - refreshes >= 3, 'a refresh for each expiry');
});

t.test('a reply goes out with AUTH XOAUTH2', async (t) => {
  const { s, email, id } = connected;
  const res = await s.request('POST', '/api/outbox', { accountId: id, to: [{ address: 'client@client.example' }], subject: 'Your return', text: 'Attached soon.' });
  t.equal(res.statusCode, 202, res.body);
  const got = await sink.waitFor((m) => m.to.includes('client@client.example') && m.raw.toString().includes('Your return'), 30_000);
  t.equal(got.authMethod, 'XOAUTH2');
  t.equal(got.authUser, email);
  await until('the outbox row sent', async () => (await s.request('GET', `/api/outbox/${res.json().outboxId}`)).json().status === 'sent');
});

t.test('two workers refreshing the same account at once keep one valid refresh token', async (t) => {
  const { id } = connected;
  const secret = async () => openOAuthTokens(ta.config.secretKey, (await ta.db.em.fork().execute<{ secret: string }[]>('select secret from mail_account where id = ?', [id]))[0]!.secret);
  const before = await secret();
  const a = await openDb(ta.config, { migrate: false, poolMax: 2 });
  const b = await openDb(ta.config, { migrate: false, poolMax: 2 });
  t.teardown(async () => {
    await a.close();
    await b.close();
  });
  const refreshes = provider.grants.get('refresh_token') ?? 0;
  // Both saw the same token refused: each asks for a refresh at the same moment.
  const [ta1, tb1] = await Promise.all([
    getFreshAccessToken(a, ta.config, id, { failedToken: before.accessToken }),
    getFreshAccessToken(b, ta.config, id, { failedToken: before.accessToken }),
  ]);
  t.equal(ta1, tb1, 'the second waited for the first and used its token');
  t.equal((provider.grants.get('refresh_token') ?? 0) - refreshes, 1, 'one refresh, not two');
  const after = await secret();
  t.not(after.refreshToken, before.refreshToken, 'the rotated refresh token was stored');
  t.equal((await provider.introspect(after.accessToken)).active, true);
  // And the stored refresh token still works (a lost rotation would have revoked the grant).
  const again = await getFreshAccessToken(a, ta.config, id, { failedToken: after.accessToken });
  t.equal((await provider.introspect(again)).active, true);
  t.equal((await accountOf(connected.s, id)).status === 'needs_reauth', false);
});

t.test('a revoked grant → needs_reauth → Reconnect → sync resumes without duplicates or a re-download', async (t) => {
  const { s, email, id } = connected;
  const inboxBefore = (await accountOf(s, id)).folders.find((f: { role: string }) => f.role === 'inbox');
  const count = inboxBefore.storedMessages as number;
  const cursor = (await ta.db.em.fork().execute<{ id: string; last_uid: string; uid_validity: string }[]>("select id, last_uid, uid_validity from mailbox where account_id = ? and role = 'inbox'", [id]))[0]!;
  await provider.revokeUser(email);
  await s.request('POST', `/api/mail-accounts/${id}/sync`);
  await until('needs_reauth', async () => (await accountOf(s, id)).status === 'needs_reauth');
  t.match((await accountOf(s, id)).lastError, /invalid_grant/, 'the provider\'s reason is kept');

  // Someone else cannot reconnect it (not even by guessing the id).
  const stranger = await userSession(ta);
  t.equal((await stranger.request('POST', `/api/mail-accounts/${id}/oauth`)).statusCode, 404);
  const admin = await userSession(ta, 'admin');
  t.equal((await admin.request('POST', `/api/mail-accounts/${id}/oauth`)).statusCode, 404, 'a private account is its owner\'s alone');

  // Signing in as another mailbox does not re-point the account.
  const wrong = await connect(s, await mailUser('other'), `/api/mail-accounts/${id}/oauth`, undefined);
  t.equal(wrong.location, '/settings/mail-accounts?oauthError=oauth_wrong_mailbox');

  const { start, location } = await connect(s, email, `/api/mail-accounts/${id}/oauth`, undefined);
  t.equal(new URL(start.json().authorizeUrl).searchParams.get('login_hint'), email);
  t.equal(location, `/settings/mail-accounts?connected=${id}`, 'the same account');
  await dovecot.deliver(email, createTestMail({ subject: 'After reconnecting', to: email }));
  await syncedTo(s, id, count + 1);
  await until('the sync to finish', async () => (await accountOf(s, id)).status === 'idle');
  t.equal((await accountOf(s, id)).lastError, null);
  const after = (await ta.db.em.fork().execute<{ id: string; last_uid: string; uid_validity: string; n: number }[]>(
    `select b.id, b.last_uid, b.uid_validity, (select count(*)::int from message_location l where l.mailbox_id = b.id) as n from mailbox b where b.account_id = ? and b.role = 'inbox'`, [id]))[0]!;
  t.equal(after.id, cursor.id, 'same folder row');
  t.equal(after.uid_validity, cursor.uid_validity);
  t.ok(Number(after.last_uid) > Number(cursor.last_uid), 'the cursor moved on from where it was');
  t.equal(after.n, count + 1, 'one location per message: nothing twice');
});

t.test('staff cannot create app-only or public accounts; an admin connects a shared mailbox app-only', async (t) => {
  const staff = await userSession(ta);
  const email = await mailUser('info');
  const app = { auth: 'oauth2-app', provider: 'microsoft', email, name: 'Info', visibility: 'public' };
  t.equal((await staff.request('POST', '/api/mail-accounts', app)).statusCode, 403);
  t.equal((await staff.request('POST', '/api/mail-accounts/oauth', { provider: 'microsoft', visibility: 'public' })).statusCode, 403);

  const admin = await userSession(ta, 'admin');
  // Not granted to this mailbox (Exchange's application access policy): the login check refuses it.
  provider.appMailbox = 'someone-else@firm.test';
  const refused = await admin.request('POST', '/api/mail-accounts', app);
  t.equal(refused.statusCode, 422, refused.body);
  t.equal(refused.json().error.code, 'imap_auth_failed');
  provider.appMailbox = email;
  await dovecot.deliver(email, createTestMail({ subject: 'For the whole firm', to: email }));
  const res = await admin.request('POST', '/api/mail-accounts', app);
  t.equal(res.statusCode, 201, res.body);
  t.match(res.json(), { auth: 'oauth2-app', provider: 'microsoft', visibility: 'public', email });
  await until('the app-only account synced', async () => (await stored(admin, res.json().id)) === 1);
  t.equal((await staff.request('GET', `/api/mail-accounts/${res.json().id}`)).statusCode, 200, 'shared with everyone');
});

t.test('a refused consent comes back as an error code the settings page shows', async (t) => {
  const s = await userSession(ta);
  const start = await s.request('POST', '/api/mail-accounts/oauth', { provider: 'microsoft', visibility: 'private' });
  const state = new URL(start.json().authorizeUrl).searchParams.get('state')!;
  const res = await s.request('GET', `/api/oauth/callback?error=access_denied&state=${encodeURIComponent(state)}`);
  t.equal(res.statusCode, 302);
  t.equal(res.headers.location, '/settings/mail-accounts?oauthError=access_denied');
  t.equal((await s.request('GET', '/api/oauth/callback?code=x')).headers.location, '/settings/mail-accounts?oauthError=oauth_state_invalid');
});
