// Mail accounts API (API.md "Mail accounts"): thin handlers over core/mail/accounts.ts. Logins are checked
// by a sync worker through core/mail/imap-checks.ts (the API never opens IMAP); jobs are enqueued after commit.
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from 'typebox';
import {
  checkCredentialPatch, createMailAccount, deleteMailAccount, getMailAccount, getManagedMailAccount, listMailAccounts, previewImapSettings,
  previewSmtpSettings, requestAccountSync, scheduleAccountSync, unscheduleAccountSync, updateMailAccount, viewMailAccount, viewMailAccounts,
} from '../../core/mail/accounts.ts';
import { checkImapThroughWorker, type MailCheckSettings } from '../../core/mail/imap-checks.ts';
import { checkMailHosts, mailHostPolicy } from '../../core/mail/mail-hosts.ts';
import { recordAudit } from '../../core/staff/audit.ts';
import { ForbiddenError } from '../../core/platform/errors.ts';
import { currentUser } from '../auth.ts';
import { IdParams } from '../schemas.ts';
import { MailAccountAppCreate, MailAccountCreate, MailAccountPatch, MailAccountView, ServerFolderList } from '../schemas/mail-accounts.ts';
import { createAppOnlyAccount, fetchAppToken, OAuthGrantError, oauthImapSettings } from '../../core/mail/oauth.ts';
import { MailServerError } from '../../core/platform/errors.ts';
import { STATUS } from '../errors.ts';

const Queued = Type.Object({ queued: Type.Integer() });

export async function mailAccountRoutes(app: FastifyInstance) {
  const { db, queue, config } = app.deps;
  const tags = ['mail-accounts'];

  app.get('/mail-accounts', { schema: { tags, response: { 200: Type.Object({ items: Type.Array(MailAccountView) }) } } }, async (req) => {
    return { items: await viewMailAccounts(req.em, await listMailAccounts(req.em, currentUser(req))) };
  });

  app.post<{ Body: MailAccountCreate | MailAccountAppCreate }>('/mail-accounts', {
    schema: { tags, body: Type.Union([MailAccountCreate, MailAccountAppCreate]), response: { 201: MailAccountView } },
  }, async (req, reply) => {
    const user = currentUser(req);
    if (req.body.visibility === 'public' && user.role !== 'admin') throw new ForbiddenError('Only administrators can add a shared (public) mailbox');
    if ('auth' in req.body) {
      // App-only access (Microsoft client credentials): no user signs in; the app's token opens the mailbox.
      const body = req.body;
      if (user.role !== 'admin') throw new ForbiddenError('Only administrators can connect a mailbox with app-only access');
      let tokens;
      try {
        tokens = await fetchAppToken(config, body.provider);
      } catch (err) {
        if (err instanceof OAuthGrantError) throw new MailServerError('oauth_app_refused', `The provider refused the app's sign-in: ${err.message}`, 'provider');
        throw err;
      }
      const email = body.email.trim().toLowerCase();
      await checkImapThroughWorker(db, queue, config.secretKey, { kind: 'login', settings: { imap: oauthImapSettings(config, body.provider, email, tokens.accessToken) } }, { language: user.language });
      const account = await createAppOnlyAccount(req.em, config, user, body, tokens);
      recordAudit(req.em, { actorId: user.id, action: 'mail_account.create', entityType: 'mail_account', entityId: account.id, details: { email: account.email, visibility: account.visibility, auth: 'oauth2-app' } });
      await req.em.flush();
      await scheduleAccountSync(queue, config.syncIntervalSeconds, account.id, 'created');
      return reply.status(STATUS.created).send(await viewMailAccount(req.em, account));
    }
    const { imap, smtp } = req.body;
    // No internal addresses (422 host_not_allowed), then credentials: nothing is saved unless both servers accept the login (SMTP without sending mail).
    await checkMailHosts({ imap: imap.host, smtp: smtp?.host }, mailHostPolicy(config));
    await checkImapThroughWorker(db, queue, config.secretKey, {
      kind: 'login',
      settings: {
        imap: { host: imap.host.trim(), port: imap.port, secure: imap.secure, username: imap.username, password: imap.password, allowInsecure: imap.allowInsecure ?? !imap.secure },
        ...(smtp ? { smtp: { host: smtp.host.trim(), port: smtp.port, secure: smtp.secure, username: smtp.username, password: smtp.password, allowInsecure: smtp.allowInsecure ?? false } } : {}),
      },
    }, { language: user.language });
    const account = await createMailAccount(req.em, user, req.body, config.secretKey);
    recordAudit(req.em, { actorId: user.id, action: 'mail_account.create', entityType: 'mail_account', entityId: account.id, details: { email: account.email, visibility: account.visibility } });
    await req.em.flush();
    await scheduleAccountSync(queue, config.syncIntervalSeconds, account.id, 'created');
    return reply.status(STATUS.created).send(await viewMailAccount(req.em, account));
  });

  app.post('/mail-accounts/sync', { schema: { tags, response: { 202: Queued } } }, async (req, reply) => {
    const accounts = await listMailAccounts(req.em, currentUser(req));
    for (const a of accounts) await requestAccountSync(queue, a.id, 'manual');
    return reply.status(STATUS.accepted).send({ queued: accounts.length });
  });

  app.get<{ Params: Static<typeof IdParams> }>('/mail-accounts/:id', { schema: { tags, params: IdParams, response: { 200: MailAccountView } } }, async (req) => {
    return viewMailAccount(req.em, await getMailAccount(req.em, currentUser(req), req.params.id));
  });

  app.patch<{ Params: Static<typeof IdParams>; Body: MailAccountPatch }>('/mail-accounts/:id', {
    schema: { tags, params: IdParams, body: MailAccountPatch, response: { 200: MailAccountView } },
  }, async (req) => {
    const user = currentUser(req);
    const account = await getManagedMailAccount(req.em, user, req.params.id);
    // Before any check: a stored password never goes to a server it was not entered for.
    checkCredentialPatch(account, req.body);
    const i = req.body.imap;
    await checkMailHosts({ imap: i?.host, smtp: req.body.smtp?.host }, mailHostPolicy(config));
    const settings: MailCheckSettings = {};
    // New settings or a re-entered password are verified before they replace the working ones.
    if (i && Object.keys(i).length) settings.imap = await previewImapSettings(req.em, config.secretKey, account, req.body);
    const smtp = await previewSmtpSettings(req.em, config.secretKey, account, req.body);
    if (smtp) settings.smtp = smtp;
    if (settings.imap || settings.smtp) await checkImapThroughWorker(db, queue, config.secretKey, { kind: 'login', settings }, { language: user.language });
    const outcome = await updateMailAccount(req.em, user, account, req.body, config.secretKey);
    recordAudit(req.em, {
      actorId: user.id, action: 'mail_account.update', entityType: 'mail_account', entityId: account.id,
      details: { fields: Object.keys(req.body), credentials: Boolean(req.body.imap?.password || req.body.smtp?.password) },
    });
    await req.em.flush();
    if (outcome.imapChanged || outcome.resumed) await scheduleAccountSync(queue, config.syncIntervalSeconds, account.id, 'manual');
    else if (outcome.foldersChanged) await requestAccountSync(queue, account.id, 'manual');
    return viewMailAccount(req.em, account);
  });

  app.delete<{ Params: Static<typeof IdParams> }>('/mail-accounts/:id', { schema: { tags, params: IdParams } }, async (req, reply) => {
    const user = currentUser(req);
    const account = await getManagedMailAccount(req.em, user, req.params.id);
    const id = account.id;
    recordAudit(req.em, { actorId: user.id, action: 'mail_account.delete', entityType: 'mail_account', entityId: id, details: { email: account.email } });
    await deleteMailAccount(req.em, account);
    await req.em.flush();
    await unscheduleAccountSync(queue, id);
    return reply.status(STATUS.noContent).send();
  });

  app.post<{ Params: Static<typeof IdParams> }>('/mail-accounts/:id/sync', { schema: { tags, params: IdParams, response: { 202: Queued } } }, async (req, reply) => {
    const account = await getMailAccount(req.em, currentUser(req), req.params.id);
    await requestAccountSync(queue, account.id, 'manual');
    return reply.status(STATUS.accepted).send({ queued: 1 });
  });

  // The folder picker: what the server has, which are synced by default and which are picked.
  app.get<{ Params: Static<typeof IdParams> }>('/mail-accounts/:id/server-folders', {
    schema: { tags, params: IdParams, response: { 200: ServerFolderList } },
  }, async (req) => {
    const account = await getManagedMailAccount(req.em, currentUser(req), req.params.id);
    const result = await checkImapThroughWorker(db, queue, config.secretKey, { kind: 'folders', accountId: account.id });
    return {
      items: (result.folders ?? []).map((f) => {
        const isDefault = f.path.toUpperCase() === 'INBOX' || f.specialUse === '\\Sent';
        return { path: f.path, name: f.name, specialUse: f.specialUse, isDefault, selected: isDefault || account.extraFolders.includes(f.path) };
      }),
    };
  });
}
