// Fulfilment by reply: decides whether a newly stored message answers a file request (token in
// To/Cc/Delivered-To, a request Message-ID in In-Reply-To/References, or — only as a fallback — the sender
// of exactly one open request) and records it. Runs inside the sync's store transaction; never sends.
import type { Readable } from 'node:stream';
import type { Em } from '../platform/db.ts';
import type { FilingDeps } from '../log/filing.ts';
import { normalizeAddress } from '../mail/addresses.ts';
import { NotFoundError } from '../platform/errors.ts';
import { autoSaveAttachments } from '../documents/auto-save.ts';
import { FileRequest, FileRequestItem, FileRequestRecipient } from './file-request.entity.ts';
import { addEvent, createRequestOutbox, getFileRequestSettings, notifyUser, recomputeFileRequestStatus, replyTokenAddress } from './file-requests.ts';
import { MailAccount } from '../mail/mail-account.entity.ts';
import { Message } from '../mail/message.entity.ts';
import { renderAcknowledgementMail, oneLine } from './templates/render.ts';
import { capReferences, normalizeMessageId } from '../mail/threading.ts';
import { User } from '../staff/user.entity.ts';

export type ReplyMatch =
  | { kind: 'none' }
  | { kind: 'accepted'; requestId: string; via: 'token' | 'thread' | 'sender'; documentIds: string[]; acknowledgementOutboxId: string | null }
  | { kind: 'held'; requestId: string; via: 'token' | 'thread' }
  | { kind: 'failed'; error: string };

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
  const rows = await em.execute<{ file_request_id: string }[]>('select file_request_id from file_request_recipient where token in (?) order by created_at limit 1', [[...tokens]]);
  return rows[0] ? { requestId: rows[0].file_request_id, via: 'token' } : null;
}

/**
 * The request a message answers, if any. The raw header block (Delivered-To, for a token that reached us
 * through Bcc or a forward) is read only for mail from an address some request was sent to, so an
 * initial sync of a large mailbox does not read every message twice.
 */
async function findCandidate(em: Em, message: Message, from: string, headerBlock: () => Promise<string>): Promise<Candidate | null> {
  const addressRows = await em.execute<{ address: string }[]>(`select address from message_address where message_id = ? and role in ('to', 'cc')`, [message.id]);
  const byToken = await findByToken(em, addressRows.map((r) => r.address));
  if (byToken) return byToken;
  const ids = [...new Set([message.inReplyTo, ...(message.references ?? [])].map((id) => normalizeMessageId(id)).filter((id): id is string => !!id))];
  if (ids.length) {
    // The request mail of a recipient, or a reminder / resend of the request (its outbox row is on the timeline).
    const rows = await em.execute<{ file_request_id: string }[]>(
      `select file_request_id from file_request_recipient where message_id_header in (?)
       union select e.file_request_id from file_request_event e join outbox o on o.id = e.outbox_id where o.message_id_header in (?)
       limit 1`,
      [ids, ids]);
    if (rows[0]) return { requestId: rows[0].file_request_id, via: 'thread' };
  }
  const [known] = await em.execute<{ n: number }[]>('select count(*)::int as n from (select 1 from file_request_recipient where address = ? limit 1) x', [from]);
  if (!Number(known?.n)) return null;
  const block = await headerBlock();
  const delivered = await findByToken(em, [...headerValuesOf(block, 'delivered-to'), ...headerValuesOf(block, 'x-original-to')]);
  if (delivered) return delivered;
  // Fallback: files from a recipient of exactly one open request. A plain note without files is not
  // taken as an answer here: the client may be writing about anything else.
  if (!message.hasAttachments) return null;
  const open = await em.execute<{ id: string }[]>(
    `select distinct r.id from file_request r join file_request_recipient fr on fr.file_request_id = r.id
      where fr.address = ? and r.status in ('open', 'partially_fulfilled') limit 2`, [from]);
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
    return { kind: 'failed', error: (err as Error).message };
  }
}

async function matchReply(em: Em, message: Message, deps: FilingDeps): Promise<ReplyMatch> {
  if (message.direction !== 'inbound' || !message.fromAddress) return { kind: 'none' };
  const from = normalizeAddress(message.fromAddress);
  if (!from) return { kind: 'none' };
  const [any] = await em.execute<{ n: number }[]>(`select count(*)::int as n from (select 1 from file_request where status in ('open', 'partially_fulfilled') limit 1) x`);
  if (!Number(any?.n)) return { kind: 'none' };
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
  const already = await em.execute<{ n: number }[]>(`select count(*)::int as n from file_request_event where file_request_id = ? and message_id = ? and kind in ('replied', 'held_for_review')`, [request.id, message.id]);
  if (Number(already[0]?.n)) return { kind: 'none' };

  if (!sender) {
    // Someone else holds the token (forwarded mail, a guessed or leaked address): staff decide.
    const via = candidate.via === 'sender' ? 'thread' : candidate.via;
    addEvent(em, request, 'held_for_review', { address: from, message: message.id, details: { via } });
    await notifyUser(em, request.createdBy?.id, { kind: 'request_held', title: `Reply held for review: ${request.subject}`, body: `From ${from}, who is not a recipient of the request`, clientId: request.client.id, fileRequestId: request.id, messageId: message.id });
    await em.flush();
    return { kind: 'held', requestId: request.id, via };
  }
  return acceptReply(em, request, message, from, candidate.via, deps);
}

async function acceptReply(em: Em, request: FileRequest, message: Message, from: string, via: Candidate['via'], deps: FilingDeps): Promise<ReplyMatch> {
  const clientId = request.client.id;
  // Kept in the client's log even when the address's sync switch is off: it answers the firm's request.
  await em.execute(
    `insert into communication (id, client_id, kind, subject, notes, occurred_at, initiated_by, message_id, filed_by, created_at, updated_at)
     select gen_random_uuid(), ?, 'email', m.subject, '', m.sent_at, 'client', m.id, 'auto', now(), now() from message m where m.id = ?
     on conflict (client_id, message_id) do nothing`,
    [clientId, message.id]);

  let documentIds: string[] = [];
  if (request.status !== 'cancelled' && message.hasAttachments) {
    await autoSaveAttachments(em, { messageId: message.id, clientId }, deps);
    await em.flush();
    await em.execute(`update document set source = 'request', updated_at = now() where client_id = ? and message_id = ? and source = 'email'`, [clientId, message.id]);
    // This message's files, including ones the client already had (same content, saved once).
    const docs = await em.execute<{ id: string; name: string }[]>(
      `select d.id, d.name from document d where d.client_id = ? and d.status = 'saved'
         and (d.message_id = ? or d.sha256 in (select sha256 from attachment where message_id = ? and not inline))
       order by d.created_at, d.name`,
      [clientId, message.id, message.id]);
    documentIds = docs.map((d) => d.id);
    const items = await em.find(FileRequestItem, { fileRequest: request.id }, { orderBy: { position: 'asc' } });
    const assigned = assignItems(items.map((i) => ({ id: i.id, label: i.label, fulfilled: i.fulfilled })), docs);
    for (const d of docs) {
      const itemId = assigned.get(d.id) ?? null;
      await em.execute(
        `insert into file_request_document (file_request_id, document_id, item_id, message_id, created_at) values (?, ?, ?, ?, now()) on conflict do nothing`,
        [request.id, d.id, itemId, message.id]);
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
      title: documentIds.length ? `${documentIds.length} file(s) received: ${request.subject}` : `Client replied: ${request.subject}`,
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
  const rows = await em.execute<{ language: 'en' | 'es' | 'nl'; name: string | null; token: string }[]>(
    `select ce.language, fr.name, fr.token from file_request_recipient fr join contact_email ce on ce.id = fr.contact_email_id
      where fr.file_request_id = ? and fr.address = ? and ce.notify and 'file_requests' = any(ce.notify_categories)`, [request.id, to]);
  const r = rows[0];
  if (!r) return null;
  const account = await em.findOneOrFail(MailAccount, { id: request.account.id }, { populate: ['owner'] });
  const owner = request.createdBy ? await em.findOne(User, { id: request.createdBy.id }) : null;
  const fromName = oneLine(account.visibility === 'public' ? account.name : (owner?.name ?? account.name)).slice(0, 200);
  const mail = renderAcknowledgementMail({ language: r.language, recipientName: r.name, subject: request.subject, files, signature: owner?.signature ?? '' });
  const parentId = normalizeMessageId(message.messageIdHeader);
  const refs = capReferences([...(message.references ?? []), ...(parentId ? [parentId] : [])].filter((x, i, a) => a.indexOf(x) === i), 20);
  const row = createRequestOutbox(em, {
    account, createdBy: owner, kind: 'file_request_ack', fromName, to: r.name ? { name: r.name, address: to } : { address: to }, mail,
    replyTo: replyTokenAddress(account.email, r.token), clientId: request.client.id, inReplyTo: parentId, references: refs,
  });
  addEvent(em, request, 'acknowledged', { address: to, outboxId: row.id });
  return row.id;
}

// ---------------------------------------------------------------- staff review

/** Staff accept a held reply: it is treated as if a recipient had sent it. */
export async function acceptHeldReply(em: Em, user: User, requestId: string, messageId: string, deps: FilingDeps): Promise<ReplyMatch> {
  const request = await em.findOne(FileRequest, { id: requestId });
  if (!request) throw new NotFoundError('File request');
  const held = await em.execute<{ id: string; address: string }[]>(`select id, address from file_request_event where file_request_id = ? and message_id = ? and kind = 'held_for_review'`, [requestId, messageId]);
  if (!held[0]) throw new NotFoundError('Held reply');
  const message = await em.findOneOrFail(Message, { id: messageId });
  addEvent(em, request, 'accepted', { actor: user, address: held[0].address, message: messageId });
  return acceptReply(em, request, message, held[0].address, 'thread', deps);
}
