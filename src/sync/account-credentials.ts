// How a worker signs in to an account's servers: the stored password, or an OAuth2 access token made fresh
// first (core/mail/oauth.ts refreshes it under a row lock, one refresh per account across workers).
// `failedToken`: the server just refused this token, so refresh even if it looks unexpired (once).
import type { Em } from '../core/platform/db.ts';
import { getImapSettings, getSmtpSettings, type ImapConnectSettings, type SmtpConnectSettings } from '../core/mail/accounts.ts';
import type { MailAccount } from '../core/mail/mail-account.entity.ts';
import { getFreshAccessToken } from '../core/mail/oauth.ts';
import type { WorkerDeps } from './worker-deps.ts';

export async function imapSettingsFor(deps: WorkerDeps, em: Em, account: MailAccount, opts: { failedToken?: string } = {}): Promise<ImapConnectSettings> {
  const settings = await getImapSettings(em, deps.config.secretKey, account);
  if (account.auth === 'password') return settings;
  return { ...settings, accessToken: await getFreshAccessToken(deps.db, deps.config, account.id, opts) };
}

export async function smtpSettingsFor(deps: WorkerDeps, em: Em, account: MailAccount, opts: { failedToken?: string } = {}): Promise<SmtpConnectSettings | null> {
  const settings = await getSmtpSettings(em, deps.config.secretKey, account);
  if (!settings || account.auth === 'password') return settings;
  return { ...settings, accessToken: await getFreshAccessToken(deps.db, deps.config, account.id, opts) };
}
