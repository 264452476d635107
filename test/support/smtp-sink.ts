// Test harness: a real SMTP peer (the smtp-server package) on a free loopback port that records what it receives
// and can be told to refuse the next messages with a given reply code. No TLS and no relaying: it keeps mail in memory.
import { SMTPServer } from 'smtp-server';
import type { SMTPServerAddress, SMTPServerSession } from 'smtp-server';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';

export type SmtpMessage = {
  /** Envelope sender (MAIL FROM), '' for the null sender. */
  from: string;
  /** Envelope recipients (RCPT TO), in order. */
  to: string[];
  /** The message exactly as received after DATA (dot-unstuffed). */
  raw: Buffer;
  /** The AUTH user, when the client authenticated. */
  authUser: string | undefined;
  /** The SASL mechanism it authenticated with (PLAIN, LOGIN, XOAUTH2). */
  authMethod: string | undefined;
  receivedAt: Date;
};

export type SmtpStage = 'mail' | 'rcpt' | 'data';

export type SmtpRejection = { stage: SmtpStage; code: number; from: string; to: string[] };

export type SmtpSinkOptions = {
  /** Credentials AUTH must match; generated when omitted. */
  user?: string;
  password?: string;
  /** Refuse mail from clients that did not AUTH (530). Off by default: AUTH is optional. */
  requireAuth?: boolean;
  /**
   * Also accept AUTH XOAUTH2, validating the access token the way a provider's server would: `introspect`
   * (RFC 7662) must say it is active and name the AUTH user as its `email`.
   */
  oauth2?: { introspect: (token: string) => Promise<{ active: boolean; email?: string }> };
};

/** The mechanism each session authenticated with. */
const authMethods = new WeakMap<object, string>();

type Pending = { remaining: number; code: number; message: string; stage: SmtpStage };

function smtpError(code: number, message: string): Error {
  return Object.assign(new Error(message), { responseCode: code });
}

function addressOf(a: SMTPServerAddress | false): string {
  return a ? a.address : '';
}

export class SmtpSink {
  readonly host = '127.0.0.1';
  readonly port: number;
  readonly user: string;
  readonly password: string;
  /** Accepted messages, in arrival order. */
  readonly messages: SmtpMessage[] = [];
  /** Transactions this sink refused on purpose (rejectNext), in order. */
  readonly rejections: SmtpRejection[] = [];
  #server: SMTPServer;
  #pending: Pending | undefined;
  #refused = new WeakMap<object, Error>();
  #waiters = new Set<() => void>();
  #open = new Set<string>();
  #settleWaiters = new Set<() => void>();

  constructor(init: { port: number; user: string; password: string; server: SMTPServer }) {
    this.port = init.port;
    this.user = init.user;
    this.password = init.password;
    this.#server = init.server;
  }

  /**
   * Refuses the next `count` transactions with `code` (4xx: transient, the sender should retry; 5xx: permanent),
   * at the end of DATA by default, or already at MAIL FROM / RCPT TO.
   */
  rejectNext(count: number, code = 451, opts: { stage?: SmtpStage; message?: string } = {}): void {
    const message = opts.message ?? (code >= 500 ? 'Requested action not taken (test sink)' : 'Try again later (test sink)');
    this.#pending = count > 0 ? { remaining: count, code, message, stage: opts.stage ?? 'data' } : undefined;
  }

  /** Resolves with the first received message matching `predicate` (already received or yet to come). */
  waitFor(predicate: (m: SmtpMessage) => boolean = () => true, timeoutMs = 5000): Promise<SmtpMessage> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = this.messages.find(predicate);
        if (!found) return false;
        clearTimeout(timer);
        this.#waiters.delete(check);
        resolve(found);
        return true;
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(check);
        const seen = this.messages.map((m) => `${m.from} -> ${m.to.join(',')}`).join('; ') || 'nothing';
        reject(new Error(`SMTP sink: no matching message within ${timeoutMs} ms (received: ${seen})`));
      }, timeoutMs);
      if (!check()) this.#waiters.add(check);
    });
  }

  /**
   * Resolves once every SMTP session opened so far has closed. Then every transaction a client sent, including
   * one smuggled inside another's DATA, has been recorded or refused: a check that something did not arrive
   * waits for this instead of sleeping.
   */
  settled(timeoutMs = 10_000): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (this.#open.size) return false;
        clearTimeout(timer);
        this.#settleWaiters.delete(check);
        resolve();
        return true;
      };
      const timer = setTimeout(() => {
        this.#settleWaiters.delete(check);
        reject(new Error(`SMTP sink: ${this.#open.size} session(s) still open after ${timeoutMs} ms`));
      }, timeoutMs);
      if (!check()) this.#settleWaiters.add(check);
    });
  }

  /** Called by the server hooks when a client connects and when its session ends. */
  opened(session: SMTPServerSession): void {
    this.#open.add(session.id);
  }

  closed(session: SMTPServerSession): void {
    this.#open.delete(session.id);
    for (const w of [...this.#settleWaiters]) w();
  }

  /** Forgets received messages and rejections (and any pending rejectNext). */
  clear(): void {
    this.messages.length = 0;
    this.rejections.length = 0;
    this.#pending = undefined;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }

  /** Called by the server hooks: should this transaction be refused at `stage`? */
  refusal(stage: SmtpStage, session: SMTPServerSession, address?: SMTPServerAddress): Error | undefined {
    // One rejectNext count per transaction: all recipients of a refused transaction are refused alike
    // (smtp-server starts a new envelope object per transaction; a refused MAIL FROM keeps the old one).
    const envelope = session.envelope as object;
    const already = stage === 'rcpt' ? this.#refused.get(envelope) : undefined;
    if (already) return already;
    const p = this.#pending;
    if (!p || p.stage !== stage) return undefined;
    p.remaining -= 1;
    if (p.remaining <= 0) this.#pending = undefined;
    const from = stage === 'mail' && address ? address.address : addressOf(session.envelope.mailFrom);
    const to = session.envelope.rcptTo.map((a) => a.address);
    if (stage === 'rcpt' && address) to.push(address.address);
    this.rejections.push({ stage, code: p.code, from, to });
    const err = smtpError(p.code, p.message);
    this.#refused.set(envelope, err);
    return err;
  }

  record(session: SMTPServerSession, raw: Buffer): void {
    this.messages.push({
      from: addressOf(session.envelope.mailFrom),
      to: session.envelope.rcptTo.map((a) => a.address),
      raw,
      authUser: session.user,
      authMethod: authMethods.get(session),
      receivedAt: new Date(),
    });
    for (const w of [...this.#waiters]) w();
  }
}

export async function startSmtpSink(opts: SmtpSinkOptions = {}): Promise<SmtpSink> {
  const user = opts.user ?? `smtp-${randomBytes(4).toString('hex')}`;
  const password = opts.password ?? randomBytes(9).toString('base64url');
  // The server's hooks need the sink, the sink needs the server's port.
  const box: { sink?: SmtpSink } = {};
  const server = new SMTPServer({
    secure: false,
    disabledCommands: ['STARTTLS'],
    authOptional: !opts.requireAuth,
    allowInsecureAuth: true,
    authMethods: opts.oauth2 ? ['PLAIN', 'LOGIN', 'XOAUTH2'] : ['PLAIN', 'LOGIN'],
    logger: false,
    size: 64 * 1024 * 1024,
    closeTimeout: 200,
    onConnect(session, callback) {
      box.sink?.opened(session);
      callback();
    },
    onClose(session) {
      box.sink?.closed(session);
    },
    onAuth(auth, session, callback) {
      authMethods.set(session, auth.method);
      if (auth.method === 'XOAUTH2') {
        if (!opts.oauth2 || !auth.accessToken) return callback(smtpError(535, 'Authentication credentials invalid'));
        const name = auth.username ?? '';
        opts.oauth2.introspect(auth.accessToken).then(
          // RFC 7628 §3.2.2-style failure: the client is told to fetch a new token (nodemailer then retries once).
          (info) => (info.active && info.email === name ? callback(null, { user: name }) : callback(null, { data: { status: '401', schemes: 'bearer' } })),
          (err: unknown) => callback(err as Error),
        );
        return;
      }
      if (auth.username === user && auth.password === password) callback(null, { user });
      else callback(smtpError(535, 'Authentication credentials invalid'));
    },
    onMailFrom(address, session, callback) {
      callback(box.sink?.refusal('mail', session, address));
    },
    onRcptTo(address, session, callback) {
      callback(box.sink?.refusal('rcpt', session, address));
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('error', (err) => callback(err));
      stream.on('end', () => {
        const refused = box.sink?.refusal('data', session);
        if (refused) return callback(refused);
        box.sink?.record(session, Buffer.concat(chunks));
        callback(null, 'Queued (test sink)');
      });
    },
  });
  const port = await new Promise<number>((resolve, reject) => {
    server.server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.server.address() as AddressInfo).port));
  });
  // A test that forgets close() should not keep its process alive.
  server.server.unref();
  box.sink = new SmtpSink({ port, user, password, server });
  return box.sink;
}
