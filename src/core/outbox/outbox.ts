// Queues the mail Dossier sends (reply, reply all, new message, forward) as outbox rows; a worker job
// sends them (src/sync/send-outbox.ts). Never talks to SMTP or IMAP and never flushes: the caller owns
// the transaction and enqueues the send job after the commit (enqueueSend).
import { randomUUID } from 'node:crypto';
import { kysely, type Em } from '../platform/db.ts';
import type { JobQueue } from '../platform/jobs.ts';
import { getAddressDomain, normalizeAddress } from '../mail/addresses.ts';
import { Document } from '../documents/document.entity.ts';
import { InvalidInputError, NotFoundError, RuleError } from '../platform/errors.ts';
import { htmlToText, sanitizeMailHtml } from '../mail/html.ts';
import { cursorTime, cursorTimestamp, decodeCursor, encodeCursor } from '../platform/keyset-cursor.ts';
import { MailAccount } from '../mail/mail-account.entity.ts';
import { Message, MessageAddress } from '../mail/message.entity.ts';
import { Outbox, type OutboxAddress, type OutboxStatus } from './outbox.entity.ts';
import { cleanBodyText, cleanHeaderText, escapeHtml } from '../platform/text.ts';
import { capReferences, normalizeMessageId } from '../mail/threading.ts';
import type { User } from '../staff/user.entity.ts';
import { assertMessageVisible, filterVisibleClientIds, visibleAccount, type Viewer } from '../mail/visibility.ts';

/** Recipients of one message (To + Cc + Bcc). Reply all to a 5,000-recipient mail is refused, not trimmed. */
export const MAX_RECIPIENTS = 100;
export const MAX_SUBJECT_LENGTH = 500;
/** Characters of text or HTML body. */
export const MAX_BODY_LENGTH = 2_000_000;
/** Most providers refuse mail over 25 MB on the wire; base64 adds a third, so attachments stay under this. */
export const MAX_ATTACHMENT_BYTES = 18 * 1024 * 1024;
export const MAX_ATTACHMENTS = 20;
/**
 * References kept in a reply: the thread root and the most recent ids (RFC 5322 §3.6.4 appends without
 * limit; hostile mail carries 10,000). Ids longer than MAX_REFERENCE_ID_LENGTH are dropped so the
 * folded header keeps every line under the 998-octet limit of RFC 5322 §2.1.1.
 */
export const MAX_REPLY_REFERENCES = 20;
export const MAX_REFERENCE_ID_LENGTH = 250;
/** Attempts of the send job (first included); transient SMTP failures back off exponentially from SEND_BACKOFF_MS. */
export const SEND_ATTEMPTS = 6;
export const SEND_BACKOFF_MS = 2000;

export type AddressInput = string | { name?: string | null; address: string };

export type ReplyInput = {
  accountId?: string;
  text?: string;
  html?: string;
  replyAll?: boolean;
  documentIds?: string[];
};

export type NewMessageInput = {
  accountId: string;
  to: AddressInput[];
  cc?: AddressInput[];
  bcc?: AddressInput[];
  subject: string;
  text?: string;
  html?: string;
  clientId?: string;
  documentIds?: string[];
  /** Forward this stored message (the caller must be able to see it) as a message/rfc822 attachment. */
  forwardMessageId?: string;
};

export type OutboxView = {
  id: string;
  kind: string;
  status: OutboxStatus;
  error?: string;
  /** The Message-ID header Dossier generated, with its angle brackets. */
  messageId: string;
  accountId: string;
  subject: string;
  to: OutboxAddress[];
  cc: OutboxAddress[];
  bcc: OutboxAddress[];
  replyToMessageId: string | null;
  clientId: string | null;
  attempts: number;
  createdAt: string;
  sentAt: string | null;
};

// ---------------------------------------------------------------- header safety

// C0 controls (TAB excepted) and DEL: CR/LF would start a new header field (header injection), NUL and
// the rest have no business in a subject or a name.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const HEADER_CONTROLS = /[\u0000-\u0008\u000a-\u001f\u007f\u2028\u2029]/u;
/** Local parts we send to: dot-atoms only (RFC 5322 §3.4.1). Quoted local parts are where injection hides. */
const SAFE_LOCAL_PART = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~\u0080-\u{10FFFF}-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~\u0080-\u{10FFFF}-]+)*$/u;

/**
 * Refuses a header value typed by a user that contains line breaks or other control characters: it is
 * never silently repaired, so what the user sees is what is sent. `field` names the input at fault.
 */
export function assertHeaderText(value: string, field: string): void {
  if (HEADER_CONTROLS.test(value)) {
    throw new InvalidInputError('invalid_header_text', `${field} must be a single line without control characters`, field);
  }
}

/** The normalised address if it is one we can send to (dot-atom local part), else null. */
export function toSendableAddress(raw: string): string | null {
  const address = normalizeAddress(raw);
  if (address === null) return null;
  const local = address.slice(0, address.lastIndexOf('@'));
  return SAFE_LOCAL_PART.test(local) ? address : null;
}

function parseAddressInput(input: AddressInput, field: string): OutboxAddress {
  const raw = typeof input === 'string' ? { address: input } : input;
  const addressField = typeof input === 'string' ? field : `${field}.address`;
  assertHeaderText(raw.address, addressField);
  const address = toSendableAddress(raw.address);
  if (address === null) throw new InvalidInputError('invalid_address', `${addressField} is not an e-mail address we can send to`, addressField);
  const name = raw.name ?? '';
  assertHeaderText(name, `${field}.name`);
  const cleaned = cleanHeaderText(name).slice(0, 200);
  return cleaned ? { name: cleaned, address } : { address };
}

function parseAddressList(list: AddressInput[] | undefined, field: string): OutboxAddress[] {
  return (list ?? []).map((a, i) => parseAddressInput(a, `${field}.${i}`));
}

/** Drops repeats (by address), keeping the first occurrence; `seen` carries over between lists. */
function dedupeAddresses(list: OutboxAddress[], seen: Set<string>): OutboxAddress[] {
  const out: OutboxAddress[] = [];
  for (const a of list) {
    if (seen.has(a.address)) continue;
    seen.add(a.address);
    out.push(a);
  }
  return out;
}

// ---------------------------------------------------------------- pure helpers (exported for tests)

const REPLY_PREFIX = /^\s*(?:re|aw|sv|antw|ref|res|rif|vs|r)\s*(?:\[\d+\])?\s*:\s*/iu;

/** "Re: " + the subject without any reply prefixes it already had, so prefixes never stack. */
export function replySubject(original: string): string {
  let s = cleanHeaderText(original);
  for (let i = 0; i < 20 && REPLY_PREFIX.test(s); i++) s = s.replace(REPLY_PREFIX, '');
  return truncate(`Re: ${s}`.trim(), MAX_SUBJECT_LENGTH);
}

/**
 * In-Reply-To and References for a reply (RFC 5322 §3.6.4): the parent's Message-ID, and the parent's
 * References (or, lacking them, its In-Reply-To) followed by the parent's Message-ID, capped.
 */
export function replyThreading(parent: { messageIdHeader?: string | null; references: readonly string[]; inReplyTo?: string | null }): { inReplyTo: string | null; references: string[] } {
  const parentId = normalizeMessageId(parent.messageIdHeader);
  const ancestors = parent.references.length > 0 ? parent.references : parent.inReplyTo ? [parent.inReplyTo] : [];
  // A Set: hostile chains carry 10,000 ids, and Array.includes would make this quadratic.
  const ids = new Set<string>();
  for (const raw of [...ancestors, ...(parentId ? [parentId] : [])]) {
    const id = normalizeMessageId(raw);
    if (id && id.length <= MAX_REFERENCE_ID_LENGTH) ids.add(id);
  }
  // A repeated id keeps its first place; the parent, already listed, is moved to the end.
  if (parentId && ids.delete(parentId) && parentId.length <= MAX_REFERENCE_ID_LENGTH) ids.add(parentId);
  return { inReplyTo: parentId, references: capReferences([...ids], MAX_REPLY_REFERENCES) };
}

/** Line breaks as LF only (nodemailer writes CRLF on the wire), control characters removed. */
export function normalizeBodyText(s: string): string {
  return cleanBodyText(s).replace(/\r\n?/gu, '\n');
}

/** Text and HTML bodies with the signature appended under the "-- " separator (RFC 3676 §4.3). */
export function composeBody(input: { text?: string; html?: string }, signature: string): { text: string; html: string | null } {
  let html = input.html?.trim() ? sanitizeMailHtml(input.html, { allowRemoteImages: true, cidUrl: () => null }).html : null;
  let text = input.text !== undefined && input.text.trim() !== '' ? normalizeBodyText(input.text) : html !== null ? htmlToText(html) : '';
  const sig = normalizeBodyText(signature).trim();
  if (sig) {
    text = `${text.replace(/\n+$/u, '')}\n\n-- \n${sig}\n`;
    if (html !== null) html = `${html}<br><br>-- <br>${escapeHtml(sig).replace(/\n/gu, '<br>')}`;
  }
  return { text, html };
}

const truncate = (s: string, max: number) => (Array.from(s).length > max ? Array.from(s).slice(0, max).join('') : s);

// ---------------------------------------------------------------- lookups

/** The account if the user may send from it (their own, or a public one); NotFound otherwise. */
async function getSendingAccount(em: Em, user: User, accountId: string): Promise<MailAccount> {
  const account = await em.findOne(MailAccount, { id: accountId });
  if (!account || (account.visibility !== 'public' && account.owner.id !== user.id)) throw new NotFoundError('Mail account');
  if (!account.smtpHost) throw new RuleError('account_receive_only', `${account.email} is a receive-only mailbox (no outgoing server): choose another mailbox to send from, or add its SMTP settings`, 'accountId');
  return account;
}

/** Addresses of every account the user may send from: "us", left out of reply-all recipients. */
async function listOwnAddresses(em: Em, user: User): Promise<Set<string>> {
  const rows = await kysely(em).selectFrom('mail_account as ma').select('ma.email').where(visibleAccount(user)).execute();
  return new Set(rows.map((r) => normalizeAddress(r.email)).filter((a): a is string => a !== null));
}

/**
 * The account a message came through: a visible account with a location of it, preferring a live
 * location, then the inbox, then the user's own account. Null when no visible account holds it
 * (the message is visible only because it is filed to a client).
 */
async function findReplyAccount(em: Em, user: User, messageId: string): Promise<string | null> {
  const row = await kysely(em).selectFrom('message_location as ml')
    .innerJoin('mailbox as mb', 'mb.id', 'ml.mailbox_id')
    .innerJoin('mail_account as ma', 'ma.id', 'mb.account_id')
    .select('ma.id')
    .where('ml.message_id', '=', messageId).where(visibleAccount(user))
    .orderBy((eb) => eb('ml.removed_at', 'is', null), 'desc')
    .orderBy((eb) => eb('mb.role', '=', 'inbox'), 'desc')
    .orderBy((eb) => eb('ma.owner_id', '=', user.id), 'desc')
    .orderBy('ma.created_at', 'asc')
    .limit(1)
    .executeTakeFirst();
  return row?.id ?? null;
}

/** The documents to attach; a document of a client the user may not see (restricted) is an unknown one. */
async function checkDocuments(em: Em, user: Viewer, ids: readonly string[] | undefined): Promise<string[]> {
  const unique = [...new Set(ids ?? [])];
  if (unique.length === 0) return [];
  if (unique.length > MAX_ATTACHMENTS) throw new RuleError('too_many_attachments', `At most ${MAX_ATTACHMENTS} documents can be attached`, 'documentIds');
  const found = await em.find(Document, { id: { $in: unique } });
  const visible = new Set(await filterVisibleClientIds(em, user, [...new Set(found.map((d) => d.client.id))]));
  const docs = found.filter((d) => visible.has(d.client.id));
  let total = 0;
  for (const [i, id] of unique.entries()) {
    const doc = docs.find((d) => d.id === id);
    if (!doc) throw new InvalidInputError('document_not_found', `Document ${id} does not exist`, `documentIds.${i}`);
    if (doc.status !== 'saved' || !doc.sha256) throw new RuleError('document_not_stored', `"${doc.name}" was not kept (too large) and cannot be attached`, `documentIds.${i}`);
    total += Number(doc.size);
  }
  if (total > MAX_ATTACHMENT_BYTES) throw new RuleError('attachments_too_large', `Attachments may add up to at most ${Math.floor(MAX_ATTACHMENT_BYTES / 1024 / 1024)} MB`, 'documentIds');
  return unique;
}

function checkBody(input: { text?: string; html?: string }, hasAttachments: boolean): void {
  if ((input.text?.length ?? 0) > MAX_BODY_LENGTH) throw new InvalidInputError('too_long', 'text is too long', 'text');
  if ((input.html?.length ?? 0) > MAX_BODY_LENGTH) throw new InvalidInputError('too_long', 'html is too long', 'html');
  if (!input.text?.trim() && !input.html?.trim() && !hasAttachments) throw new InvalidInputError('empty_message', 'Write a message or attach a document', 'text');
}

/** From's display name: the sender for their own mailbox, the shared account's name for a public one. */
const fromNameFor = (account: MailAccount, user: User) => cleanHeaderText(account.visibility === 'public' && account.owner.id !== user.id ? account.name : user.name).slice(0, 200) || null;

/** `<uuid@domain-of-the-account>`: unique, and generated before the first attempt (the idempotency key). */
export function newMessageId(accountEmail: string): string {
  const address = normalizeAddress(accountEmail);
  const domain = address ? getAddressDomain(address) : 'dossier.invalid';
  return `${randomUUID()}@${domain.startsWith('[') ? 'dossier.invalid' : domain}`;
}

function checkRecipientCount(to: OutboxAddress[], cc: OutboxAddress[], bcc: OutboxAddress[]): void {
  const n = to.length + cc.length + bcc.length;
  if (n === 0) throw new RuleError('no_recipients', 'The message has no recipient', 'to');
  if (n > MAX_RECIPIENTS) throw new RuleError('too_many_recipients', `A message can have at most ${MAX_RECIPIENTS} recipients (this one has ${n})`, 'to');
}

// ---------------------------------------------------------------- operations

/**
 * Queues a reply (or reply all) to a stored message the user may see. Recipients: the parent's Reply-To,
 * else its From (or, for a message we sent, its To); reply all adds the parent's To and Cc. Our own
 * accounts' addresses and addresses we cannot safely send to are left out. The caller flushes and then
 * calls enqueueSend.
 */
export async function queueReply(em: Em, user: User, messageId: string, input: ReplyInput): Promise<Outbox> {
  await assertMessageVisible(em, user, messageId);
  const parent = await em.findOneOrFail(Message, { id: messageId });
  const accountId = input.accountId ?? (await findReplyAccount(em, user, messageId));
  if (!accountId) throw new RuleError('account_required', 'Choose the mailbox to reply from: this message is not in one you can send from', 'accountId');
  const account = await getSendingAccount(em, user, accountId);
  const documentIds = await checkDocuments(em, user, input.documentIds);
  checkBody(input, documentIds.length > 0);

  const ours = await listOwnAddresses(em, user);
  const own = normalizeAddress(account.email);
  if (own) ours.add(own);
  const rows = await em.find(MessageAddress, { message: parent.id }, { orderBy: { role: 'asc', position: 'asc' } });
  // Names come from received mail (hostile-able): cleaned to one line here, never rejected.
  const of = (role: string) => rows.filter((r) => r.role === role).flatMap((r): OutboxAddress[] => {
    const address = toSendableAddress(r.address);
    if (address === null) return [];
    const name = cleanHeaderText(r.name ?? '').slice(0, 200);
    return [name ? { name, address } : { address }];
  });
  const from = of('from');
  const replyTo = of('reply_to');
  const fromUs = from.length > 0 && from.every((a) => ours.has(a.address));
  let primary = replyTo.length > 0 ? replyTo : fromUs ? of('to') : from;
  let cc: OutboxAddress[] = [];
  if (input.replyAll) {
    primary = [...primary, ...of('to')];
    cc = of('cc');
  }
  const seen = new Set(ours);
  let to = dedupeAddresses(primary, seen);
  cc = dedupeAddresses(cc, seen);
  if (to.length === 0) [to, cc] = [cc, []];
  if (to.length === 0) throw new RuleError('no_recipients', 'The message has no sender address to reply to', 'to');
  checkRecipientCount(to, cc, []);

  const { inReplyTo, references } = replyThreading(parent);
  const body = composeBody(input, user.signature);
  return em.create(Outbox, {
    account,
    createdBy: user,
    kind: input.replyAll ? 'reply_all' : 'reply',
    fromName: fromNameFor(account, user),
    to,
    cc,
    bcc: [],
    subject: replySubject(parent.subject),
    text: body.text,
    html: body.html,
    inReplyTo,
    references,
    replyTo: null,
    messageIdHeader: newMessageId(account.email),
    documentIds,
    clientId: null,
    replyToMessage: parent,
    forwardMessage: null,
    status: 'queued',
  });
}

/** Queues a new message, or a forward when forwardMessageId is given. The caller flushes, then enqueueSend. */
export async function queueMessage(em: Em, user: User, input: NewMessageInput): Promise<Outbox> {
  const account = await getSendingAccount(em, user, input.accountId);
  assertHeaderText(input.subject, 'subject');
  if (Array.from(input.subject).length > MAX_SUBJECT_LENGTH) throw new InvalidInputError('too_long', `subject may be at most ${MAX_SUBJECT_LENGTH} characters`, 'subject');
  const seen = new Set<string>();
  const to = dedupeAddresses(parseAddressList(input.to, 'to'), seen);
  const cc = dedupeAddresses(parseAddressList(input.cc, 'cc'), seen);
  const bcc = dedupeAddresses(parseAddressList(input.bcc, 'bcc'), seen);
  checkRecipientCount(to, cc, bcc);
  if (to.length === 0) throw new InvalidInputError('no_recipients', 'to needs at least one address', 'to');
  if (input.clientId && !(await filterVisibleClientIds(em, user, [input.clientId])).length) throw new InvalidInputError('client_not_found', 'The client does not exist', 'clientId');
  let forward: Message | null = null;
  if (input.forwardMessageId) {
    await assertMessageVisible(em, user, input.forwardMessageId);
    forward = await em.findOneOrFail(Message, { id: input.forwardMessageId });
  }
  const documentIds = await checkDocuments(em, user, input.documentIds);
  checkBody(input, documentIds.length > 0 || forward !== null);
  const body = composeBody(input, user.signature);
  return em.create(Outbox, {
    account,
    createdBy: user,
    kind: forward ? 'forward' : 'new',
    fromName: fromNameFor(account, user),
    to, cc, bcc,
    subject: cleanHeaderText(input.subject),
    text: body.text,
    html: body.html,
    inReplyTo: null,
    references: [],
    replyTo: null,
    messageIdHeader: newMessageId(account.email),
    documentIds,
    clientId: input.clientId ?? null,
    replyToMessage: null,
    forwardMessage: forward,
    status: 'queued',
  });
}

/** Asks a worker to send the row; call after the commit that created it. Safe to call twice. */
export async function enqueueSend(queue: JobQueue, outboxId: string, delayMs?: number): Promise<void> {
  await queue.enqueue('send-outbox', { outboxId }, { attempts: SEND_ATTEMPTS, backoffMs: SEND_BACKOFF_MS, delayMs });
}

/** One of the user's own outbox rows (NotFound for anyone else's). */
export async function getOutbox(em: Em, user: User, id: string): Promise<Outbox> {
  const row = await em.findOne(Outbox, { id, createdBy: user.id });
  if (!row) throw new NotFoundError('Outbox message');
  return row;
}

/** The user's outbox rows, newest first, optionally of one status. */
export async function listOutbox(em: Em, user: User, opts: { status?: OutboxStatus; limit: number; cursor?: string }): Promise<{ items: Outbox[]; nextCursor: string | null }> {
  let query = kysely(em).selectFrom('outbox as o').select((eb) => ['o.id', cursorTime(eb.ref('o.created_at')).as('at')])
    .where('o.created_by_id', '=', user.id);
  if (opts.status) query = query.where('o.status', '=', opts.status);
  if (opts.cursor) {
    const pos = decodeCursor(opts.cursor);
    query = query.where((eb) => eb(eb.refTuple('o.created_at', 'o.id'), '<', eb.tuple(cursorTimestamp(pos), pos.id)));
  }
  const rows = await query.orderBy('o.created_at', 'desc').orderBy('o.id', 'desc').limit(opts.limit + 1).execute();
  const page = rows.slice(0, opts.limit);
  const found = page.length ? await em.find(Outbox, { id: { $in: page.map((r) => r.id) } }) : [];
  const items = page.map((r) => found.find((o) => o.id === r.id)!).filter(Boolean);
  const last = page[page.length - 1];
  return { items, nextCursor: rows.length > opts.limit && last ? encodeCursor({ at: last.at, id: last.id }) : null };
}

export function viewOutbox(o: Outbox): OutboxView {
  return {
    id: o.id,
    kind: o.kind,
    status: o.status,
    ...(o.error ? { error: o.error } : {}),
    messageId: `<${o.messageIdHeader}>`,
    accountId: o.account.id,
    subject: o.subject,
    to: o.to,
    cc: o.cc,
    bcc: o.bcc,
    replyToMessageId: o.replyToMessage?.id ?? null,
    clientId: o.clientId ?? null,
    attempts: o.attempts,
    createdAt: o.createdAt.toISOString(),
    sentAt: o.sentAt?.toISOString() ?? null,
  };
}
