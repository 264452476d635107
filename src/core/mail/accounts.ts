// Mail accounts: create/update/delete, who may see and manage them, their API view, and the
// credentials at rest (AES-256-GCM via secrets.ts). Never opens IMAP: checks go through a worker job.
import type { ExpressionBuilder } from 'kysely';
import { kysely, type DB, type Em } from '../platform/db.ts';
import type { JobQueue } from '../platform/jobs.ts';
import { ConflictError, ForbiddenError, InvalidInputError, NotFoundError, RuleError } from '../platform/errors.ts';
import { decryptSecret, encryptSecret } from '../platform/secrets.ts';
import { MailAccount, Mailbox, type AccountAuth, type AccountStatus, type FolderRole, type OAuthProviderId, type Visibility } from './mail-account.entity.ts';
import type { User } from '../staff/user.entity.ts';

export type ServerSettings = { host: string; port: number; secure: boolean; username: string; password: string };
/**
 * Settings as a worker needs them to connect (allowInsecure: plain text without STARTTLS was asked for).
 * `accessToken`: sign in with OAuth2 (XOAUTH2/OAUTHBEARER) instead of the password.
 */
export type ImapConnectSettings = ServerSettings & { allowInsecure: boolean; accessToken?: string };
export type SmtpConnectSettings = ImapConnectSettings;

export type MailAccountInput = {
  name: string;
  email: string;
  visibility: Visibility;
  imap: ServerSettings & { allowInsecure?: boolean };
  /** Omitted or null: a receive-only account. */
  smtp?: (ServerSettings & { allowInsecure?: boolean }) | null;
  folders?: string[];
};

export type MailAccountPatch = {
  name?: string;
  email?: string;
  visibility?: Visibility;
  imap?: Partial<ServerSettings> & { allowInsecure?: boolean };
  /** null: stop sending from this account (receive-only). */
  smtp?: (Partial<ServerSettings> & { allowInsecure?: boolean }) | null;
  folders?: string[];
};

export type FolderView = { path: string; role: FolderRole; serverMessages: number; storedMessages: number; failedMessages: number; syncedAt: string | null };
export type MailAccountView = {
  id: string;
  name: string;
  email: string;
  visibility: Visibility;
  owner: { id: string; name: string };
  status: AccountStatus;
  lastSyncAt: string | null;
  lastError: string | null;
  folders: FolderView[];
  /** Messages fetched so far of those to fetch, while a folder's initial (or catch-up) sync runs. */
  progress: { done: number; total: number } | null;
  imap: { host: string; port: number; secure: boolean; username: string; allowInsecure: boolean };
  /** null for a receive-only account. */
  smtp: { host: string; port: number; secure: boolean; username: string; allowInsecure: boolean } | null;
  /** How it signs in; provider for OAuth2 accounts. */
  auth: AccountAuth;
  provider: OAuthProviderId | null;
  /** Folders picked besides INBOX and the \Sent folder (always synced). */
  extraFolders: string[];
};

type Secrets = { imapPassword: string; smtpPassword: string };
/** What an OAuth2 account keeps (encrypted): never returned, never logged. expiresAt in ms since the epoch. */
export type OAuthTokens = { accessToken: string; refreshToken: string | null; expiresAt: number; obtainedAt?: number };

/** The scheduler id of an account's periodic sync (one per account, see scheduleAccountSync). */
export const accountSchedulerId = (accountId: string) => `sync-account:${accountId}`;
/** The scheduler id of an account's hourly reconciliation (server UIDs against stored locations). */
export const reconcileSchedulerId = (accountId: string) => `reconcile-account:${accountId}`;
export const RECONCILE_EVERY_MS = 3600_000;
/** Jobs of one account share this key: the queue never runs two of them at once. */
export const accountJobKey = (accountId: string) => `account:${accountId}`;

const requireKey = (key: Buffer | null): Buffer => {
  if (!key) throw new Error('no secret key configured for mailbox credentials');
  return key;
};

export const sealServerSecret = (key: Buffer | null, secrets: Secrets) => encryptSecret(requireKey(key), JSON.stringify(secrets));

export const sealOAuthTokens = (key: Buffer | null, tokens: OAuthTokens) => encryptSecret(requireKey(key), JSON.stringify({ oauth: tokens }));

export function openOAuthTokens(key: Buffer | null, sealed: string): OAuthTokens {
  const parsed = JSON.parse(decryptSecret(requireKey(key), sealed)) as { oauth?: OAuthTokens };
  if (!parsed.oauth) throw new Error('this account has no OAuth2 tokens');
  return parsed.oauth;
}

function openSecrets(key: Buffer | null, sealed: string): Secrets {
  const parsed = JSON.parse(decryptSecret(requireKey(key), sealed)) as Partial<Secrets>;
  return { imapPassword: parsed.imapPassword ?? '', smtpPassword: parsed.smtpPassword ?? '' };
}

/** The account with its (lazy, hidden) secret loaded. */
async function loadSecret(em: Em, account: MailAccount): Promise<string> {
  const row = await kysely(em).selectFrom('mail_account').select('secret').where('id', '=', account.id).executeTakeFirst();
  if (!row) throw new NotFoundError('Mail account');
  return row.secret;
}

/**
 * IMAP settings of a saved account, password (or stored access token) decrypted: for the sync worker only.
 * OAuth2 accounts: the worker makes sure the token is fresh first (core/mail/oauth-tokens.ts).
 */
export async function getImapSettings(em: Em, key: Buffer | null, account: MailAccount): Promise<ImapConnectSettings> {
  const sealed = await loadSecret(em, account);
  const base = { host: account.imapHost, port: account.imapPort, secure: account.imapSecure, username: account.imapUsername, allowInsecure: account.imapAllowInsecure };
  if (account.auth !== 'password') return { ...base, password: '', accessToken: openOAuthTokens(key, sealed).accessToken };
  return { ...base, password: openSecrets(key, sealed).imapPassword };
}

/** SMTP settings of a saved account, password decrypted: for the sending worker only. Null: receive-only. */
export async function getSmtpSettings(em: Em, key: Buffer | null, account: MailAccount): Promise<SmtpConnectSettings | null> {
  if (!account.smtpHost || account.smtpPort == null || account.smtpSecure == null) return null;
  const sealed = await loadSecret(em, account);
  const base = { host: account.smtpHost, port: account.smtpPort, secure: account.smtpSecure, username: account.smtpUsername ?? '', allowInsecure: account.smtpAllowInsecure };
  if (account.auth !== 'password') return { ...base, password: '', accessToken: openOAuthTokens(key, sealed).accessToken };
  return { ...base, password: openSecrets(key, sealed).smtpPassword };
}

const cleanFolders = (folders: string[] | undefined): string[] => {
  const out: string[] = [];
  for (const f of folders ?? []) {
    const path = f.trim();
    if (!path || path.toUpperCase() === 'INBOX' || out.includes(path)) continue;
    out.push(path);
  }
  return out;
};

function checkServer(s: Partial<ServerSettings>, field: 'imap' | 'smtp') {
  if (s.host !== undefined && !/^[A-Za-z0-9.:[\]-]+$/.test(s.host.trim())) throw new InvalidInputError('invalid_host', 'Host must be a host name or IP address', `${field}.host`);
  if (s.port !== undefined && (!Number.isInteger(s.port) || s.port < 1 || s.port > 65535)) throw new InvalidInputError('invalid_port', 'Port must be 1-65535', `${field}.port`);
}

/** Private accounts are the owner's; public ones are everyone's (read), managed by admins. */
export const canSeeAccount = (user: Pick<User, 'id'>, account: MailAccount) => account.visibility === 'public' || account.owner.id === user.id;
export const canManageAccount = (user: Pick<User, 'id' | 'role'>, account: MailAccount) =>
  account.visibility === 'public' ? user.role === 'admin' : account.owner.id === user.id;

/**
 * Creates the account and its INBOX row (the \Sent folder is found on the first sync). The caller
 * has verified the IMAP login (through a worker) and schedules the sync after the commit.
 */
export async function createMailAccount(em: Em, owner: User, input: MailAccountInput, key: Buffer | null): Promise<MailAccount> {
  if (input.visibility === 'public' && owner.role !== 'admin') throw new ForbiddenError('Only administrators can add a shared (public) mailbox');
  checkServer(input.imap, 'imap');
  if (input.smtp) checkServer(input.smtp, 'smtp');
  const smtp = input.smtp ?? null;
  const email = input.email.trim().toLowerCase();
  const dup = await em.findOne(MailAccount, { email, imapHost: input.imap.host.trim(), imapUsername: input.imap.username, owner: owner.id });
  if (dup) throw new ConflictError('account_exists', 'You have already connected this mailbox', 'email');
  const account = em.create(MailAccount, {
    owner, name: input.name.trim(), email, visibility: input.visibility,
    imapHost: input.imap.host.trim(), imapPort: input.imap.port, imapSecure: input.imap.secure, imapAllowInsecure: input.imap.allowInsecure ?? !input.imap.secure,
    imapUsername: input.imap.username,
    smtpHost: smtp?.host.trim() ?? null, smtpPort: smtp?.port ?? null, smtpSecure: smtp?.secure ?? null, smtpAllowInsecure: smtp?.allowInsecure ?? false,
    smtpUsername: smtp?.username ?? null,
    auth: 'password', provider: null,
    secret: sealServerSecret(key, { imapPassword: input.imap.password, smtpPassword: smtp?.password ?? '' }),
    extraFolders: cleanFolders(input.folders),
    status: 'idle',
  });
  em.create(Mailbox, { account, path: 'INBOX', role: 'inbox' });
  return account;
}

/** Accounts the user may see (own private + all public), by name. */
export async function listMailAccounts(em: Em, user: Pick<User, 'id'>): Promise<MailAccount[]> {
  return em.find(MailAccount, { $or: [{ visibility: 'public' }, { owner: user.id }] }, { populate: ['owner'], orderBy: { name: 'asc', id: 'asc' } });
}

/** The account when the user may see it; NotFound otherwise (never reveal a private account exists). */
export async function getMailAccount(em: Em, user: Pick<User, 'id'>, id: string): Promise<MailAccount> {
  const account = await em.findOne(MailAccount, { id }, { populate: ['owner'] });
  if (!account || !canSeeAccount(user, account)) throw new NotFoundError('Mail account');
  return account;
}

/** The account when the user may change it; NotFound when invisible, Forbidden when only visible. */
export async function getManagedMailAccount(em: Em, user: Pick<User, 'id' | 'role'>, id: string): Promise<MailAccount> {
  const account = await getMailAccount(em, user, id);
  if (!canManageAccount(user, account)) throw new ForbiddenError('Only an administrator can change a shared mailbox');
  return account;
}

export type UpdateOutcome = {
  /** IMAP host/port/user/password changed: the caller must verify the login before committing. */
  imapChanged: boolean;
  /** A password was re-entered on an account that needed it: sync resumes. */
  resumed: boolean;
  foldersChanged: boolean;
};

type ServerPatch = NonNullable<MailAccountPatch['imap']>;
type Current = { host: string | null; port: number | null; secure: boolean | null; username: string | null; allowInsecure: boolean };

/** Where a patch would send the password: a different host, port, login name or security than it was entered for. */
function movesCredentials(current: Current, p: ServerPatch): boolean {
  return (p.host !== undefined && p.host.trim() !== current.host) || (p.port !== undefined && p.port !== current.port)
    || (p.username !== undefined && p.username !== current.username) || (p.secure !== undefined && p.secure !== current.secure)
    || (p.allowInsecure !== undefined && p.allowInsecure !== current.allowInsecure);
}

const currentImap = (a: MailAccount): Current => ({ host: a.imapHost, port: a.imapPort, secure: a.imapSecure, username: a.imapUsername, allowInsecure: a.imapAllowInsecure });
const currentSmtp = (a: MailAccount): Current => ({ host: a.smtpHost ?? null, port: a.smtpPort ?? null, secure: a.smtpSecure ?? null, username: a.smtpUsername ?? null, allowInsecure: a.smtpAllowInsecure });

/**
 * Refuses a patch that would send a stored password somewhere it was not entered for (another host,
 * port, login name or security): the password must come with it. OAuth2 accounts get their servers
 * from the provider and change them only by reconnecting.
 */
export function checkCredentialPatch(account: MailAccount, patch: MailAccountPatch): void {
  const touched = (p: MailAccountPatch['imap'] | MailAccountPatch['smtp']) => p === null || (p !== undefined && Object.keys(p).length > 0);
  if (account.auth !== 'password' && (touched(patch.imap) || touched(patch.smtp))) {
    throw new RuleError('oauth_account', 'This mailbox signs in through its provider: reconnect it instead of changing its servers or password', touched(patch.imap) ? 'imap' : 'smtp');
  }
  if (patch.imap && patch.imap.password === undefined && movesCredentials(currentImap(account), patch.imap)) {
    throw new RuleError('password_required', 'Enter the IMAP password again: a stored password is only sent to the server it was entered for', 'imap.password');
  }
  if (patch.smtp && patch.smtp.password === undefined && (account.smtpHost === null || movesCredentials(currentSmtp(account), patch.smtp))) {
    throw new RuleError('password_required', 'Enter the SMTP password again: a stored password is only sent to the server it was entered for', 'smtp.password');
  }
  if (patch.smtp && account.smtpHost === null) {
    // Adding SMTP to a receive-only account: every setting is needed.
    for (const f of ['host', 'port', 'secure', 'username'] as const) {
      if (patch.smtp[f] === undefined) throw new InvalidInputError('smtp_incomplete', 'To send from this mailbox, give the SMTP host, port, security, user name and password', `smtp.${f}`);
    }
  }
}

/** The IMAP settings a patch would produce (for the caller's login check before saving). */
export async function previewImapSettings(em: Em, key: Buffer | null, account: MailAccount, patch: MailAccountPatch): Promise<ImapConnectSettings> {
  const current = await getImapSettings(em, key, account);
  const i = patch.imap ?? {};
  return {
    host: i.host?.trim() ?? current.host, port: i.port ?? current.port, secure: i.secure ?? current.secure,
    username: i.username ?? current.username, password: i.password ?? current.password,
    allowInsecure: i.allowInsecure ?? (i.secure === undefined ? current.allowInsecure : !i.secure),
  };
}

/** The SMTP settings a patch would produce, or null when it leaves SMTP alone or removes it. */
export async function previewSmtpSettings(em: Em, key: Buffer | null, account: MailAccount, patch: MailAccountPatch): Promise<SmtpConnectSettings | null> {
  const s = patch.smtp;
  if (!s || !Object.keys(s).length) return null;
  const current = (await getSmtpSettings(em, key, account)) ?? { host: '', port: 0, secure: false, username: '', password: '', allowInsecure: false };
  return {
    host: s.host?.trim() ?? current.host, port: s.port ?? current.port, secure: s.secure ?? current.secure,
    username: s.username ?? current.username, password: s.password ?? current.password,
    allowInsecure: s.allowInsecure ?? (s.secure === undefined ? current.allowInsecure : false),
  };
}

export async function updateMailAccount(em: Em, user: Pick<User, 'id' | 'role'>, account: MailAccount, patch: MailAccountPatch, key: Buffer | null): Promise<UpdateOutcome> {
  if (patch.visibility !== undefined && patch.visibility !== account.visibility) {
    if (user.role !== 'admin') throw new ForbiddenError('Only administrators can share a mailbox with everyone or make it private');
    if (patch.visibility === 'private' && account.owner.id !== user.id) throw new RuleError('not_owner', 'Only the owner can make a mailbox private', 'visibility');
    if (patch.visibility === 'private' && account.auth === 'oauth2-app') throw new RuleError('app_only_public', 'A mailbox connected with app-only access is always shared', 'visibility');
    account.visibility = patch.visibility;
  }
  checkCredentialPatch(account, patch);
  if (patch.imap) checkServer(patch.imap, 'imap');
  if (patch.smtp) checkServer(patch.smtp, 'smtp');
  if (patch.name !== undefined) account.name = patch.name.trim();
  if (patch.email !== undefined) account.email = patch.email.trim().toLowerCase();

  const i = patch.imap ?? {};
  const s = patch.smtp ?? {};
  const imapChanged = movesCredentials(currentImap(account), i) || i.password !== undefined;
  if (i.host !== undefined) account.imapHost = i.host.trim();
  if (i.port !== undefined) account.imapPort = i.port;
  if (i.secure !== undefined) { account.imapSecure = i.secure; account.imapAllowInsecure = i.allowInsecure ?? !i.secure; }
  else if (i.allowInsecure !== undefined) account.imapAllowInsecure = i.allowInsecure;
  if (i.username !== undefined) account.imapUsername = i.username;
  if (patch.smtp === null) {
    account.smtpHost = null; account.smtpPort = null; account.smtpSecure = null; account.smtpUsername = null; account.smtpAllowInsecure = false;
  }
  if (s.host !== undefined) account.smtpHost = s.host.trim();
  if (s.port !== undefined) account.smtpPort = s.port;
  if (s.secure !== undefined) { account.smtpSecure = s.secure; account.smtpAllowInsecure = s.allowInsecure ?? false; }
  else if (s.allowInsecure !== undefined) account.smtpAllowInsecure = s.allowInsecure;
  if (s.username !== undefined) account.smtpUsername = s.username;
  if (i.password !== undefined || s.password !== undefined || patch.smtp === null) {
    const current = openSecrets(key, await loadSecret(em, account));
    account.secret = sealServerSecret(key, { imapPassword: i.password ?? current.imapPassword, smtpPassword: patch.smtp === null ? '' : s.password ?? current.smtpPassword });
  }

  let resumed = false;
  if (imapChanged) {
    // The caller verified the new login: whatever stopped the sync is resolved.
    resumed = account.status === 'needs_reauth' || account.status === 'error';
    account.authFailures = 0;
    account.lastError = null;
    if (account.status !== 'syncing') account.status = 'idle';
  }

  let foldersChanged = false;
  if (patch.folders !== undefined) {
    const next = cleanFolders(patch.folders);
    foldersChanged = next.join('\n') !== account.extraFolders.join('\n');
    account.extraFolders = next;
    if (foldersChanged) {
      // A folder no longer picked stops being synced; its locations go with it (the content stays when
      // another folder or a client file still holds it).
      const boxes = await em.find(Mailbox, { account: account.id, role: 'other' });
      for (const box of boxes) if (!next.includes(box.path)) em.remove(box);
    }
  }
  return { imapChanged, resumed, foldersChanged };
}

/**
 * Deletes the account, its folders and locations, and the mail only it held (not filed to a client:
 * client history is the firm's). The caller removes the account's scheduler after the commit.
 */
export async function deleteMailAccount(em: Em, account: MailAccount): Promise<void> {
  const located = (op: '=' | '<>') => (eb: ExpressionBuilder<DB & { m: DB['message'] }, 'm'>) => eb.exists(
    eb.selectFrom('message_location as l').innerJoin('mailbox as b', 'b.id', 'l.mailbox_id').select('l.id')
      .whereRef('l.message_id', '=', 'm.id').where('b.account_id', op, account.id));
  await kysely(em).deleteFrom('message as m')
    .where(located('='))
    .where((eb) => eb.not(located('<>')(eb)))
    .where((eb) => eb.not(eb.exists(eb.selectFrom('communication as c').select('c.id').whereRef('c.message_id', '=', 'm.id'))))
    .where((eb) => eb.not(eb.exists(eb.selectFrom('document as d').select('d.id').whereRef('d.message_id', '=', 'm.id'))))
    .execute();
  em.remove(account);
}

/** The API view: never a password or secret; folder counts from the mailbox rows the sync keeps. */
export async function viewMailAccounts(em: Em, accounts: MailAccount[]): Promise<MailAccountView[]> {
  if (!accounts.length) return [];
  const boxes = await em.find(Mailbox, { account: { $in: accounts.map((a) => a.id) } }, { orderBy: { createdAt: 'asc', path: 'asc' } });
  const byAccount = new Map<string, Mailbox[]>();
  for (const b of boxes) {
    const list = byAccount.get(b.account.id) ?? [];
    list.push(b);
    byAccount.set(b.account.id, list);
  }
  const roleOrder: Record<FolderRole, number> = { inbox: 0, sent: 1, other: 2 };
  return accounts.map((a) => {
    const folders = (byAccount.get(a.id) ?? []).sort((x, y) => roleOrder[x.role] - roleOrder[y.role] || x.path.localeCompare(y.path));
    const running = folders.filter((f) => f.progressTotal > 0);
    const progress = running.length ? { done: running.reduce((n, f) => n + f.progressDone, 0), total: running.reduce((n, f) => n + f.progressTotal, 0) } : null;
    return {
      id: a.id, name: a.name, email: a.email, visibility: a.visibility,
      owner: { id: a.owner.id, name: a.owner.name },
      status: a.status, lastSyncAt: a.lastSyncAt?.toISOString() ?? null, lastError: a.lastError ?? null,
      folders: folders.map((f) => ({ path: f.path, role: f.role, serverMessages: f.serverMessages, storedMessages: f.storedMessages, failedMessages: f.failedMessages, syncedAt: f.syncedAt?.toISOString() ?? null })),
      progress,
      imap: { host: a.imapHost, port: a.imapPort, secure: a.imapSecure, username: a.imapUsername, allowInsecure: a.imapAllowInsecure },
      smtp: a.smtpHost && a.smtpPort != null && a.smtpSecure != null
        ? { host: a.smtpHost, port: a.smtpPort, secure: a.smtpSecure, username: a.smtpUsername ?? '', allowInsecure: a.smtpAllowInsecure }
        : null,
      auth: a.auth, provider: a.provider ?? null,
      extraFolders: [...a.extraFolders],
    };
  });
}

export const viewMailAccount = async (em: Em, account: MailAccount) => (await viewMailAccounts(em, [account]))[0]!;

/**
 * Starts (or restarts) an account's periodic sync and IDLE watcher, and asks for a sync now.
 * Call after the commit that created or resumed the account. Idempotent.
 */
export async function scheduleAccountSync(queue: JobQueue, intervalSeconds: number, accountId: string, reason: 'created' | 'manual' = 'manual'): Promise<void> {
  await queue.schedule(accountSchedulerId(accountId), intervalSeconds * 1000, 'sync-account', { accountId, reason: 'schedule' }, { key: accountJobKey(accountId) });
  await requestAccountSync(queue, accountId, reason);
  await scheduleReconciliation(queue, accountId);
  await queue.enqueue('watch-account', { accountId }, { attempts: 1 });
}

/** "Sync now": one sync job; jobs of one account never overlap (queue key + the account lease). */
export async function requestAccountSync(queue: JobQueue, accountId: string, reason: 'created' | 'manual' | 'idle' = 'manual'): Promise<void> {
  await queue.enqueue('sync-account', { accountId, reason }, { key: accountJobKey(accountId), attempts: 1 });
}

/** Hourly, after the sync jobs already queued (same key); a worker also asks for one after a folder's first pass. */
export async function scheduleReconciliation(queue: JobQueue, accountId: string): Promise<void> {
  await queue.schedule(reconcileSchedulerId(accountId), RECONCILE_EVERY_MS, 'reconcile-account', { accountId, reason: 'schedule' }, { key: accountJobKey(accountId) });
}

export async function unscheduleAccountSync(queue: JobQueue, accountId: string): Promise<void> {
  await queue.unschedule(accountSchedulerId(accountId));
  await queue.unschedule(reconcileSchedulerId(accountId));
}
