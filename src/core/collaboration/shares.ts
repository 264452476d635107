// Document shares: per-recipient signed download links sent by mail (no login), listed on the document with
// downloads, revocable. A token is HMAC-signed over (recipient, document, expiry) with a key derived from
// the server secret, and only its SHA-256 is stored: a changed token finds no row and opens nothing.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Em } from '../platform/db.ts';
import type { JobQueue } from '../platform/jobs.ts';
import { recordAudit } from '../staff/audit.ts';
import { Client } from '../crm/client.entity.ts';
import { getSenderAccount, pickRecipients, senderName } from './discussions.ts';
import { Document } from '../documents/document.entity.ts';
import { InvalidInputError, NotFoundError, RuleError } from '../platform/errors.ts';
import { Outbox } from '../outbox/outbox.entity.ts';
import { enqueueSend, newMessageId } from '../outbox/outbox.ts';
import { sha256Hex } from '../platform/secrets.ts';
import { Share, ShareDownload, ShareLink, ShareRecipient } from './share.entity.ts';
import { createNotification } from './staff-notifications.ts';
import { renderShareMail } from './templates/collaboration-mail.ts';
import { oneLine } from './templates/render.ts';
import type { Language, User } from '../staff/user.entity.ts';
import { sealOutboxBody } from '../outbox/outbox-secrets.ts';

export const DEFAULT_SHARE_DAYS = 14;
export const MAX_SHARE_DAYS = 90;
export const MAX_SHARE_DOCUMENTS = 20;
export const MAX_SHARE_RECIPIENTS = 20;
const DAY_MS = 86_400_000;

export type ShareInput = { documentIds: string[]; contactEmailIds: string[]; expiresInDays?: number; message?: string; accountId?: string };

// ---------------------------------------------------------------- tokens

/** The link-signing key: derived from the server secret for this one purpose, so it signs nothing else. */
export function shareKey(secretKey: Buffer): Buffer {
  return createHmac('sha256', secretKey).update('dossier share links v1').digest();
}

const mac = (key: Buffer, nonce: string, recipientId: string, documentId: string, exp: number) =>
  createHmac('sha256', key).update(`${nonce}|${recipientId}|${documentId}|${exp}`).digest('base64url');

/** `<nonce>.<expiry seconds, base36>.<HMAC>`: URL-safe, 70-odd characters. */
export function signShareToken(key: Buffer, recipientId: string, documentId: string, expiresAt: Date): string {
  const nonce = randomBytes(12).toString('base64url');
  const exp = Math.floor(expiresAt.getTime() / 1000);
  return `${nonce}.${exp.toString(36)}.${mac(key, nonce, recipientId, documentId, exp)}`;
}

const TOKEN = /^([A-Za-z0-9_-]{16})\.([0-9a-z]{1,10})\.([A-Za-z0-9_-]{43})$/u;

export type ShareAccess =
  | { kind: 'ok'; link: ShareLink; document: Document; recipient: ShareRecipient; share: Share }
  | { kind: 'expired' | 'revoked'; language: Language }
  | { kind: 'invalid'; language: Language | null };

/**
 * What a token opens. The row is found by the token's hash; the signature must then match that row's
 * recipient, document and expiry. Revoked and expired links say so (in the recipient's
 * language); anything else is 'invalid' and reveals nothing.
 */
export async function resolveShareToken(em: Em, secretKey: Buffer, token: string, now = new Date()): Promise<ShareAccess> {
  const m = TOKEN.exec(token);
  if (!m) return { kind: 'invalid', language: null };
  const link = await em.findOne(ShareLink, { tokenHash: sha256Hex(token) }, { populate: ['shareRecipient', 'shareRecipient.share', 'document'] });
  if (!link) return { kind: 'invalid', language: null };
  const recipient = link.shareRecipient;
  const share = recipient.share;
  const exp = parseInt(m[2]!, 36);
  const expected = Buffer.from(mac(shareKey(secretKey), m[1]!, recipient.id, link.document.id, exp));
  const given = Buffer.from(m[3]!);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) return { kind: 'invalid', language: recipient.language };
  if (share.revokedAt) return { kind: 'revoked', language: recipient.language };
  // The signed expiry and the share's own (which may have been shortened since): the earlier one wins.
  if (now.getTime() >= Math.min(exp * 1000, share.expiresAt.getTime())) return { kind: 'expired', language: recipient.language };
  const document = link.document;
  if (document.client.id !== share.client.id || document.status !== 'saved' || !document.sha256) return { kind: 'invalid', language: recipient.language };
  return { kind: 'ok', link, document, recipient, share };
}

// ---------------------------------------------------------------- operations

/**
 * Shares client documents with chosen contacts (notify on, 'documents' category): one mail per recipient
 * with their own links, in their language. Sets visibleToClient on the documents. The caller flushes,
 * then enqueueShareMail.
 */
export async function createShare(em: Em, user: User, clientId: string, input: ShareInput, ctx: { secretKey: Buffer; publicUrl: string }): Promise<{ share: Share; outboxIds: string[] }> {
  const client = await em.findOne(Client, { id: clientId });
  if (!client) throw new NotFoundError('Client');
  const days = input.expiresInDays ?? DEFAULT_SHARE_DAYS;
  if (!Number.isInteger(days) || days < 1 || days > MAX_SHARE_DAYS) throw new InvalidInputError('invalid_expiry', `expiresInDays must be a whole number from 1 to ${MAX_SHARE_DAYS}`, 'expiresInDays');
  const documentIds = [...new Set(input.documentIds)];
  if (!documentIds.length) throw new InvalidInputError('required', 'Choose at least one document', 'documentIds');
  if (documentIds.length > MAX_SHARE_DOCUMENTS) throw new InvalidInputError('too_many_documents', `At most ${MAX_SHARE_DOCUMENTS} documents`, 'documentIds');
  const docs = await em.find(Document, { id: { $in: documentIds } });
  const ordered = documentIds.map((id, i) => {
    const doc = docs.find((d) => d.id === id);
    if (!doc || doc.client.id !== client.id) throw new InvalidInputError('document_not_found', 'That is not a document of this client', `documentIds.${i}`);
    if (doc.status !== 'saved' || !doc.sha256) throw new RuleError('document_not_stored', `"${doc.name}" was not kept (too large) and cannot be shared`, `documentIds.${i}`);
    return doc;
  });
  const message = input.message ?? '';
  if (message.length > 10_000) throw new InvalidInputError('too_long', 'message may be at most 10,000 characters', 'message');
  const recipients = await pickRecipients(em, client.id, input.contactEmailIds, 'documents', MAX_SHARE_RECIPIENTS);
  const account = await getSenderAccount(em, user, input.accountId);
  // Whole seconds: the token carries the expiry in seconds and must match the row exactly.
  const expiresAt = new Date(Math.floor((Date.now() + days * DAY_MS) / 1000) * 1000);
  const share = em.create(Share, { client, account, createdBy: user, message, expiresAt, revokedAt: null, revokedBy: null });
  const key = shareKey(ctx.secretKey);
  const fromName = senderName(account, user);
  const outboxIds: string[] = [];
  for (const r of recipients) {
    const name = r.contactName ? oneLine(r.contactName).slice(0, 200) : null;
    const recipient = em.create(ShareRecipient, { share, contactEmail: r.contactEmailId, address: r.address, name, language: r.language, outboxId: null });
    const links = ordered.map((doc) => {
      const token = signShareToken(key, recipient.id, doc.id, expiresAt);
      em.create(ShareLink, { shareRecipient: recipient, document: doc, tokenHash: sha256Hex(token) });
      return { name: doc.name, url: `${ctx.publicUrl}/s/${token}` };
    });
    const mail = renderShareMail({ language: r.language, recipientName: name, firmName: fromName || account.name, message, links, expiresAt, signature: user.signature });
    const row = em.create(Outbox, {
      account, createdBy: user, kind: 'share', fromName: fromName || null, to: [name ? { name, address: r.address } : { address: r.address }], cc: [], bcc: [],
      // Sealed: the body holds working links to client documents (only their hashes are kept elsewhere).
      subject: mail.subject, ...sealOutboxBody(ctx.secretKey, { text: mail.text, html: mail.html }), inReplyTo: null, references: [], replyTo: null,
      messageIdHeader: newMessageId(account.email), documentIds: [], clientId: client.id, replyToMessage: null, forwardMessage: null, status: 'queued',
    });
    recipient.outboxId = row.id;
    outboxIds.push(row.id);
  }
  for (const doc of ordered) doc.visibleToClient = true;
  recordAudit(em, { actorId: user.id, action: 'share.create', entityType: 'share', entityId: share.id, clientId: client.id, details: { documents: ordered.map((d) => d.id), recipients: recipients.map((r) => r.address), expiresAt: expiresAt.toISOString() } });
  return { share, outboxIds };
}

export async function enqueueShareMail(queue: JobQueue, outboxIds: string[]): Promise<void> {
  for (const id of outboxIds) await enqueueSend(queue, id);
}

/** Revokes every link of the share at once (idempotent). */
export async function revokeShare(em: Em, user: User, id: string): Promise<Share> {
  const share = await em.findOne(Share, { id });
  if (!share) throw new NotFoundError('Share');
  if (!share.revokedAt) {
    share.revokedAt = new Date();
    share.revokedBy = user;
    recordAudit(em, { actorId: user.id, action: 'share.revoke', entityType: 'share', entityId: share.id, clientId: share.client.id, details: {} });
  }
  return share;
}

/** Records a download; the first one of a link tells the person who shared it. */
export async function recordShareDownload(em: Em, access: Extract<ShareAccess, { kind: 'ok' }>, who: { ip?: string | null; userAgent?: string | null }, opts: { publicUrl?: string } = {}): Promise<{ first: boolean; outboxId: string | null }> {
  const before = await em.count(ShareDownload, { shareLink: access.link.id });
  em.create(ShareDownload, { shareLink: access.link, ip: who.ip ?? null, userAgent: who.userAgent ? oneLine(who.userAgent).slice(0, 500) : null });
  if (before > 0 || !access.share.createdBy) return { first: before === 0, outboxId: null };
  const { outboxId } = await createNotification(em, {
    userId: access.share.createdBy.id, kind: 'share_downloaded',
    title: `${access.recipient.address} downloaded "${access.document.name}"`,
    link: `/clients/${access.share.client.id}/documents?document=${access.document.id}`, clientId: access.share.client.id,
  }, opts);
  return { first: true, outboxId };
}

export type ShareView = {
  id: string; clientId: string; status: 'active' | 'expired' | 'revoked'; message: string; createdAt: string; expiresAt: string; revokedAt: string | null;
  createdBy: { id: string; name: string } | null;
  recipients: { id: string; address: string; name: string | null; language: Language; downloads: { at: string }[] }[];
};

/** Shares that include the document, newest first, with each recipient's downloads of this document. */
export async function listDocumentShares(em: Em, documentId: string): Promise<ShareView[]> {
  if (!(await em.count(Document, { id: documentId }))) throw new NotFoundError('Document');
  const links = await em.find(ShareLink, { document: documentId }, { populate: ['shareRecipient', 'shareRecipient.share', 'shareRecipient.share.createdBy'] });
  const downloads = links.length ? await em.find(ShareDownload, { shareLink: { $in: links.map((l) => l.id) } }, { orderBy: { at: 'asc' } }) : [];
  const shares = new Map<string, ShareView>();
  const now = Date.now();
  for (const l of links) {
    const r = l.shareRecipient;
    const s = r.share;
    let view = shares.get(s.id);
    if (!view) {
      view = {
        id: s.id, clientId: s.client.id, status: s.revokedAt ? 'revoked' : s.expiresAt.getTime() <= now ? 'expired' : 'active', message: s.message,
        createdAt: s.createdAt.toISOString(), expiresAt: s.expiresAt.toISOString(), revokedAt: s.revokedAt?.toISOString() ?? null,
        createdBy: s.createdBy ? { id: s.createdBy.id, name: s.createdBy.name } : null, recipients: [],
      };
      shares.set(s.id, view);
    }
    view.recipients.push({
      id: r.id, address: r.address, name: r.name ?? null, language: r.language,
      downloads: downloads.filter((d) => d.shareLink.id === l.id).map((d) => ({ at: d.at.toISOString() })),
    });
  }
  return [...shares.values()].sort((a, b) => b.createdAt.localeCompare(a.createdAt));
}

export type ClientShareView = Omit<ShareView, 'recipients'> & {
  documents: { id: string; name: string }[];
  recipients: { id: string; address: string; name: string | null; language: Language; downloads: { at: string; documentId: string }[] }[];
};

/** A client's shares, newest first: documents, recipients and every download (who, which file, when). */
export async function listClientShares(em: Em, clientId: string, limit = 100): Promise<ClientShareView[]> {
  if (!(await em.count(Client, { id: clientId }))) throw new NotFoundError('Client');
  const shares = await em.find(Share, { client: clientId }, { orderBy: { createdAt: 'desc', id: 'desc' }, limit, populate: ['createdBy'] });
  if (!shares.length) return [];
  const recipients = await em.find(ShareRecipient, { share: { $in: shares.map((s) => s.id) } }, { orderBy: { createdAt: 'asc', address: 'asc' } });
  const links = recipients.length ? await em.find(ShareLink, { shareRecipient: { $in: recipients.map((r) => r.id) } }, { populate: ['document'] }) : [];
  const downloads = links.length ? await em.find(ShareDownload, { shareLink: { $in: links.map((l) => l.id) } }, { orderBy: { at: 'asc' } }) : [];
  const now = Date.now();
  return shares.map((s) => {
    const mine = recipients.filter((r) => r.share.id === s.id);
    const docs = new Map<string, string>();
    for (const l of links) if (mine.some((r) => r.id === l.shareRecipient.id)) docs.set(l.document.id, l.document.name);
    return {
      id: s.id, clientId: s.client.id, status: s.revokedAt ? 'revoked' : s.expiresAt.getTime() <= now ? 'expired' : 'active', message: s.message,
      createdAt: s.createdAt.toISOString(), expiresAt: s.expiresAt.toISOString(), revokedAt: s.revokedAt?.toISOString() ?? null,
      createdBy: s.createdBy ? { id: s.createdBy.id, name: s.createdBy.name } : null,
      documents: [...docs].map(([id, name]) => ({ id, name })),
      recipients: mine.map((r) => ({
        id: r.id, address: r.address, name: r.name ?? null, language: r.language,
        downloads: downloads.flatMap((d) => {
          const link = links.find((l) => l.id === d.shareLink.id);
          return link && link.shareRecipient.id === r.id ? [{ at: d.at.toISOString(), documentId: link.document.id }] : [];
        }),
      })),
    };
  });
}
