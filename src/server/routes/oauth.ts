// OAuth2 mailboxes (Microsoft 365, Google): which providers are set up, starting a sign-in (new account or
// reconnect), and the provider's callback, which checks the IMAP login through a worker (the API never opens
// IMAP) and creates or reconnects the account. Thin handlers over core/mail/oauth.ts.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { type Static } from 'typebox';
import { getManagedMailAccount, scheduleAccountSync } from '../../core/mail/accounts.ts';
import { checkImapThroughWorker } from '../../core/mail/imap-checks.ts';
import {
  connectOAuthAccount, finishOAuthCode, listOAuthProviders, OAuthGrantError, oauthImapSettings, oauthRedirectUri, startOAuthFlow, takeOAuthFlow,
} from '../../core/mail/oauth.ts';
import { DomainError, RuleError } from '../../core/platform/errors.ts';
import { recordAudit } from '../../core/staff/audit.ts';
import { currentUser, SESSION_COOKIE } from '../auth.ts';
import { STATUS } from '../errors.ts';
import { IdParams } from '../schemas.ts';
import { AuthorizeUrl, OAuthCallbackQuery, OAuthProviderList, OAuthStart } from '../schemas/mail-accounts.ts';

const SETTINGS = '/settings/mail-accounts';
/** Error codes travel in the redirect: only plain snake_case words, never provider text. */
const safeCode = (code: string) => (/^[a-z0-9_]{1,64}$/.test(code) ? code : 'oauth_failed');

export async function oauthRoutes(app: FastifyInstance) {
  const { db, queue, config } = app.deps;
  const tags = ['mail-accounts'];
  const sessionToken = (req: FastifyRequest) => (req.authKind === 'cookie' ? (req.cookies[SESSION_COOKIE] ?? null) : null);

  app.get('/oauth/providers', { schema: { tags, response: { 200: OAuthProviderList } } }, async () => ({ items: listOAuthProviders(config) }));

  app.post<{ Body: OAuthStart }>('/mail-accounts/oauth', { schema: { tags, body: OAuthStart, response: { 200: AuthorizeUrl } } }, async (req) => {
    const user = currentUser(req);
    const authorizeUrl = await startOAuthFlow(req.em, config, user, sessionToken(req), req.body);
    await req.em.flush();
    return { authorizeUrl };
  });

  // Reconnect (after needs_reauth, or to renew consent): history, folders and cursors stay.
  app.post<{ Params: Static<typeof IdParams> }>('/mail-accounts/:id/oauth', { schema: { tags, params: IdParams, response: { 200: AuthorizeUrl } } }, async (req) => {
    const user = currentUser(req);
    const account = await getManagedMailAccount(req.em, user, req.params.id);
    if (account.auth !== 'oauth2' || !account.provider) throw new RuleError('not_oauth_account', 'This mailbox signs in with a password: re-enter the password instead');
    const authorizeUrl = await startOAuthFlow(req.em, config, user, sessionToken(req), { provider: account.provider, visibility: account.visibility, account });
    await req.em.flush();
    return { authorizeUrl };
  });

  // The redirect_uri: the browser comes back here from the provider, in the session that started the flow.
  app.get<{ Querystring: Static<typeof OAuthCallbackQuery> }>('/oauth/callback', { schema: { tags, querystring: OAuthCallbackQuery } }, async (req, reply) => {
    const user = currentUser(req);
    const fail = (code: string) => reply.redirect(`${SETTINGS}?oauthError=${safeCode(code)}`, STATUS.found);
    const { state, code, error } = req.query;
    if (!state) return fail('oauth_state_invalid');
    let taken;
    try {
      taken = await takeOAuthFlow(req.em, config.secretKey, user, sessionToken(req), state);
      // Used once, whatever happens next.
      await req.em.flush();
    } catch (err) {
      if (err instanceof DomainError) return fail(err.code);
      throw err;
    }
    if (error || !code) return fail(error === 'access_denied' ? 'access_denied' : 'oauth_failed');
    const { flow, verifier } = taken;
    try {
      const callbackUrl = new URL(`${oauthRedirectUri(config)}?${new URLSearchParams(req.query as Record<string, string>).toString()}`);
      const login = await finishOAuthCode(config, flow, verifier, callbackUrl, state);
      await checkImapThroughWorker(db, queue, config.secretKey, { kind: 'login', settings: { imap: oauthImapSettings(config, flow.provider, login.loginName, login.tokens.accessToken) } }, { language: user.language });
      const { account, created } = await connectOAuthAccount(req.em, config, user, flow, login);
      recordAudit(req.em, {
        actorId: user.id, action: created ? 'mail_account.create' : 'mail_account.reconnect', entityType: 'mail_account', entityId: account.id,
        details: { email: account.email, visibility: account.visibility, provider: flow.provider },
      });
      await req.em.flush();
      await scheduleAccountSync(queue, config.syncIntervalSeconds, account.id, created ? 'created' : 'manual');
      return reply.redirect(`${SETTINGS}?connected=${account.id}`, STATUS.found);
    } catch (err) {
      if (err instanceof DomainError) return fail(err.code);
      req.log.warn({ err: err instanceof OAuthGrantError ? err.error : (err as Error).name }, 'oauth callback failed');
      if (err instanceof OAuthGrantError) return fail(err.error);
      return fail('oauth_failed');
    }
  });
}
