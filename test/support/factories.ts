// Factories for CRM and filing tests. storeRawMail runs real source through the sync pipeline's
// parseMessage and storeMessage (which files); buildMessage writes Message/MessageAddress/Attachment/Blob
// rows through the entities for tests that need exact addresses fast, filed by the real fileMessage.
import { createHash, randomUUID } from 'node:crypto';
import type { BlobStore } from '../../src/core/blobs/blob-store.ts';
import type { Db, Em } from '../../src/core/platform/db.ts';
import { MailAccount, Mailbox, type Visibility } from '../../src/core/mail/mail-account.entity.ts';
import { Attachment, Message, MessageAddress, MessageLocation, type AddressRole } from '../../src/core/mail/message.entity.ts';
import { createClient } from '../../src/core/crm/clients.ts';
import { createContact, type ContactEmailInput } from '../../src/core/crm/contacts.ts';
import { fileMessage, type FilingDeps, type FilingResult } from '../../src/core/log/filing.ts';
import type { Client, Contact } from '../../src/core/crm/client.entity.ts';
import type { User } from '../../src/core/staff/user.entity.ts';
import { parseMessage } from '../../src/sync/parse-message.ts';
import { storeMessage as storePipelineMessage } from '../../src/core/ingest/store-message.ts';
import { dedupeOf } from '../../src/core/mail/dedupe.ts';
import { normalizeAddress } from '../../src/core/mail/addresses.ts';
import { uniq, uniqEmail } from './env.ts';

export type Box = { account: MailAccount; inbox: Mailbox };

/** A mail account with an INBOX; its address is one of the firm's own. */
export async function createMailbox(db: Db, owner: User, opts: { email?: string; visibility?: Visibility } = {}): Promise<Box> {
  const em = db.em.fork();
  const email = opts.email ?? uniqEmail('firm');
  const account = em.create(MailAccount, {
    owner: owner.id, name: `Box ${email}`, email, visibility: opts.visibility ?? 'private',
    imapHost: '127.0.0.1', imapPort: 1143, imapSecure: false, imapUsername: email,
    smtpHost: '127.0.0.1', smtpPort: 1025, smtpSecure: false, smtpUsername: email, secret: 'unused',
  } as never);
  const inbox = em.create(Mailbox, { account, path: 'INBOX', role: 'inbox', uidValidity: '1' } as never);
  await em.flush();
  return { account, inbox };
}

export type FileSpec = { filename: string; contentType: string; content: Buffer; inline?: boolean; contentId?: string };
export type MessageSpec = {
  from?: string;
  to?: string[];
  cc?: string[];
  replyTo?: string[];
  subject?: string;
  text?: string;
  html?: string | null;
  sentAt?: Date;
  attachments?: FileSpec[];
  mailboxes?: Mailbox[];
};

let nextUid = Math.floor(Math.random() * 1e6);

async function putBlob(em: Em, blobs: BlobStore, content: Buffer) {
  const stored = await blobs.put(content);
  await em.execute('insert into blob (sha256, size, created_at) values (?, ?, now()) on conflict do nothing', [stored.sha256, stored.size]);
  return stored;
}

/** Builds one stored message (content row, addresses, attachments, one location per mailbox) in `em`. */
export async function buildMessage(em: Em, blobs: BlobStore, spec: MessageSpec = {}): Promise<Message> {
  const from = spec.from ?? uniqEmail('sender');
  const to = spec.to ?? [uniqEmail('rcpt')];
  const subject = spec.subject ?? `Subject ${uniq('msg')}`;
  const sentAt = spec.sentAt ?? new Date();
  const raw = await putBlob(em, blobs, Buffer.from(`From: <${from}>\r\nTo: ${to.join(', ')}\r\nSubject: ${subject}\r\n\r\n${spec.text ?? subject}\r\n`));
  const atts = spec.attachments ?? [];
  const message = em.create(Message, {
    messageIdHeader: `${randomUUID()}@test.example`, dedupeHash: createHash('sha256').update(randomUUID()).digest('hex'),
    rawBlob: raw.sha256, rawSize: raw.size, subject, fromAddress: from, fromName: 'Sender', sentAt,
    text: spec.text ?? subject, html: spec.html ?? null, snippet: subject, threadId: randomUUID(),
    hasAttachments: atts.some((a) => !a.inline), direction: 'inbound', parseStatus: 'ok', parseError: null,
  } as never);
  let position = 0;
  const addr = (role: AddressRole, address: string) => em.create(MessageAddress, { message, role, address, name: null, position: position++ } as never);
  addr('from', from);
  to.forEach((a) => addr('to', a));
  (spec.cc ?? []).forEach((a) => addr('cc', a));
  (spec.replyTo ?? []).forEach((a) => addr('reply_to', a));
  for (const [i, a] of atts.entries()) {
    const blob = await putBlob(em, blobs, a.content);
    em.create(Attachment, {
      message, sha256: blob.sha256, filename: a.filename, contentType: a.contentType, size: blob.size,
      contentId: a.contentId ?? null, inline: a.inline ?? false, position: i,
    } as never);
  }
  for (const mailbox of spec.mailboxes ?? []) addLocation(em, message, mailbox);
  return message;
}

export function addLocation(em: Em, message: Message, mailbox: Mailbox): MessageLocation {
  return em.create(MessageLocation, { message, mailbox: mailbox.id, uidValidity: '1', uid: ++nextUid, flags: [], internalDate: message.sentAt } as never);
}

/** Stores a message and commits; with `file`, files it in the same transaction like the sync pipeline. */
export async function storeMessage(db: Db, blobs: BlobStore, spec: MessageSpec, file?: FilingDeps): Promise<{ message: Message; filing: FilingResult | null }> {
  return db.em.fork().transactional(async (em) => {
    const message = await buildMessage(em, blobs, spec);
    const filing = file ? await fileMessage(em, message, file) : null;
    return { message, filing };
  });
}

export async function makeClient(db: Db, name = uniq('Client')): Promise<Client> {
  const em = db.em.fork();
  const client = createClient(em, null, { name });
  await em.flush();
  return client;
}

export async function makeContact(db: Db, deps: FilingDeps, input: { name?: string; emails: (string | ContactEmailInput)[]; clientIds?: string[] }): Promise<{ contact: Contact; filed: number }> {
  return db.em.fork().transactional((em) =>
    createContact(em, null, {
      name: input.name ?? uniq('Contact'),
      emails: input.emails.map((e) => (typeof e === 'string' ? { address: e } : e)),
      clientIds: input.clientIds,
    }, deps),
  );
}

/** Records of a client's log that point at a message (what the log shows for it). */
export async function recordsOf(db: Db, messageId: string): Promise<{ client_id: string; initiated_by: string; filed_by: string; subject: string }[]> {
  return db.em.fork().execute('select client_id, initiated_by, filed_by, subject from communication where message_id = ? order by client_id', [messageId]);
}

/** A PDF-looking payload of a given size with unique content. */
export function fakePdf(size = 40_000, seed = randomUUID()): Buffer {
  const head = Buffer.from(`%PDF-1.4\n% ${seed}\n`);
  return Buffer.concat([head, Buffer.alloc(Math.max(0, size - head.length), 0x20)]);
}

/** A small PNG-looking payload (a signature logo or tracking pixel). */
export function fakePng(size = 3_000, seed = randomUUID()): Buffer {
  const head = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.from(seed)]);
  return Buffer.concat([head, Buffer.alloc(Math.max(0, size - head.length), 1)]);
}

/**
 * Stores real RFC 5322 source exactly as the sync pipeline does: parseMessage (attachments into the blob
 * store), the dedupe key, then the pipeline's storeMessage, which files new content in its transaction.
 */
export async function storeRawMail(db: Db, blobs: BlobStore, mailbox: Mailbox, raw: Buffer, filing: FilingDeps): Promise<Message> {
  const parsed = await parseMessage(raw, { writeBlob: (content) => blobs.put(content) });
  const stored = await blobs.put(raw);
  const own = await db.em.fork().execute<{ email: string }[]>('select email from mail_account');
  const ownAddresses = new Set(own.map((r) => normalizeAddress(r.email)).filter((a): a is string => a !== null));
  const result = await db.em.fork().transactional((em) =>
    storePipelineMessage(em, { mailbox, uidValidity: '1', ownAddresses, filing }, {
      uid: ++nextUid, flags: [], modseq: null, internalDate: new Date(), raw: stored, ...dedupeOf(raw), parsed, parseError: null,
    }),
  );
  return db.em.fork().findOneOrFail(Message, { id: result.messageId } as never);
}
