// The one place an IMAP connection is made (`new ImapFlow`), plus what every caller needs around it:
// TLS policy, error classification in plain words, the folder list. Never alters a mailbox: callers
// open folders read-only (EXAMINE, RFC 3501 §6.3.2), so no \Seen is set and nothing is expunged.
import { ImapFlow, type ImapFlowOptions, type ListResponse } from 'imapflow';
import type { ImapConnectSettings } from '../core/mail/accounts.ts';
import { resolveMailHost, STRICT_MAIL_HOSTS, type MailHostPolicy } from '../core/mail/mail-hosts.ts';
import { isIP } from 'node:net';
import type { ImapCheckResult, ServerFolder } from '../core/mail/imap-check.entity.ts';

export type { ImapFlow } from 'imapflow';

export type OpenImapOptions = {
  /** Abort the connect (and close the connection later) when this fires. */
  signal?: AbortSignal;
  /** Connection id for the server's and our logs. */
  id?: string;
  connectTimeoutMs?: number;
  /** A connection that sits in IDLE: restart IDLE this often (RFC 2177 asks for less than 29 minutes). */
  idleRestartMs?: number;
  /**
   * Silence that counts as a dead connection (default 120 s): waiting this long for an answer fails the command
   * (ETIMEOUT); on a connection that is quiet by design (IDLE) imapflow sends NOOP after this long and drops the
   * connection when that NOOP is not answered within the same time. No FIN ever comes from a black-holed path.
   */
  socketTimeoutMs?: number;
  /** Which addresses may be connected to (default: public ones only). */
  hosts?: MailHostPolicy;
};

/** Connects and logs in. TLS is required unless the account explicitly allows plain text. */
export async function openImap(settings: ImapConnectSettings, opts: OpenImapOptions = {}): Promise<ImapFlow> {
  // Resolved and checked here, then connected to by address: the name can't be re-pointed in between.
  const address = await resolveMailHost(settings.host, opts.hosts ?? STRICT_MAIL_HOSTS).catch((err: unknown) => {
    throw Object.assign(err as Error, { code: (err as { code?: string }).code === 'host_not_allowed' ? 'EHOSTNOTALLOWED' : (err as { code?: string }).code });
  });
  const options: ImapFlowOptions = {
    host: address,
    // TLS still checks the certificate against the name the user gave.
    servername: isIP(settings.host.trim()) ? undefined : settings.host.trim(),
    port: settings.port,
    secure: settings.secure,
    // Without implicit TLS, STARTTLS is mandatory unless plain text was asked for (then taken when offered).
    doSTARTTLS: settings.secure ? undefined : settings.allowInsecure ? undefined : true,
    // OAuth2 accounts: imapflow's own SASL (OAUTHBEARER when offered, else XOAUTH2) with the access token.
    auth: settings.accessToken ? { user: settings.username, accessToken: settings.accessToken } : { user: settings.username, pass: settings.password },
    logger: false,
    // QRESYNC (RFC 7162) lets a flag sync report expunged UIDs as VANISHED instead of a UID diff.
    qresync: true,
    // IDLE only where we ask for it (idle.ts); a sync connection keeps issuing commands.
    disableAutoIdle: true,
    connectionTimeout: opts.connectTimeoutMs ?? 20_000,
    greetingTimeout: 15_000,
    socketTimeout: opts.socketTimeoutMs ?? 120_000,
    clientInfo: { name: 'Dossier', vendor: 'Dossier' },
    id: opts.id,
    maxIdleTime: opts.idleRestartMs,
  };
  const client = new ImapFlow(options);
  // An 'error' event without a listener would crash the process; failures surface through the pending command.
  client.on('error', () => undefined);
  const onAbort = () => client.close();
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    await client.connect();
  } catch (err) {
    opts.signal?.removeEventListener('abort', onAbort);
    client.close();
    throw err;
  }
  client.once('close', () => opts.signal?.removeEventListener('abort', onAbort));
  return client;
}

/** Logs out politely, or just closes when the connection is already broken. Never throws. */
export async function closeImap(client: ImapFlow | null | undefined): Promise<void> {
  if (!client) return;
  if (!client.usable) {
    client.close();
    return;
  }
  const timer = setTimeout(() => client.close(), 3000);
  try {
    await client.logout();
  } catch {
    client.close();
  } finally {
    clearTimeout(timer);
  }
}

export type ImapErrorKind = 'auth' | 'network' | 'protocol';
export type ClassifiedError = { kind: ImapErrorKind; message: string; code: string | undefined };

const NETWORK_CODES: Record<string, string> = {
  ECONNREFUSED: 'the server refused the connection',
  ECONNRESET: 'the connection was reset',
  ENOTFOUND: 'the host name was not found',
  EAI_AGAIN: 'the host name could not be resolved right now',
  EHOSTUNREACH: 'the host cannot be reached',
  EHOSTNOTALLOWED: 'its address is on a private or internal network, which Dossier does not connect to',
  ENETUNREACH: 'the network cannot be reached',
  ETIMEDOUT: 'the connection timed out',
  ETIMEOUT: 'the server stopped answering',
  CONNECT_TIMEOUT: 'the connection timed out',
  GREETING_TIMEOUT: 'the server did not greet in time',
  UPGRADE_TIMEOUT: 'the TLS upgrade timed out',
  NoConnection: 'the connection was lost',
  EConnectionClosed: 'the connection was closed',
  ClosedAfterConnectText: 'the server closed the connection right away',
  ClosedAfterConnectTLS: 'the server closed the TLS connection right away',
  EPIPE: 'the connection was broken',
  ETHROTTLE: 'the server is throttling requests',
};

/** One line, within reason: a server's words end up in the account's error and in the check's answer. */
const oneLine = (s: string) => s.split(/\r?\n/)[0]!.replace(/\p{Cc}/gu, ' ').trim().slice(0, 300);

/**
 * The server's words only when it answered as an IMAP server: the text of a parsed status response (imapflow's
 * responseText), or a raw line that is an IMAP status line (RFC 9051 §7.1). Anything else a peer sent (an
 * HTTP server's page, another service's banner) is never repeated: "check and add" must not read out
 * internal services.
 */
function imapStatusText(responseText: string | undefined, response: unknown): string | undefined {
  if (responseText) return oneLine(responseText);
  if (typeof response === 'string' && /^(\*|[A-Za-z0-9.]+) (OK|NO|BAD|BYE|PREAUTH)\b/i.test(response)) return oneLine(response);
  return undefined;
}

/**
 * What went wrong, in words a user can act on. Authentication failures carry the server's own text
 * (RFC 5530 response codes such as AUTHENTICATIONFAILED). A server that is only temporarily
 * refusing logins (UNAVAILABLE) counts as unreachable, not as a wrong password.
 */
export function classifyImapError(err: unknown): ClassifiedError {
  const e = (err ?? {}) as { code?: string; message?: string; authenticationFailed?: boolean; responseText?: string; serverResponseCode?: string; tlsFailed?: boolean; response?: unknown };
  const serverText = imapStatusText(e.responseText, e.response);
  if (e.authenticationFailed && e.serverResponseCode !== 'UNAVAILABLE') {
    return { kind: 'auth', code: e.serverResponseCode ?? e.code, message: `The server refused the login: ${serverText || e.message || 'authentication failed'}` };
  }
  if (e.tlsFailed) return { kind: 'network', code: e.code, message: `Secure connection failed: ${oneLine(e.message ?? 'TLS error')}` };
  const code = e.code;
  if (code === 'EHOSTNOTALLOWED') return { kind: 'network', code, message: `Cannot connect to the mail server: ${NETWORK_CODES[code]}` };
  if (code && NETWORK_CODES[code]) return { kind: 'network', code, message: `Cannot reach the mail server: ${NETWORK_CODES[code]}${e.message && !e.message.includes(code) ? ` (${oneLine(e.message)})` : ` (${code})`}` };
  if (/certificate|self[- ]signed|TLS|SSL/i.test(e.message ?? '')) return { kind: 'network', code, message: `Secure connection failed: ${oneLine(e.message ?? '')}` };
  if (serverText) return { kind: 'protocol', code, message: `The mail server answered: ${serverText}` };
  return { kind: 'protocol', code, message: oneLine(e.message || String(err)) };
}

export const isAuthError = (err: unknown) => classifyImapError(err).kind === 'auth';
export const isNetworkError = (err: unknown) => classifyImapError(err).kind === 'network';

const folderOf = (f: ListResponse): ServerFolder => ({ path: f.path, name: f.name, specialUse: f.specialUse ?? null, delimiter: f.delimiter });

/** Every selectable folder the server lists, INBOX first. */
export async function listServerFolders(client: ImapFlow): Promise<ServerFolder[]> {
  const list = await client.list();
  return list
    .filter((f) => !f.flags.has('\\Noselect') && !f.flags.has('\\NonExistent'))
    .map(folderOf)
    .sort((a, b) => (a.path === 'INBOX' ? -1 : b.path === 'INBOX' ? 1 : a.path.localeCompare(b.path)));
}

/** Logs in (and lists folders when asked) for the API's credential check; never throws. */
export async function checkImapLogin(settings: ImapConnectSettings, withFolders: boolean, hosts: MailHostPolicy = STRICT_MAIL_HOSTS): Promise<ImapCheckResult> {
  let client: ImapFlow | null = null;
  try {
    client = await openImap(settings, { connectTimeoutMs: 15_000, hosts });
    const folders = withFolders ? await listServerFolders(client) : undefined;
    return folders ? { ok: true, folders } : { ok: true };
  } catch (err) {
    const c = classifyImapError(err);
    return { ok: false, code: c.kind === 'auth' ? 'imap_auth_failed' : 'imap_unreachable', message: c.message };
  } finally {
    await closeImap(client);
  }
}

// ---------------------------------------------------------------- sent copies (send-outbox.ts)
// The one place Dossier writes to a mailbox: it APPENDs the copy of a message it sent itself.

/** Names clients commonly use for the sent folder, for servers without RFC 6154 special-use flags. */
const SENT_FOLDER_NAMES = ['Sent', 'Sent Items', 'Sent Messages', 'Sent Mail', 'INBOX.Sent', 'INBOX/Sent', '[Gmail]/Sent Mail'];

/** The folder the server marks \Sent (RFC 6154), else one with a conventional name; null when there is none. */
export async function findSentFolder(client: ImapFlow): Promise<string | null> {
  const folders = await listServerFolders(client);
  const flagged = folders.find((f) => f.specialUse === '\\Sent');
  if (flagged) return flagged.path;
  for (const name of SENT_FOLDER_NAMES) {
    const found = folders.find((f) => f.path.toLowerCase() === name.toLowerCase());
    if (found) return found.path;
  }
  return null;
}

/**
 * UIDs of the messages in `path` whose Message-ID is exactly `messageId` (without angle brackets).
 * SEARCH HEADER matches substrings (RFC 3501 §6.4.4), so each hit's envelope is checked. Read-only (EXAMINE).
 */
export async function searchByMessageId(client: ImapFlow, path: string, messageId: string): Promise<number[]> {
  const lock = await client.getMailboxLock(path, { readOnly: true });
  try {
    const hits = await client.search({ header: { 'message-id': `<${messageId}>` } }, { uid: true });
    if (!hits || hits.length === 0) return [];
    const exact: number[] = [];
    for await (const msg of client.fetch(hits, { uid: true, envelope: true }, { uid: true })) {
      if (msg.envelope?.messageId === `<${messageId}>`) exact.push(msg.uid);
    }
    return exact;
  } finally {
    lock.release();
  }
}

/** APPENDs a raw message (RFC 3501 §6.3.11) with these flags; the new UID when the server reports it (UIDPLUS). */
export async function appendMessage(client: ImapFlow, path: string, raw: Buffer, flags: string[]): Promise<{ uid: number | null }> {
  const res = await client.append(path, raw, flags, new Date());
  if (!res) throw new Error(`the server did not accept the message into ${path}`);
  return { uid: res.uid ?? null };
}
