// Builds mail for API tests as real rows through the entities (mail account, mailboxes, message,
// locations, addresses, attachments, blobs) with their bytes in the real blob store. No IMAP here:
// tests that need the sync pipeline deliver to Dovecot instead.
import { createHash, randomUUID } from 'node:crypto';
import type { BlobStore } from '../../src/core/blobs/blob-store.ts';
import type { Db, Em } from '../../src/core/platform/db.ts';
import { Client } from '../../src/core/crm/client.entity.ts';
import { Communication, type Initiator } from '../../src/core/log/communication.entity.ts';
import { MailAccount, Mailbox, type Visibility } from '../../src/core/mail/mail-account.entity.ts';
import { Attachment, Blob, Message, MessageAddress, MessageLocation, type Direction, type ParseStatus } from '../../src/core/mail/message.entity.ts';
import type { User } from '../../src/core/staff/user.entity.ts';
import { uniq, uniqEmail } from './env.ts';

export type TestAccount = { account: MailAccount; inbox: Mailbox; sent: Mailbox };

export async function createTestAccount(db: Db, owner: User, visibility: Visibility = 'private'): Promise<TestAccount> {
  const em = db.em.fork();
  const email = uniqEmail('box');
  const account = em.create(MailAccount, {
    owner: owner.id, name: `Account ${email}`, email, visibility,
    imapHost: '127.0.0.1', imapPort: 1143, imapSecure: false, imapUsername: email,
    smtpHost: '127.0.0.1', smtpPort: 1025, smtpSecure: false, smtpUsername: email,
    secret: 'not-a-real-secret',
  } as never);
  const inbox = em.create(Mailbox, { account, path: 'INBOX', role: 'inbox', uidValidity: '1' } as never);
  const sent = em.create(Mailbox, { account, path: 'Sent', role: 'sent', uidValidity: '1' } as never);
  await em.flush();
  return { account, inbox, sent };
}

type Addr = { address: string; name?: string };
export type TestAttachment = { filename: string; contentType: string; content: Buffer | string; inline?: boolean; contentId?: string };
export type TestMessageInput = {
  /** Where it lies; each location may be removed (expunged) or carry flags. */
  locations?: { mailbox: Mailbox; flags?: string[]; removed?: boolean }[];
  subject?: string;
  text?: string;
  html?: string | null;
  from?: Addr;
  to?: Addr[];
  cc?: Addr[];
  sentAt?: Date;
  threadId?: string;
  direction?: Direction;
  parseStatus?: ParseStatus;
  messageIdHeader?: string;
  attachments?: TestAttachment[];
};

let uidCounter = Math.floor(Math.random() * 1e6);

async function putBlob(em: Em, blobs: BlobStore, content: Buffer): Promise<{ sha256: string; size: number }> {
  const stored = await blobs.put(content);
  if (!(await em.findOne(Blob, { sha256: stored.sha256 }))) em.create(Blob, { sha256: stored.sha256, size: stored.size } as never);
  return stored;
}

/** Stores one message with its locations; returns the flushed Message. */
export async function createTestMessage(db: Db, blobs: BlobStore, input: TestMessageInput = {}): Promise<Message> {
  const em = db.em.fork();
  const subject = input.subject ?? `Subject ${uniq('msg')}`;
  const from = input.from ?? { address: uniqEmail('sender'), name: 'Sender' };
  const to = input.to ?? [{ address: uniqEmail('rcpt') }];
  const cc = input.cc ?? [];
  const text = input.text ?? `Body of ${subject}`;
  const messageIdHeader = input.messageIdHeader ?? `${randomUUID()}@test.example`;
  const sentAt = input.sentAt ?? new Date();
  const raw = Buffer.from(
    `Message-ID: <${messageIdHeader}>\r\nFrom: ${from.name ?? ''} <${from.address}>\r\nTo: ${to.map((a) => a.address).join(', ')}\r\n` +
      `Subject: ${subject}\r\nDate: ${sentAt.toUTCString()}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n${text}\r\n`,
  );
  const rawBlob = await putBlob(em, blobs, raw);
  const atts = input.attachments ?? [];
  const message = em.create(Message, {
    messageIdHeader,
    dedupeHash: createHash('sha256').update(randomUUID()).digest('hex'),
    rawBlob: rawBlob.sha256,
    rawSize: rawBlob.size,
    subject,
    fromAddress: from.address,
    fromName: from.name ?? null,
    sentAt,
    text,
    html: input.html ?? null,
    snippet: text.slice(0, 200),
    threadId: input.threadId ?? randomUUID(),
    inReplyTo: null,
    references: [],
    hasAttachments: atts.some((a) => !a.inline),
    direction: input.direction ?? 'inbound',
    parseStatus: input.parseStatus ?? 'ok',
    parseError: null,
  } as never);
  let position = 0;
  em.create(MessageAddress, { message, role: 'from', address: from.address, name: from.name ?? null, position: position++ } as never);
  for (const a of to) em.create(MessageAddress, { message, role: 'to', address: a.address, name: a.name ?? null, position: position++ } as never);
  for (const a of cc) em.create(MessageAddress, { message, role: 'cc', address: a.address, name: a.name ?? null, position: position++ } as never);
  for (const [i, a] of atts.entries()) {
    const content = Buffer.isBuffer(a.content) ? a.content : Buffer.from(a.content);
    const blob = await putBlob(em, blobs, content);
    em.create(Attachment, {
      message, sha256: blob.sha256, filename: a.filename, contentType: a.contentType, size: blob.size,
      contentId: a.contentId ?? null, inline: a.inline ?? false, position: i,
    } as never);
  }
  for (const loc of input.locations ?? []) {
    em.create(MessageLocation, {
      message, mailbox: loc.mailbox.id, uidValidity: '1', uid: ++uidCounter, flags: loc.flags ?? [],
      internalDate: sentAt, removedAt: loc.removed ? new Date() : null,
    } as never);
  }
  await em.flush();
  return message;
}

export async function createTestClient(db: Db, name = uniq('Client')): Promise<Client> {
  const em = db.em.fork();
  const client = em.create(Client, { name } as never);
  await em.flush();
  return client;
}

/** Files a message to a client the way automatic filing does (an email record, filedBy auto). */
export async function fileTestMessage(db: Db, message: Message, client: Client, opts: { initiatedBy?: Initiator; reasonId?: string; areaId?: string } = {}): Promise<Communication> {
  const em = db.em.fork();
  const record = em.create(Communication, {
    client: client.id, kind: 'email', subject: message.subject, notes: '', occurredAt: message.sentAt,
    initiatedBy: opts.initiatedBy ?? 'client', reason: opts.reasonId ?? null, area: opts.areaId ?? null,
    author: null, message: message.id, filedBy: 'auto',
  } as never);
  await em.flush();
  return record;
}
