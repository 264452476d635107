// Fixtures for sending tests: a staff user with a mail account on the test Dovecot (IMAP) and the SMTP sink
// (SMTP), and received mail stored as the sync stores it, so a reply can be queued to it.
import { randomUUID } from 'node:crypto';
import type { BlobStore } from '../../src/core/blobs/blob-store.ts';
import type { Config } from '../../src/core/platform/config.ts';
import type { Db } from '../../src/core/platform/db.ts';
import { createMailAccount } from '../../src/core/mail/accounts.ts';
import { Mailbox, type MailAccount, type SentCopyMode, type Visibility } from '../../src/core/mail/mail-account.entity.ts';
import { Message, MessageAddress, MessageLocation } from '../../src/core/mail/message.entity.ts';
import { User } from '../../src/core/staff/user.entity.ts';
import { parseMessage } from '../../src/sync/parse-message.ts';
import { createTestUser } from './app.ts';
import type { Dovecot, MailUser } from './dovecot.ts';
import type { SmtpSink } from './smtp-sink.ts';
import { uniq } from './env.ts';

export type SendingFixture = { user: User; email: string; account: MailAccount; mail: MailUser; inbox: Mailbox };
export type SendingServices = { db: Db; config: Config; blobs: BlobStore; dovecot: Dovecot; sink: SmtpSink };

export async function createSendingAccount(s: SendingServices, opts: { email?: string; sentCopy?: SentCopyMode; signature?: string; visibility?: Visibility; owner?: User } = {}): Promise<SendingFixture> {
  const created = opts.owner ? null : await createTestUser(s.db, opts.visibility === 'public' ? 'admin' : 'staff', 'Ana Firm');
  const userId = opts.owner?.id ?? created!.user.id;
  const mail = await s.dovecot.addUser({ prefix: 'send' });
  const em = s.db.em.fork();
  if (opts.signature) await em.nativeUpdate(User, { id: userId }, { signature: opts.signature });
  const user = await em.findOneOrFail(User, { id: userId });
  const account = await createMailAccount(em, user, {
    name: 'Ana at the firm', email: opts.email ?? mail.email, visibility: opts.visibility ?? 'private',
    imap: { host: mail.host, port: mail.port, secure: false, username: mail.user, password: mail.password, allowInsecure: true },
    smtp: { host: s.sink.host, port: s.sink.port, secure: false, username: s.sink.user, password: s.sink.password, allowInsecure: true },
  }, s.config.secretKey);
  if (opts.sentCopy) account.sentCopy = opts.sentCopy;
  await em.flush();
  const inbox = await em.findOneOrFail(Mailbox, { account: account.id, path: 'INBOX' });
  await em.nativeUpdate(Mailbox, { id: inbox.id }, { uidValidity: '1' });
  return { user, email: created?.email ?? user.email, account, mail, inbox };
}

/**
 * Delivers raw mail to the account's Dovecot INBOX and stores it as the sync would: our real parser,
 * then content, address and location rows (written here so sending tests do not depend on the sync engine).
 */
export async function receiveMail(s: SendingServices, f: SendingFixture, raw: Buffer): Promise<string> {
  const uid = await s.dovecot.deliver(f.mail.user, raw);
  const em = s.db.em.fork();
  const stored = await s.blobs.put(raw);
  const p = await parseMessage(raw);
  await em.execute('insert into blob (sha256, size, created_at) values (?, ?, now()) on conflict do nothing', [stored.sha256, stored.size]);
  const message = em.create(Message, {
    messageIdHeader: p.messageIdHeader, dedupeHash: randomUUID(), rawBlob: stored.sha256, rawSize: stored.size,
    subject: p.subject, fromAddress: p.from?.address ?? null, fromName: p.from?.name || null, sentAt: p.date ?? new Date(),
    text: p.text ?? '', html: p.html ?? null, threadId: randomUUID(), inReplyTo: p.inReplyTo, references: p.references,
    parseStatus: p.parseStatus,
  } as never);
  const roles = [['from', [p.from]], ['reply_to', p.replyTo], ['to', p.to], ['cc', p.cc]] as const;
  for (const [role, list] of roles) {
    list.forEach((a, position) => {
      if (a) em.create(MessageAddress, { message, role, address: a.address, name: a.name || null, position } as never);
    });
  }
  em.create(MessageLocation, { message, mailbox: f.inbox.id, uidValidity: '1', uid, flags: [] } as never);
  await em.flush();
  return message.id;
}

/** A plain message from a client to the account. */
export const clientMail = (f: SendingFixture, over: { subject?: string; messageId?: string; references?: string; body?: string; from?: string; cc?: string } = {}) => Buffer.from([
  `From: ${over.from ?? '"Client Person" <client@client.example>'}`,
  `To: ${f.account.email}`,
  ...(over.cc ? [`Cc: ${over.cc}`] : []),
  `Subject: ${over.subject ?? 'Invoice 7'}`,
  'Date: Tue, 03 Mar 2026 10:00:00 +0000',
  `Message-ID: <${over.messageId ?? `${uniq('parent')}@client.example`}>`,
  ...(over.references ? [`References: ${over.references}`] : []),
  'MIME-Version: 1.0',
  'Content-Type: text/plain; charset=utf-8',
  '',
  over.body ?? 'Please find the invoice.',
  '',
].join('\r\n'));

/** Header fields of a raw message, unfolded, as [lowercased name, value] in order. */
export function headerFields(raw: Buffer): [string, string][] {
  const head = raw.toString('latin1').split('\r\n\r\n')[0]!;
  return head.replace(/\r\n[ \t]/g, ' ').split('\r\n').map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]);
}
export const headerValues = (raw: Buffer, name: string) => headerFields(raw).filter(([n]) => n === name).map(([, v]) => v);
