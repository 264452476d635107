// Fulfilment by reply: decides whether a newly stored message answers a file request (token in
// To/Cc/Delivered-To, a request Message-ID in In-Reply-To/References, or — only as a fallback, and only
// with a verified sender — the sender of exactly one open request) and records it. Runs inside the sync's store transaction; never sends.
import type { Readable } from 'node:stream';
import { sql } from 'kysely';
import { kysely, type Em } from '../platform/db.ts';
import type { FilingDeps } from '../log/filing.ts';
import { normalizeAddress } from '../mail/addresses.ts';
import { NotFoundError } from '../platform/errors.ts';
import { autoSaveAttachments } from '../documents/auto-save.ts';
import { FileRequest, FileRequestItem, FileRequestRecipient } from './file-request.entity.ts';
import { addEvent, createRequestOutbox, getFileRequestSettings, notifyUser, recomputeFileRequestStatus } from './file-requests.ts';
import { MailAccount } from '../mail/mail-account.entity.ts';
import { Message } from '../mail/message.entity.ts';
import { renderAcknowledgementMail, oneLine } from './templates/render.ts';
import { capReferences, normalizeMessageId } from '../mail/threading.ts';
import { User } from '../staff/user.entity.ts';
import { assertReviewable, listHeldReviewers } from '../mail/visibility.ts';

export type ReplyMatch =
  | { kind: 'none' }
  | { kind: 'accepted'; requestId: string; via: 'token' | 'thread' | 'sender'; documentIds: string[]; acknowledgementOutboxId: string | null }
  /** reason: from someone the request was not sent to, or matched by its sender alone without a verified sender (issue 12). */
  | { kind: 'held'; requestId: string; via: 'token' | 'thread' | 'sender'; reason: HeldReason }
  /** Matching threw; its work was rolled back to the savepoint. The caller logs it (core has no logger). */
  | { kind: 'failed'; messageId: string; error: string };

export type HeldReason = 'not_recipient' | 'sender_not_verified';

const TOKEN = /\+r-([0-9a-f]{24})@/iu;
const HEADER_LIMIT = 64 * 1024;

/** The raw header block (up to 64 KB) of a stored message, for fields the parser does not keep. */
async function readHeaderBlock(stream: Readable): Promise<string> {
  let buf = Buffer.alloc(0);
  try {
    for await (const chunk of stream) {
      buf = Buffer.concat([buf, chunk as Buffer]);
      const text = buf.toString('latin1');
      const end = text.search(/\r?\n\r?\n/u);
      if (end >= 0) return text.slice(0, end);
      if (buf.length >= HEADER_LIMIT) break;
    }
  } finally {
    stream.destroy();
  }
  return buf.toString('latin1').slice(0, HEADER_LIMIT);
}

/** Values of one header field, unfolded (RFC 5322 §2.2.3). */
export function headerValuesOf(block: string, name: string): string[] {
  const lines = block.replace(/\r?\n[ \t]+/gu, ' ').split(/\r?\n/u);
  const prefix = `${name.toLowerCase()}:`;
  return lines.filter((l) => l.toLowerCase().startsWith(prefix)).map((l) => l.slice(prefix.length).trim());
}

// ---------------------------------------------------------------- items

const STOPWORDS = new Set(['pdf', 'doc', 'docx', 'jpg', 'jpeg', 'png', 'xls', 'xlsx', 'the', 'and', 'for', 'your', 'our', 'scan', 'file', 'copy',
  'del', 'las', 'los', 'una', 'por', 'van', 'het', 'een', 'voor', 'met']);
const words = (s: string) => new Set(s.toLowerCase().normalize('NFKD').replace(/[\u0300-\u036f]/gu, '').split(/[^\p{L}\p{N}]+/u)
  .filter((w) => (w.length >= 3 || /^\d+$/u.test(w)) && !STOPWORDS.has(w)));

/**
 * Which checklist item each received file answers, by the words of its name ("tax-return-2025.pdf" →
 * "2025 tax return"): at least two of the label's words, or its only one. Files left over go to the
 * single item still open, if exactly one is. Unmatched files stay linked to the request alone.
 */
export function assignItems(items: { id: string; label: string; fulfilled: boolean }[], files: { id: string; name: string }[]): Map<string, string | null> {
  const out = new Map<string, string | null>();
  const used = new Set<string>();
  for (const f of files) {
    const fw = words(f.name);
    let best: { id: string; score: number } | null = null;
    for (const item of items) {
      const lw = [...words(item.label)];
      const score = lw.filter((w) => fw.has(w)).length;
      const needed = Math.min(2, lw.length);
      if (needed === 0 || score < needed) continue;
      const bonus = item.fulfilled || used.has(item.id) ? 0 : 0.5;
      if (!best || score + bonus > best.score) best = { id: item.id, score: score + bonus };
    }
    out.set(f.id, best?.id ?? null);
    if (best) used.add(best.id);
  }
  const open = items.filter((i) => !i.fulfilled && !used.has(i.id));
  if (open.length === 1) for (const f of files) if (out.get(f.id) === null) out.set(f.id, open[0]!.id);
  return out;
}

// ---------------------------------------------------------------- matching

type Candidate = { requestId: string; via: 'token' | 'thread' | 'sender' };

async function findByToken(em: Em, addresses: string[]): Promise<Candidate | null> {
  const tokens = new Set<string>();
  for (const a of addresses) {
    const m = TOKEN.exec(a);
    if (m) tokens.add(m[1]!.toLowerCase());
  }
  if (!tokens.size) return null;
  const row = await kysely(em).selectFrom('file_request_recipient').select('file_request_id')
    .where('token', 'in', [...tokens]).orderBy('created_at').limit(1)
    .executeTakeFirst();
  return row ? { requestId: row.file_request_id, via: 'token' } : null;
}

/**
 * The request a message answers, if any. The raw header block (Delivered-To, for a token that reached us
 * through Bcc or a forward) is read only for mail from an address some request was sent to, so an
 * initial sync of a large mailbox does not read every message twice.
 */
async function findCandidate(em: Em, message: Message, from: string, headerBlock: () => Promise<string>): Promise<Candidate | null> {
  const db = kysely(em);
  const addressRows = await db.selectFrom('message_address').select('address').where('message_id', '=', message.id).where('role', 'in', ['to', 'cc']).execute();
  const byToken = await findByToken(em, addressRows.map((r) => r.address));
  if (byToken) return byToken;
  const ids = [...new Set([message.inReplyTo, ...(message.references ?? [])].map((id) => normalizeMessageId(id)).filter((id): id is string => !!id))];
  if (ids.length) {
    // The request mail of a recipient, or a reminder / resend of the request (its outbox row is on the timeline).
    const row = await db.selectFrom('file_request_recipient').select('file_request_id').where('message_id_header', 'in', ids)
      .union((u) => u.selectFrom('file_request_event as e').innerJoin('outbox as o', 'o.id', 'e.outbox_id').select('e.file_request_id').where('o.message_id_header', 'in', ids))
      .limit(1)
      .executeTakeFirst();
    if (row) return { requestId: row.file_request_id, via: 'thread' };
  }
  const known = await db.selectFrom('file_request_recipient').select('id').where('address', '=', from).limit(1).executeTakeFirst();
  if (!known) return null;
  const block = await headerBlock();
  const delivered = await findByToken(em, [...headerValuesOf(block, 'delivered-to'), ...headerValuesOf(block, 'x-original-to')]);
  if (delivered) return delivered;
  // Fallback: files from a recipient of exactly one open request. A plain note without files is not
  // taken as an answer here: the client may be writing about anything else.
  if (!message.hasAttachments) return null;
  const open = await db.selectFrom('file_request as r').innerJoin('file_request_recipient as fr', 'fr.file_request_id', 'r.id')
    .select('r.id').distinct()
    .where('fr.address', '=', from).where('r.status', 'in', ['open', 'partially_fulfilled'])
    .limit(2)
    .execute();
  return open.length === 1 ? { requestId: open[0]!.id, via: 'sender' } : null;
}

/**
 * Records a newly stored message that answers a file request. Accepted (the sender is a recipient):
 * the mail is filed to the client, its files become client documents (auto-save hygiene, source
 * 'request') linked to the request and matching items, status and the owner's notifications follow,
 * and an acknowledgement is queued when the firm wants one. From anyone else: held for staff review.
 */
export async function matchFileRequestReply(em: Em, message: Message, deps: FilingDeps): Promise<ReplyMatch> {
  if (message.direction !== 'inbound' || !message.fromAddress) return { kind: 'none' };
  try {
    // A savepoint: whatever goes wrong here is undone alone and never blocks storing the mailbox's mail.
    return await em.transactional((tx) => matchReply(tx, message, deps), { propagation: 'nested' });
  } catch (err) {
    return { kind: 'failed', messageId: message.id, error: err instanceof Error ? err.message : String(err) };
  }
}

async function matchReply(em: Em, message: Message, deps: FilingDeps): Promise<ReplyMatch> {
  if (message.direction !== 'inbound' || !message.fromAddress) return { kind: 'none' };
  const from = normalizeAddress(message.fromAddress);
  if (!from) return { kind: 'none' };
  const anyOpen = await kysely(em).selectFrom('file_request').select('id').where('status', 'in', ['open', 'partially_fulfilled']).limit(1).executeTakeFirst();
  if (!anyOpen) return { kind: 'none' };
  let block: string | null = null;
  const headerBlock = async () => (block ??= await deps.blobs.get(message.rawBlob).then(readHeaderBlock).catch(() => ''));

  const candidate = await findCandidate(em, message, from, headerBlock);
  if (!candidate) return { kind: 'none' };
  // Out-of-office and other automatic replies (RFC 3834) answer nothing.
  const auto = headerValuesOf(await headerBlock(), 'auto-submitted')[0]?.toLowerCase();
  if (auto && auto !== 'no') return { kind: 'none' };
  const request = await em.findOneOrFail(FileRequest, { id: candidate.requestId });
  const recipients = await em.find(FileRequestRecipient, { fileRequest: request.id });
  const sender = recipients.find((r) => r.address === from);
  const already = await kysely(em).selectFrom('file_request_event').select('id')
    .where('file_request_id', '=', request.id).where('message_id', '=', message.id).where('kind', 'in', ['replied', 'held_for_review'])
    .limit(1)
    .executeTakeFirst();
  if (already) return { kind: 'none' };

  if (!sender) {
    // Someone else holds the token (forwarded mail, a guessed or leaked address): staff decide.
    return holdReply(em, request, message, from, candidate.via === 'sender' ? 'thread' : candidate.via, 'not_recipient');
  }
  // Matched by the From address alone (no token, no thread): anyone can write that, so only a verified
  // sender (an aligned DKIM signature, DMARC pass) fulfils the request; otherwise staff decide (issue 12).
  if (candidate.via === 'sender' && message.authentication?.verdict !== 'pass') return holdReply(em, request, message, from, 'sender', 'sender_not_verified');
  return acceptReply(em, request, message, from, candidate.via, deps);
}

async function holdReply(em: Em, request: FileRequest, message: Message, from: string, via: Candidate['via'], reason: HeldReason): Promise<ReplyMatch> {
  addEvent(em, request, 'held_for_review', { address: from, message: message.id, details: { via, reason } });
  const body = reason === 'not_recipient' ? `From ${from}, who is not a recipient of the request` : `From ${from}, but the sender could not be verified`;
  // Only those who may accept it hear of it (the mailbox's owner; admins for a public one): issue 12.
  for (const userId of await listHeldReviewers(em, message.id, [request.createdBy?.id])) {
    await notifyUser(em, userId, { kind: 'request_held', title: `Reply held for review: ${request.subject}`, body, clientId: request.client.id, fileRequestId: request.id, messageId: message.id });
  }
  await em.flush();
  return { kind: 'held', requestId: request.id, via, reason };
}

async function acceptReply(em: Em, request: FileRequest, message: Message, from: string, via: Candidate['via'], deps: FilingDeps): Promise<ReplyMatch> {
  const clientId = request.client.id;
  // Kept in the client's log even when the address's sync switch is off: it answers the firm's request.
  const db = kysely(em);
  await db.insertInto('communication')
    .columns(['id', 'client_id', 'kind', 'subject', 'notes', 'occurred_at', 'initiated_by', 'message_id', 'filed_by', 'created_at', 'updated_at'])
    .expression((q) => q.selectFrom('message as m').select((eb) => [
      eb.fn<string>('gen_random_uuid').as('id'), eb.val(clientId).as('client_id'), sql.lit('email').as('kind'), 'm.subject', sql.lit('').as('notes'), 'm.sent_at',
      sql.lit('client').as('initiated_by'), 'm.id as message_id', sql.lit('auto').as('filed_by'), eb.fn<Date>('now').as('created_at'), eb.fn<Date>('now').as('updated_at'),
    ]).where('m.id', '=', message.id))
    .onConflict((oc) => oc.columns(['client_id', 'message_id']).doNothing())
    .execute();

  let documentIds: string[] = [];
  if (request.status !== 'cancelled' && message.hasAttachments) {
    await autoSaveAttachments(em, { messageId: message.id, clientId }, deps);
    await em.flush();
    // A reply to a request is meant for the client's file: visible, like an upload (auto-saved mail stays hidden).
    await db.updateTable('document').set((eb) => ({ source: 'request', visible_to_client: true, updated_at: eb.fn<Date>('now') }))
      .where('client_id', '=', clientId).where('message_id', '=', message.id).where('source', '=', 'email')
      .execute();
    // This message's files, including ones the client already had (same content, saved once).
    const docs = await db.selectFrom('document as d').select(['d.id', 'd.name'])
      .where('d.client_id', '=', clientId).where('d.status', '=', 'saved')
      .where((eb) => eb.or([
        eb('d.message_id', '=', message.id),
        eb('d.sha256', 'in', eb.selectFrom('attachment').select('sha256').where('message_id', '=', message.id).where('inline', '=', false)),
      ]))
      .orderBy('d.created_at').orderBy('d.name')
      .execute();
    documentIds = docs.map((d) => d.id);
    const items = await em.find(FileRequestItem, { fileRequest: request.id }, { orderBy: { position: 'asc' } });
    const assigned = assignItems(items.map((i) => ({ id: i.id, label: i.label, fulfilled: i.fulfilled })), docs);
    for (const d of docs) {
      const itemId = assigned.get(d.id) ?? null;
      await db.insertInto('file_request_document')
        .values((eb) => ({ file_request_id: request.id, document_id: d.id, item_id: itemId, message_id: message.id, created_at: eb.fn<Date>('now') }))
        .onConflict((oc) => oc.doNothing())
        .execute();
      const item = itemId ? items.find((i) => i.id === itemId) : undefined;
      if (item && !item.fulfilled) {
        item.fulfilled = true;
        item.fulfilledAt = new Date();
      }
    }
  }
  addEvent(em, request, 'replied', { address: from, message: message.id, documentIds, details: { via } });
  if (documentIds.length) addEvent(em, request, 'document_received', { address: from, message: message.id, documentIds });
  const before = request.status;
  await recomputeFileRequestStatus(em, request, null);
  if (request.status !== 'fulfilled' || before === 'fulfilled') {
    await notifyUser(em, request.createdBy?.id, {
      kind: documentIds.length ? 'request_documents' : 'request_replied',
      title: documentIds.length ? `${documentIds.length === 1 ? '1 file' : `${documentIds.length} files`} received: ${request.subject}` : `Client replied: ${request.subject}`,
      clientId: request.client.id, fileRequestId: request.id, messageId: message.id,
    });
  }
  const ackId = documentIds.length ? await queueAcknowledgement(em, request, message, from, documentIds.length) : null;
  await em.flush();
  return { kind: 'accepted', requestId: request.id, via, documentIds, acknowledgementOutboxId: ackId };
}

/** Thanks the client for the files, if the firm enabled it and the address still takes file-request mail. */
async function queueAcknowledgement(em: Em, request: FileRequest, message: Message, to: string, files: number): Promise<string | null> {
  if (!(await getFileRequestSettings(em)).acknowledge || !request.account) return null;
  const r = await kysely(em).selectFrom('file_request_recipient as fr').innerJoin('contact_email as ce', 'ce.id', 'fr.contact_email_id')
    .select(['fr.id', 'ce.language', 'fr.name'])
    .where('fr.file_request_id', '=', request.id).where('fr.address', '=', to).where('ce.notify', '=', true)
    .where((eb) => eb(eb.val('file_requests'), '=', eb.fn.any('ce.notify_categories')))
    .executeTakeFirst();
  if (!r) return null;
  const account = await em.findOneOrFail(MailAccount, { id: request.account.id }, { populate: ['owner'] });
  const owner = request.createdBy ? await em.findOne(User, { id: request.createdBy.id }) : null;
  const fromName = oneLine(account.visibility === 'public' ? account.name : (owner?.name ?? account.name)).slice(0, 200);
  const mail = renderAcknowledgementMail({ language: r.language, recipientName: r.name, subject: request.subject, files, signature: owner?.signature ?? '', senderName: owner?.name ?? fromName });
  const parentId = normalizeMessageId(message.messageIdHeader);
  const refs = capReferences([...(message.references ?? []), ...(parentId ? [parentId] : [])].filter((x, i, a) => a.indexOf(x) === i), 20);
  const row = createRequestOutbox(em, {
    account, createdBy: owner, kind: 'file_request_ack', fromName, to: r.name ? { name: r.name, address: to } : { address: to }, mail,
    replyTokenOf: r.id, clientId: request.client.id, inReplyTo: parentId, references: refs,
  });
  addEvent(em, request, 'acknowledged', { address: to, outboxId: row.id });
  return row.id;
}

// ---------------------------------------------------------------- staff review

/**
 * Staff accept a held reply: it is treated as if a recipient had sent it. Only the owner of the mailbox
 * holding it (admins for a public mailbox) may; to anyone else it does not exist (404).
 */
export async function acceptHeldReply(em: Em, user: User, requestId: string, messageId: string, deps: FilingDeps): Promise<ReplyMatch> {
  const request = await em.findOne(FileRequest, { id: requestId });
  if (!request) throw new NotFoundError('File request');
  await assertReviewable(em, user, messageId, 'Held reply');
  const held = await kysely(em).selectFrom('file_request_event').select(['id', 'address'])
    .where('file_request_id', '=', requestId).where('message_id', '=', messageId).where('kind', '=', 'held_for_review')
    .executeTakeFirst();
  // Held replies always record their sender's address.
  if (!held?.address) throw new NotFoundError('Held reply');
  const message = await em.findOneOrFail(Message, { id: messageId });
  const address = held.address;
  addEvent(em, request, 'accepted', { actor: user, address, message: messageId });
  return acceptReply(em, request, message, address, 'thread', deps);
}
