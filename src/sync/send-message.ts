// The only nodemailer import: composes outgoing mail (MailComposer, nodemailer's own header encoding) and
// hands the bytes to the account's SMTP server (SMTPConnection). Never touches the database. Header values
// are checked here once more, so no caller can inject a header field or a recipient.
import MailComposer from 'nodemailer/lib/mail-composer';
import SMTPConnection from 'nodemailer/lib/smtp-connection';
import XOAuth2 from 'nodemailer/lib/xoauth2';
import type { SmtpCheckResult } from '../core/mail/imap-check.entity.ts';
import { isIP } from 'node:net';
import { HostNotAllowedError, resolveMailHost, STRICT_MAIL_HOSTS, type MailHostPolicy } from '../core/mail/mail-hosts.ts';

export type MailAddress = { name?: string; address: string };
export type OutgoingAttachment = {
  filename: string;
  contentType: string;
  content: Buffer;
};
export type OutgoingMail = {
  from: MailAddress;
  to: MailAddress[];
  cc: MailAddress[];
  bcc: MailAddress[];
  subject: string;
  /** Plain text; line breaks in any convention (written as CRLF). */
  text: string;
  html: string | null;
  /** Message-ID, In-Reply-To and References ids without angle brackets. */
  messageId: string;
  inReplyTo: string | null;
  references: string[];
  /** Reply-To (RFC 5322 §3.6.2), e.g. a file request's plus-address token; null for none. */
  replyTo?: MailAddress | null;
  date: Date;
  attachments: OutgoingAttachment[];
};
export type ComposedMail = {
  /** The message as sent and as APPENDed to Sent: CRLF line endings only. */
  raw: Buffer;
  /** SMTP envelope (RFC 5321 §3.3): MAIL FROM and every To/Cc/Bcc recipient. Bcc never reaches the header. */
  envelope: { from: string; to: string[] };
};

export type SmtpSettings = {
  host: string;
  port: number;
  /** Implicit TLS (port 465). Without it STARTTLS is required unless allowInsecure. */
  secure: boolean;
  /** Plain text SMTP (and unverified certificates): only for servers on a trusted network. */
  allowInsecure: boolean;
  username: string;
  password: string;
  /** OAuth2 access token: AUTH XOAUTH2 instead of the password (RFC 7628 framing, Google's/Microsoft's mechanism). */
  accessToken?: string;
};
export type SmtpTimeouts = { connectMs?: number; socketMs?: number };

export type SmtpResult = {
  /** The server's final reply, e.g. "250 2.0.0 Ok: queued as ...". */
  response: string;
  accepted: string[];
  /** Recipients refused while others were accepted: the mail went out, but not to these. */
  rejected: { address: string; response: string }[];
};

/** A value that must not be put into a header (line break, control character, malformed id). */
export class UnsafeHeaderError extends Error {
  override name = 'UnsafeHeaderError';
}

/**
 * SMTP said no, or the connection failed. `permanent`: the same message would be refused again (5xx,
 * RFC 5321 §4.2.1). `ambiguous`: the failure came after the message may have been handed over (the
 * connection dropped or timed out during the transaction without a reply), so it may have been delivered.
 */
export class SmtpSendError extends Error {
  readonly stage: 'connect' | 'auth' | 'send';
  readonly responseCode: number | null;
  readonly permanent: boolean;
  readonly ambiguous: boolean;
  /** The TLS handshake or STARTTLS upgrade failed (nodemailer's ETLS). */
  readonly tls: boolean;
  override name = 'SmtpSendError';
  constructor(message: string, init: { stage: 'connect' | 'auth' | 'send'; responseCode: number | null; permanent: boolean; ambiguous: boolean; tls?: boolean }) {
    super(message);
    this.tls = init.tls ?? false;
    this.stage = init.stage;
    this.responseCode = init.responseCode;
    this.permanent = init.permanent;
    this.ambiguous = init.ambiguous;
  }
}

// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROLS = /[\u0000-\u001f\u007f\u2028\u2029]/u;
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const ID_FORBIDDEN = /[\s\u0000-\u001f\u007f<>]/u;
/** Dot-atom local part @ domain: what we send to (quoted local parts are refused upstream too). */
const ADDRESS = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~\u0080-\u{10FFFF}-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~\u0080-\u{10FFFF}-]+)*@[A-Za-z0-9_\u0080-\u{10FFFF}-]+(?:\.[A-Za-z0-9_\u0080-\u{10FFFF}-]+)*$/u;

function checkText(value: string, what: string): void {
  if (CONTROLS.test(value)) throw new UnsafeHeaderError(`${what} contains a line break or control character`);
}
function checkAddress(a: MailAddress, what: string): void {
  if (!ADDRESS.test(a.address) || a.address.length > 320) throw new UnsafeHeaderError(`${what} address is not a plain e-mail address`);
  checkText(a.name ?? '', `${what} name`);
}
function checkId(id: string, what: string): void {
  if (id.length === 0 || id.length > 900 || ID_FORBIDDEN.test(id) || !id.includes('@')) throw new UnsafeHeaderError(`${what} is not a valid message id`);
}

/**
 * Every line ending as CRLF (RFC 5322 §2.3: CR and LF only together). A bare CR or LF left in the data is
 * what SMTP smuggling needs ("<LF>.<LF>" read as end-of-data by one server and not by another).
 */
export function toCrlf(raw: Buffer): Buffer {
  // latin1 maps bytes 1:1 to code units, so this is a byte-level rewrite that leaves 8-bit data intact.
  return Buffer.from(raw.toString('latin1').replace(/\r\n|\r|\n/gu, '\r\n'), 'latin1');
}

/** Builds the message. Throws UnsafeHeaderError rather than letting a header value through unchecked. */
export async function composeMail(mail: OutgoingMail): Promise<ComposedMail> {
  checkAddress(mail.from, 'From');
  for (const [list, what] of [[mail.to, 'To'], [mail.cc, 'Cc'], [mail.bcc, 'Bcc']] as const) list.forEach((a) => checkAddress(a, what));
  checkText(mail.subject, 'Subject');
  checkId(mail.messageId, 'Message-ID');
  if (mail.inReplyTo !== null) checkId(mail.inReplyTo, 'In-Reply-To');
  mail.references.forEach((id) => checkId(id, 'References'));
  if (mail.replyTo) checkAddress(mail.replyTo, 'Reply-To');
  for (const a of mail.attachments) checkText(a.filename, 'Attachment name');
  const recipients = [...mail.to, ...mail.cc, ...mail.bcc].map((a) => a.address);
  if (recipients.length === 0) throw new UnsafeHeaderError('no recipients');

  const addr = (a: MailAddress) => ({ name: a.name ?? '', address: a.address });
  const composer = new MailComposer({
    from: addr(mail.from),
    to: mail.to.map(addr),
    cc: mail.cc.length ? mail.cc.map(addr) : undefined,
    bcc: mail.bcc.length ? mail.bcc.map(addr) : undefined,
    replyTo: mail.replyTo ? addr(mail.replyTo) : undefined,
    subject: mail.subject,
    messageId: `<${mail.messageId}>`,
    inReplyTo: mail.inReplyTo ? `<${mail.inReplyTo}>` : undefined,
    references: mail.references.length ? mail.references.map((id) => `<${id}>`) : undefined,
    date: mail.date,
    // LF only in, so the CRLF rewrite below cannot double a line break.
    text: mail.text.replace(/\r\n?/gu, '\n'),
    html: mail.html ?? undefined,
    attachments: mail.attachments.map((a) => ({ filename: a.filename, contentType: a.contentType, content: a.content })),
    // Content is always given as bytes: never let a value make nodemailer read a file or fetch a URL.
    disableFileAccess: true,
    disableUrlAccess: true,
  });
  const node = composer.compile();
  // Bcc goes into the envelope only (RFC 5322 §3.6.3 allows either; the header would reveal the list).
  node.keepBcc = false;
  const raw = toCrlf(await node.build());
  return { raw, envelope: { from: mail.from.address, to: [...new Set(recipients)] } };
}

type NodemailerError = Error & { code?: string; responseCode?: number; response?: string; permanent?: boolean };

/**
 * The server's own words when it gave an SMTP reply ("550 5.7.1 Relaying denied", RFC 5321 §4.2: three
 * digits, then space or dash), first line only; else our message. Whatever else a peer sent (an HTTP
 * server's page, a banner of an internal service) is never repeated to the user.
 */
const wordsOf = (err: NodemailerError) => {
  const first = err.response ? String(err.response).split(/\r?\n/)[0]! : '';
  if (/^[2-5]\d\d(?:[ -]|$)/.test(first)) return first.slice(0, 300);
  return (typeof err.responseCode === 'number' ? `the server answered ${err.responseCode}` : err.message.split(/\r?\n/)[0]!).slice(0, 300);
};

function classify(err: unknown, stage: 'connect' | 'auth' | 'send'): SmtpSendError {
  const e = err as NodemailerError;
  const code = typeof e.responseCode === 'number' ? e.responseCode : null;
  // 5xx is permanent (RFC 5321 §4.2.1) except 503 (bad sequence: a fresh session may succeed).
  const permanent = code !== null && code >= 500 && code < 600 && code !== 503;
  // With a reply code the server refused the transaction: nothing was delivered. Without one, a failure
  // during the transaction may have come after the server took the message (reply lost, timeout).
  const ambiguous = stage === 'send' && code === null && e.code !== 'EENVELOPE' && e.code !== 'EMESSAGE';
  return new SmtpSendError(wordsOf(e), { stage, responseCode: code, permanent, ambiguous, tls: e.code === 'ETLS' });
}

/** Resolves and checks the host, then connects to the checked address: the name can't be re-pointed in between. */
async function connectionFor(smtp: SmtpSettings, timeouts: SmtpTimeouts, hosts: MailHostPolicy): Promise<SMTPConnection> {
  let address: string;
  try {
    address = await resolveMailHost(smtp.host, hosts);
  } catch (err) {
    const message = err instanceof HostNotAllowedError ? err.message : `the host name ${smtp.host} could not be resolved`;
    throw new SmtpSendError(message, { stage: 'connect', responseCode: null, permanent: err instanceof HostNotAllowedError, ambiguous: false, tls: false });
  }
  return new SMTPConnection({
    host: address,
    // TLS still checks the certificate against the name the user gave.
    servername: isIP(smtp.host.trim()) ? undefined : smtp.host.trim(),
    port: smtp.port,
    secure: smtp.secure,
    // TLS by default: STARTTLS is required on a non-TLS port unless the account allows plain text.
    requireTLS: !smtp.secure && !smtp.allowInsecure,
    tls: { rejectUnauthorized: !smtp.allowInsecure },
    connectionTimeout: timeouts.connectMs ?? 30_000,
    greetingTimeout: timeouts.connectMs ?? 30_000,
    socketTimeout: timeouts.socketMs ?? 120_000,
    logger: false,
  });
}

/** AUTH with the password, or XOAUTH2 with the access token (nodemailer's own XOAUTH2 support). */
function authFor(smtp: SmtpSettings): Parameters<SMTPConnection['login']>[0] {
  if (smtp.accessToken) {
    // No refresh settings: the worker refreshes tokens itself (one refresh at a time per account).
    const oauth2 = new XOAuth2({ user: smtp.username, accessToken: smtp.accessToken }) as unknown as SMTPConnection.AuthenticationOAuth2['oauth2'];
    return { oauth2 };
  }
  return { user: smtp.username, pass: smtp.password };
}

/** Runs connect (+ auth) on a fresh connection, routing 'error' events to the step in progress. */
function stepper(conn: SMTPConnection) {
  // Some failures (a refused connection, a TLS error) come only as an 'error' event, not through the
  // callback: route them to the step in progress. Unhandled, the event would crash the worker.
  let stage: 'connect' | 'auth' | 'send' = 'connect';
  let fail: ((err: SmtpSendError) => void) | null = null;
  conn.on('error', (err: unknown) => fail?.(classify(err, stage)));
  conn.on('end', () => fail?.(classify(Object.assign(new Error('the connection closed unexpectedly'), { code: 'ECONNECTION' }), stage)));
  return <T>(s: typeof stage, run: (ok: (v: T) => void, ko: (e: unknown) => void) => void) =>
    new Promise<T>((resolve, reject) => {
      stage = s;
      fail = reject;
      run(resolve, (e) => reject(classify(e, s)));
    }).finally(() => {
      fail = null;
    });
}

/** Opens a session with the account's server, authenticates, sends one message and quits. */
export async function sendMail(smtp: SmtpSettings, composed: ComposedMail, timeouts: SmtpTimeouts & { hosts?: MailHostPolicy } = {}): Promise<SmtpResult> {
  const conn = await connectionFor(smtp, timeouts, timeouts.hosts ?? STRICT_MAIL_HOSTS);
  const step = stepper(conn);
  try {
    await step<void>('connect', (ok, ko) => conn.connect((err) => (err ? ko(err) : ok())));
    if (smtp.username) {
      await step<void>('auth', (ok, ko) => conn.login(authFor(smtp), (err) => (err ? ko(err) : ok())));
    }
    const info = await step<SMTPConnection.SentMessageInfo>('send', (ok, ko) => conn.send(composed.envelope, composed.raw, (err, result) => (err ? ko(err) : ok(result))));
    const rejectedErrors = (info.rejectedErrors ?? []) as NodemailerError[];
    conn.quit();
    return {
      response: info.response,
      accepted: info.accepted,
      rejected: info.rejected.map((address, i) => ({ address, response: rejectedErrors[i] ? wordsOf(rejectedErrors[i]) : 'rejected' })),
    };
  } catch (err) {
    conn.close();
    throw err instanceof SmtpSendError ? err : classify(err, 'send');
  }
}

const TLS_WORDS = /\b(TLS|SSL|STARTTLS|certificate|self[- ]signed|wrong version number)\b/iu;

/**
 * The add/change check of an account's SMTP side: connect, EHLO, TLS as configured, AUTH, QUIT — no
 * mail is sent. Never throws; the server's one-line reply is kept for the user.
 */
export async function checkSmtpLogin(smtp: SmtpSettings, timeouts: SmtpTimeouts = { connectMs: 15_000, socketMs: 20_000 }, hosts: MailHostPolicy = STRICT_MAIL_HOSTS): Promise<SmtpCheckResult> {
  let conn: SMTPConnection;
  try {
    conn = await connectionFor(smtp, timeouts, hosts);
  } catch (err) {
    return { ok: false, code: 'smtp_unreachable', message: (err as Error).message };
  }
  const step = stepper(conn);
  try {
    await step<void>('connect', (ok, ko) => conn.connect((err) => (err ? ko(err) : ok())));
    if (smtp.username) await step<void>('auth', (ok, ko) => conn.login(authFor(smtp), (err) => (err ? ko(err) : ok())));
    conn.quit();
    return { ok: true };
  } catch (err) {
    conn.close();
    const e = err instanceof SmtpSendError ? err : classify(err, 'connect');
    const line = e.message.split(/\r?\n/u)[0]!.trim().slice(0, 300);
    if (e.stage === 'auth') return { ok: false, code: 'smtp_auth_failed', message: line };
    return { ok: false, code: TLS_WORDS.test(line) || e.tls ? 'smtp_tls_failed' : 'smtp_unreachable', message: line };
  }
}
