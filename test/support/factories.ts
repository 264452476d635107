// The test data factories, all named createTest*: rows in the shared test database (users, clients, contacts,
// mail accounts, messages, log records) written through our core functions or entities, and message sources
// (RFC 5322 bytes) for delivering to Dovecot or storing through the sync pipeline. Nothing here asserts or
// starts a service: the services are in app.ts, sync.ts, firm.ts, dovecot.ts and smtp-sink.ts.
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { BlobStore } from '../../src/core/blobs/blob-store.ts';
import type { Config } from '../../src/core/platform/config.ts';
import { kysely, type Db, type Em } from '../../src/core/platform/db.ts';
import { createMailAccount } from '../../src/core/mail/accounts.ts';
import { MailAccount, Mailbox, type SentCopyMode, type Visibility } from '../../src/core/mail/mail-account.entity.ts';
import { Attachment, Message, MessageAddress, MessageLocation, type AddressRole, type Direction, type ParseStatus } from '../../src/core/mail/message.entity.ts';
import type { MessageAuthentication } from '../../src/core/mail/incoming-message.ts';
import { normalizeAddress } from '../../src/core/mail/addresses.ts';
import { dedupeOf } from '../../src/core/mail/dedupe.ts';
import { createClient } from '../../src/core/crm/clients.ts';
import { createContact, type ContactEmailInput } from '../../src/core/crm/contacts.ts';
import type { Client, Contact } from '../../src/core/crm/client.entity.ts';
import { Communication, type Initiator } from '../../src/core/log/communication.entity.ts';
import { fileMessage, type FilingDeps, type FilingResult } from '../../src/core/log/filing.ts';
import { storeMessage } from '../../src/core/ingest/store-message.ts';
import { createUser } from '../../src/core/staff/users.ts';
import { User, type Language, type Role } from '../../src/core/staff/user.entity.ts';
import { parseMessage } from '../../src/sync/parse-message.ts';
import type { Dovecot, MailUser } from './dovecot.ts';
import type { SmtpSink } from './smtp-sink.ts';
import { uniq, uniqEmail } from './env.ts';

// --- Staff, clients, contacts ------------------------------------------------------------------------------------

export const TEST_PASSWORD = 'correct horse battery';

export async function createTestUser(db: Db, role: Role = 'staff', name = 'Test User'): Promise<{ user: User; email: string; password: string }> {
  const em = db.em.fork();
  const email = uniqEmail(role);
  const user = await createUser(em, { email, name, password: TEST_PASSWORD, role });
  await em.flush();
  return { user, email, password: TEST_PASSWORD };
}

export async function createTestClient(db: Db, name = uniq('Client')): Promise<Client> {
  const em = db.em.fork();
  const client = createClient(em, null, { name });
  await em.flush();
  return client;
}

/**
 * A contact through core's createContact, which files the addresses' existing mail (`filed`). Without `actor`
 * nobody consents for private mailboxes (issue 12): pass the mailbox owner to file their private mail.
 */
export async function createTestContact(db: Db, deps: FilingDeps, input: { name?: string; emails: (string | ContactEmailInput)[]; clientIds?: string[]; actor?: { id: string } }): Promise<{ contact: Contact; filed: number }> {
  return db.em.fork().transactional((em) =>
    createContact(em, input.actor ?? null, {
      name: input.name ?? uniq('Contact'),
      emails: input.emails.map((e) => (typeof e === 'string' ? { address: e } : e)),
      clientIds: input.clientIds,
    }, deps),
  );
}

export type TestClientContact = { address: string; contactEmailId: string };
export type TestContactSpec = { language: Language; name?: string; categories?: string[] };

/**
 * A client with one contact per entry, each with one fresh address in the given language (and, with
 * `categories`, only those notification categories). Contacts without a name get a unique one.
 */
export async function createTestClientWithContacts(
  deps: { db: Db; blobs: BlobStore; config: Config }, contacts: TestContactSpec[],
): Promise<{ client: Client; contacts: TestClientContact[] }> {
  const filing = { blobs: deps.blobs, maxAttachmentBytes: deps.config.maxAttachmentBytes };
  const client = await createTestClient(deps.db);
  const out: TestClientContact[] = [];
  for (const c of contacts) {
    const address = uniqEmail('contact');
    const { contact } = await createTestContact(deps.db, filing, {
      name: c.name ?? uniq('Contact'),
      emails: [{ address, language: c.language, ...(c.categories ? { notifyCategories: c.categories as never } : {}) }],
      clientIds: [client.id],
    });
    const row = await kysely(deps.db.em.fork()).selectFrom('contact_email').select('id').where('contact_id', '=', contact.id).executeTakeFirstOrThrow();
    out.push({ address, contactEmailId: row.id });
  }
  return { client, contacts: out };
}

// --- Mail accounts -----------------------------------------------------------------------------------------------

export type TestAccount = { account: MailAccount; inbox: Mailbox; sent: Mailbox };

/** A mail account row with INBOX and Sent on no real server; its address is one of the firm's own. */
export async function createTestAccount(db: Db, owner: User, opts: { email?: string; visibility?: Visibility } = {}): Promise<TestAccount> {
  const em = db.em.fork();
  const email = opts.email ?? uniqEmail('box');
  const account = em.create(MailAccount, {
    owner: owner.id, name: `Account ${email}`, email, visibility: opts.visibility ?? 'private',
    imapHost: '127.0.0.1', imapPort: 1143, imapSecure: false, imapUsername: email,
    smtpHost: '127.0.0.1', smtpPort: 1025, smtpSecure: false, smtpUsername: email,
    secret: 'not-a-real-secret',
  } as never);
  const inbox = em.create(Mailbox, { account, path: 'INBOX', role: 'inbox', uidValidity: '1' } as never);
  const sent = em.create(Mailbox, { account, path: 'Sent', role: 'sent', uidValidity: '1' } as never);
  await em.flush();
  return { account, inbox, sent };
}

/** A mail account on a Dovecot user, created through core (the login check is the API tests' business). */
export async function createTestImapAccount(
  env: { db: Db; config: Config }, mail: MailUser,
  opts: { owner?: User; visibility?: Visibility; folders?: string[]; host?: string; port?: number; password?: string } = {},
): Promise<MailAccount> {
  const owner = opts.owner ?? (await createTestUser(env.db, opts.visibility === 'public' ? 'admin' : 'staff')).user;
  const em = env.db.em.fork();
  const server = { host: opts.host ?? mail.host, port: opts.port ?? mail.port, secure: false, allowInsecure: true, username: mail.user, password: opts.password ?? mail.password };
  const account = await createMailAccount(em, owner, { name: `Mail ${mail.user}`, email: mail.email, visibility: opts.visibility ?? 'private', imap: server, smtp: server, folders: opts.folders }, env.config.secretKey);
  await em.flush();
  return account;
}

export type TestSendingAccount = { user: User; email: string; account: MailAccount; mail: MailUser; inbox: Mailbox };
export type TestSendingServices = { db: Db; config: Config; blobs: BlobStore; dovecot: Dovecot; sink: SmtpSink };

/** A staff user with a mail account on Dovecot (IMAP) that sends through the SMTP sink. */
export async function createTestSendingAccount(s: TestSendingServices, opts: { email?: string; sentCopy?: SentCopyMode; signature?: string; visibility?: Visibility; owner?: User } = {}): Promise<TestSendingAccount> {
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

// --- Stored messages ---------------------------------------------------------------------------------------------

export type TestAddress = string | { address: string; name?: string | null };
export type TestAttachment = { filename: string; contentType: string; content: Buffer | string; inline?: boolean; contentId?: string };
export type TestMessageSpec = {
  /** Where it lies; each location may be removed (expunged) or carry flags. */
  /** internalDate: when the copy reached the mailbox (IMAP INTERNALDATE); default the Date header's time. */
  locations?: { mailbox: Mailbox; flags?: string[]; removed?: boolean; internalDate?: Date }[];
  subject?: string;
  text?: string;
  html?: string | null;
  from?: TestAddress;
  to?: TestAddress[];
  cc?: TestAddress[];
  replyTo?: TestAddress[];
  sentAt?: Date;
  threadId?: string;
  direction?: Direction;
  parseStatus?: ParseStatus;
  messageIdHeader?: string;
  attachments?: TestAttachment[];
  /** Sender verification as the sync records it (issue 12); default none (not checked). */
  authentication?: MessageAuthentication | null;
};

let nextUid = Math.floor(Math.random() * 1e6);
const addressOf = (a: TestAddress): { address: string; name: string | null } => (typeof a === 'string' ? { address: a, name: null } : { address: a.address, name: a.name ?? null });

/** Puts bytes in the blob store and their row in `em` (content-addressed, so another test may have it already). */
async function putBlob(em: Em, blobs: BlobStore, content: Buffer): Promise<{ sha256: string; size: number }> {
  const stored = await blobs.put(content);
  await kysely(em).insertInto('blob').values({ sha256: stored.sha256, size: stored.size, created_at: new Date() }).onConflict((oc) => oc.doNothing()).execute();
  return stored;
}

async function buildTestMessage(em: Em, blobs: BlobStore, spec: TestMessageSpec): Promise<Message> {
  const subject = spec.subject ?? `Subject ${uniq('msg')}`;
  const from = addressOf(spec.from ?? { address: uniqEmail('sender'), name: 'Sender' });
  const to = (spec.to ?? [uniqEmail('rcpt')]).map(addressOf);
  const text = spec.text ?? `Body of ${subject}`;
  const messageIdHeader = spec.messageIdHeader ?? `${randomUUID()}@test.example`;
  const sentAt = spec.sentAt ?? new Date();
  const raw = await putBlob(em, blobs, Buffer.from(
    `Message-ID: <${messageIdHeader}>\r\nFrom: ${from.name ?? ''} <${from.address}>\r\nTo: ${to.map((a) => a.address).join(', ')}\r\n` +
      `Subject: ${subject}\r\nDate: ${sentAt.toUTCString()}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n${text}\r\n`,
  ));
  const atts = spec.attachments ?? [];
  const message = em.create(Message, {
    messageIdHeader, dedupeHash: createHash('sha256').update(randomUUID()).digest('hex'),
    rawBlob: raw.sha256, rawSize: raw.size, subject, fromAddress: from.address, fromName: from.name, sentAt,
    text, html: spec.html ?? null, snippet: text.slice(0, 200), threadId: spec.threadId ?? randomUUID(),
    inReplyTo: null, references: [], hasAttachments: atts.some((a) => !a.inline),
    direction: spec.direction ?? 'inbound', parseStatus: spec.parseStatus ?? 'ok', parseError: null, authentication: spec.authentication ?? null,
  } as never);
  let position = 0;
  const addr = (role: AddressRole, a: TestAddress) => em.create(MessageAddress, { message, role, ...addressOf(a), position: position++ } as never);
  addr('from', from);
  to.forEach((a) => addr('to', a));
  (spec.cc ?? []).forEach((a) => addr('cc', a));
  (spec.replyTo ?? []).forEach((a) => addr('reply_to', a));
  for (const [i, a] of atts.entries()) {
    const blob = await putBlob(em, blobs, Buffer.isBuffer(a.content) ? a.content : Buffer.from(a.content));
    em.create(Attachment, {
      message, sha256: blob.sha256, filename: a.filename, contentType: a.contentType, size: blob.size,
      contentId: a.contentId ?? null, inline: a.inline ?? false, position: i,
    } as never);
  }
  for (const loc of spec.locations ?? []) {
    em.create(MessageLocation, {
      message, mailbox: loc.mailbox.id, uidValidity: '1', uid: ++nextUid, flags: loc.flags ?? [],
      internalDate: loc.internalDate ?? sentAt, removedAt: loc.removed ? new Date() : null,
    } as never);
  }
  return message;
}

/** One stored message (content row, addresses, attachments, its locations), committed; not filed. */
export async function createTestMessage(db: Db, blobs: BlobStore, spec: TestMessageSpec = {}): Promise<Message> {
  const em = db.em.fork();
  const message = await buildTestMessage(em, blobs, spec);
  await em.flush();
  return message;
}

/** A stored message filed by the real fileMessage in the same transaction, as the sync pipeline does. */
export async function createFiledTestMessage(db: Db, blobs: BlobStore, spec: TestMessageSpec, filing: FilingDeps): Promise<{ message: Message; filing: FilingResult }> {
  return db.em.fork().transactional(async (em) => {
    const message = await buildTestMessage(em, blobs, spec);
    return { message, filing: await fileMessage(em, message, filing) };
  });
}

/** Another location (a copy or a move into `mailbox`) of a stored message, committed. */
export async function createTestLocation(db: Db, message: Message, mailbox: Mailbox): Promise<MessageLocation> {
  const em = db.em.fork();
  const location = em.create(MessageLocation, { message: message.id, mailbox: mailbox.id, uidValidity: '1', uid: ++nextUid, flags: [], internalDate: message.sentAt } as never);
  await em.flush();
  return location;
}

/**
 * Stores real RFC 5322 source exactly as the sync pipeline does: parseMessage (attachments into the blob
 * store), the dedupe key, then the pipeline's storeMessage, which files new content in its transaction.
 */
export async function createTestMessageFromSource(db: Db, blobs: BlobStore, mailbox: Mailbox, raw: Buffer, filing: FilingDeps): Promise<Message> {
  const parsed = await parseMessage(raw, { writeBlob: (content) => blobs.put(content) });
  const stored = await blobs.put(raw);
  const own = await kysely(db.em.fork()).selectFrom('mail_account').select('email').execute();
  const ownAddresses = new Set(own.map((r) => normalizeAddress(r.email)).filter((a): a is string => a !== null));
  const result = await db.em.fork().transactional((em) =>
    storeMessage(em, { mailbox, uidValidity: '1', ownAddresses, filing }, {
      uid: ++nextUid, flags: [], modseq: null, internalDate: new Date(), raw: stored, ...dedupeOf(raw), parsed, parseError: null,
    }),
  );
  return db.em.fork().findOneOrFail(Message, { id: result.messageId } as never);
}

/**
 * Delivers raw mail to a sending account's Dovecot INBOX and stores it as the sync would: our real parser,
 * then content, address and location rows (written here so sending tests do not depend on the sync engine).
 */
export async function createTestReceivedMessage(s: TestSendingServices, f: TestSendingAccount, raw: Buffer): Promise<string> {
  const uid = await s.dovecot.deliver(f.mail.user, raw);
  const em = s.db.em.fork();
  const stored = await putBlob(em, s.blobs, raw);
  const p = await parseMessage(raw);
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

/** Files a message to a client the way automatic filing does (an email record, filedBy auto). */
export async function createTestCommunication(db: Db, message: Message, client: Client, opts: { initiatedBy?: Initiator; reasonId?: string; areaId?: string } = {}): Promise<Communication> {
  const em = db.em.fork();
  const record = em.create(Communication, {
    client: client.id, kind: 'email', subject: message.subject, notes: '', occurredAt: message.sentAt,
    initiatedBy: opts.initiatedBy ?? 'client', reason: opts.reasonId ?? null, area: opts.areaId ?? null,
    author: null, message: message.id, filedBy: 'auto',
  } as never);
  await em.flush();
  return record;
}

// --- File contents -----------------------------------------------------------------------------------------------

/** A PDF-looking payload of a given size with unique content. */
export function createTestPdf(size = 40_000, seed = randomUUID()): Buffer {
  const head = Buffer.from(`%PDF-1.4\n% ${seed}\n`);
  return Buffer.concat([head, Buffer.alloc(Math.max(0, size - head.length), 0x20)]);
}

/** A small PNG-looking payload (a signature logo or tracking pixel). */
export function createTestPng(size = 3_000, seed = randomUUID()): Buffer {
  const head = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.from(seed)]);
  return Buffer.concat([head, Buffer.alloc(Math.max(0, size - head.length), 1)]);
}

// --- Message sources (RFC 5322) ----------------------------------------------------------------------------------

export type TestMimeAttachment = {
  filename: string;
  content: Buffer | string;
  contentType?: string;
  /** Shown in the body (Content-Disposition: inline) and referable as cid:<cid>. */
  inline?: boolean;
  cid?: string;
};

export type TestMimeSpec = {
  from?: string;
  to?: string | string[];
  cc?: string | string[];
  subject?: string;
  text?: string;
  html?: string;
  /** Without angle brackets or with; null leaves the header out. Default: a fresh unique one. */
  messageId?: string | null;
  date?: Date;
  inReplyTo?: string;
  references?: string[];
  attachments?: TestMimeAttachment[];
  /** Extra headers, written as given (ASCII). */
  headers?: Record<string, string>;
};

const CRLF = '\r\n';

/** A fresh Message-ID, in angle brackets. */
export function createTestMessageId(domain = 'dossier.test'): string {
  return `<${randomBytes(8).toString('hex')}@${domain}>`;
}

function bracket(id: string): string {
  return id.startsWith('<') ? id : `<${id}>`;
}

const nonAscii = /[^\x20-\x7e]/;

/** RFC 2047 encoded-word (UTF-8, base64) when the text is not plain ASCII. */
function encodeWord(text: string): string {
  return nonAscii.test(text) ? `=?UTF-8?B?${Buffer.from(text, 'utf8').toString('base64')}?=` : text;
}

/** "Name <addr>" with a non-ASCII display name encoded; bare addresses pass through. */
function encodeAddress(address: string): string {
  const m = /^\s*(.*?)\s*<([^>]+)>\s*$/.exec(address);
  if (!m) return address.trim();
  const name = m[1] ?? '';
  if (!name) return `<${m[2]}>`;
  const shown = nonAscii.test(name) ? encodeWord(name) : /[(),.:;<>@[\]"\\]/.test(name) ? `"${name.replace(/["\\]/g, '\\$&')}"` : name;
  return `${shown} <${m[2]}>`;
}

function addressList(value: string | string[]): string {
  return (Array.isArray(value) ? value : [value]).map(encodeAddress).join(', ');
}

function base64Lines(data: Buffer): string {
  return (data.toString('base64').match(/.{1,76}/g) ?? []).join(CRLF);
}

function textPart(type: 'plain' | 'html', body: string): string {
  const normalized = body.replace(/\r?\n/g, CRLF);
  if (!nonAscii.test(normalized.replace(/\r\n/g, ''))) {
    return `Content-Type: text/${type}; charset=us-ascii${CRLF}Content-Transfer-Encoding: 7bit${CRLF}${CRLF}${normalized}`;
  }
  return `Content-Type: text/${type}; charset=utf-8${CRLF}Content-Transfer-Encoding: base64${CRLF}${CRLF}${base64Lines(Buffer.from(normalized, 'utf8'))}`;
}

/** filename parameter: quoted when ASCII, RFC 2231 extended form (UTF-8, percent-encoded) otherwise. */
function fileParam(param: 'filename' | 'name', filename: string): string {
  if (!nonAscii.test(filename)) return `${param}="${filename.replace(/["\\]/g, '\\$&')}"`;
  const encoded = [...Buffer.from(filename, 'utf8')]
    .map((b) => (/[A-Za-z0-9._-]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, '0')}`))
    .join('');
  return `${param}*=UTF-8''${encoded}`;
}

function attachmentPart(a: TestMimeAttachment): string {
  const type = a.contentType ?? 'application/octet-stream';
  const lines = [
    `Content-Type: ${type}; ${fileParam('name', a.filename)}`,
    `Content-Disposition: ${a.inline ? 'inline' : 'attachment'}; ${fileParam('filename', a.filename)}`,
    'Content-Transfer-Encoding: base64',
  ];
  if (a.cid) lines.push(`Content-ID: <${a.cid}>`);
  const data = Buffer.isBuffer(a.content) ? a.content : Buffer.from(a.content, 'utf8');
  return `${lines.join(CRLF)}${CRLF}${CRLF}${base64Lines(data)}`;
}

function multipart(subtype: 'mixed' | 'alternative', parts: string[]): string {
  const boundary = `=_dossier_${randomBytes(6).toString('hex')}`;
  const body = parts.map((p) => `--${boundary}${CRLF}${p}${CRLF}`).join('');
  return `Content-Type: multipart/${subtype}; boundary="${boundary}"${CRLF}${CRLF}${body}--${boundary}--${CRLF}`;
}

/** RFC 5322 date-time, e.g. "Tue, 25 Nov 2025 09:00:00 +0000". */
function mailDate(d: Date): string {
  return d.toUTCString().replace('GMT', '+0000');
}

/**
 * A MIME message with CRLF line ends: text/plain, multipart/alternative when html is given, multipart/mixed when
 * there are attachments. Non-ASCII subjects, names and bodies are encoded (RFC 2047, RFC 2231, base64).
 */
export function createTestMime(spec: TestMimeSpec = {}): string {
  const headers: string[] = [
    `From: ${addressList(spec.from ?? 'Ann Client <ann@client.test>')}`,
    `To: ${addressList(spec.to ?? 'Firm <firm@dossier.test>')}`,
  ];
  if (spec.cc) headers.push(`Cc: ${addressList(spec.cc)}`);
  headers.push(`Subject: ${encodeWord(spec.subject ?? 'Test message')}`);
  headers.push(`Date: ${mailDate(spec.date ?? new Date())}`);
  if (spec.messageId !== null) headers.push(`Message-ID: ${bracket(spec.messageId ?? createTestMessageId())}`);
  if (spec.inReplyTo) headers.push(`In-Reply-To: ${bracket(spec.inReplyTo)}`);
  if (spec.references?.length) headers.push(`References: ${spec.references.map(bracket).join(' ')}`);
  for (const [name, value] of Object.entries(spec.headers ?? {})) headers.push(`${name}: ${value}`);
  headers.push('MIME-Version: 1.0');

  const text = spec.text ?? (spec.html === undefined ? 'Hello,\r\n\r\nthis is a test.\r\n' : undefined);
  const bodyParts: string[] = [];
  if (text !== undefined) bodyParts.push(textPart('plain', text));
  if (spec.html !== undefined) bodyParts.push(textPart('html', spec.html));
  let body = bodyParts.length === 1 ? (bodyParts[0] as string) : multipart('alternative', bodyParts);
  if (spec.attachments?.length) body = multipart('mixed', [body, ...spec.attachments.map(attachmentPart)]);
  return `${headers.join(CRLF)}${CRLF}${body}${body.endsWith(CRLF) ? '' : CRLF}`;
}

let mailCounter = 0;
/** A small, unique plain message (numbered subject, fixed 2025 date) for sync tests. */
export function createTestMail(opts: { subject?: string; from?: string; to?: string; messageId?: string; body?: string; inReplyTo?: string; attachment?: { name: string; content: Buffer } } = {}): Buffer {
  const id = opts.messageId ?? `<${randomUUID()}@test.example>`;
  const head = [
    `From: ${opts.from ?? 'Client <client@client.example>'}`,
    `To: ${opts.to ?? 'staff@firm.example'}`,
    `Subject: ${opts.subject ?? `Test ${++mailCounter}`}`,
    `Date: Mon, 3 Mar 2025 10:00:${String(mailCounter % 60).padStart(2, '0')} +0000`,
    `Message-ID: ${id}`,
    ...(opts.inReplyTo ? [`In-Reply-To: ${opts.inReplyTo}`, `References: ${opts.inReplyTo}`] : []),
    'MIME-Version: 1.0',
  ];
  const body = opts.body ?? `Hello ${randomUUID()}\r\n`;
  if (!opts.attachment) return Buffer.from([...head, 'Content-Type: text/plain; charset=utf-8', '', body].join('\r\n'));
  const b = `b-${randomUUID()}`;
  const b64 = opts.attachment.content.toString('base64').replace(/.{76}/g, '$&\r\n');
  return Buffer.from([...head, `Content-Type: multipart/mixed; boundary="${b}"`, '', `--${b}`, 'Content-Type: text/plain; charset=utf-8', '', body,
    `--${b}`, `Content-Type: application/octet-stream; name="${opts.attachment.name}"`, `Content-Disposition: attachment; filename="${opts.attachment.name}"`,
    'Content-Transfer-Encoding: base64', '', b64, `--${b}--`, ''].join('\r\n'));
}

/** A plain message from a client to a sending account (a fixed 2026 date, "Invoice 7" unless told). */
export const createTestClientMail = (f: { account: { email: string } }, over: { subject?: string; messageId?: string; references?: string; body?: string; from?: string; cc?: string } = {}) => Buffer.from([
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

// --- Reading back ------------------------------------------------------------------------------------------------

/** Records of a client's log that point at a message (what the log shows for it), by client. */
export async function listMessageRecords(db: Db, messageId: string) {
  return kysely(db.em.fork()).selectFrom('communication').select(['client_id', 'initiated_by', 'filed_by', 'subject'])
    .where('message_id', '=', messageId).orderBy('client_id').execute();
}
