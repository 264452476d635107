// Turns a filed message's real attachments into client documents (source 'email', hidden from the client
// until staff decide). Hygiene: no inline/cid images, no tiny images, winmail.dat unpacked, one document
// per content per client, oversized files kept as a visible 'too_large' marker. Never changes the mail.
import { lookup as lookupMimeType } from 'mime-types';
import { kysely, type Em } from '../platform/db.ts';
import type { BlobStore } from '../blobs/blob-store.ts';
import { Document } from './document.entity.ts';
import { sanitizeFilename } from '../platform/filenames.ts';
import { isTnef, unpackTnef } from '../mail/tnef.ts';

export type AutoSaveDeps = { blobs: BlobStore; maxAttachmentBytes: number };
export type AutoSaveResult = { saved: number; tooLarge: number; skipped: { name: string; reason: SkipReason }[] };
export type SkipReason = 'inline' | 'tiny_image' | 'signature' | 'duplicate' | 'empty';

/**
 * Images below this size are signature logos, social icons and tracking pixels, not documents: a
 * photographed receipt or a scan is far larger, and mail clients that forget to mark logos inline
 * (Outlook's image001.png in Cc'd replies) would otherwise fill the client's documents.
 */
export const TINY_IMAGE_BYTES = 15 * 1024;

/** Signature parts (S/MIME, OpenPGP) prove who sent the mail; they are no document to keep. */
const SIGNATURE_TYPES = /^application\/(pkcs7-signature|x-pkcs7-signature|pgp-signature)$/i;

type Candidate = { name: string; contentType: string; size: number; sha256: string; attachmentId: string };

/** Why an attachment is not a document, or null when it is one. `html` is the message's HTML source. */
export function skipReason(a: { filename: string; contentType: string; size: number; contentId: string | null; inline: boolean }, html: string | null): SkipReason | null {
  const image = /^image\//i.test(a.contentType);
  if (a.inline) return 'inline';
  if (image && a.contentId && html && html.includes(`cid:${a.contentId.replace(/^<|>$/g, '')}`)) return 'inline';
  if (a.size === 0) return 'empty';
  if (image && a.size < TINY_IMAGE_BYTES) return 'tiny_image';
  if (SIGNATURE_TYPES.test(a.contentType) || /^smime\.p7s$/i.test(a.filename)) return 'signature';
  return null;
}

const safeContentType = (ct: string) => (/^[\w.+-]+\/[\w.+-]+$/.test(ct.trim()) ? ct.trim().toLowerCase() : 'application/octet-stream');

async function readBlob(blobs: BlobStore, sha256: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of await blobs.get(sha256)) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** A Blob row for content just written to the store, in the caller's transaction (see blob-store.ts). */
export async function ensureBlobRow(em: Em, sha256: string, size: number): Promise<void> {
  await kysely(em).insertInto('blob')
    .values((eb) => ({ sha256, size, created_at: eb.fn<Date>('now') }))
    .onConflict((oc) => oc.column('sha256').doNothing())
    .execute();
}

/**
 * Saves the message's attachments as documents of the client. Idempotent: content the client already
 * has as a document (by sha256, any source) is not saved again. The caller owns the transaction.
 */
export async function autoSaveAttachments(em: Em, target: { messageId: string; clientId: string }, deps: AutoSaveDeps): Promise<AutoSaveResult> {
  const result: AutoSaveResult = { saved: 0, tooLarge: 0, skipped: [] };
  const db = kysely(em);
  const atts = await db.selectFrom('attachment')
    .select(['id', 'sha256', 'filename', 'content_type', 'size', 'content_id', 'inline'])
    .where('message_id', '=', target.messageId)
    .orderBy('position')
    .execute();
  if (!atts.length) return result;
  const msg = await db.selectFrom('message').select('html').where('id', '=', target.messageId).executeTakeFirst();
  const html = msg?.html ?? null;

  const candidates: (Candidate & { status: 'saved' | 'too_large' })[] = [];
  for (const row of atts) {
    const a = { filename: row.filename, contentType: row.content_type, size: Number(row.size), contentId: row.content_id, inline: row.inline };
    const name = sanitizeFilename(a.filename);
    const reason = skipReason(a, html);
    if (reason) {
      result.skipped.push({ name, reason });
      continue;
    }
    if (a.size > deps.maxAttachmentBytes) {
      candidates.push({ name, contentType: safeContentType(a.contentType), size: a.size, sha256: row.sha256, attachmentId: row.id, status: 'too_large' });
      continue;
    }
    if (isTnef(a.contentType, a.filename) && (await deps.blobs.has(row.sha256))) {
      const files = await unpackTnef(await readBlob(deps.blobs, row.sha256));
      if (files) {
        for (const f of files) {
          const innerName = sanitizeFilename(f.name, 'attachment');
          const contentType = lookupMimeType(innerName) || 'application/octet-stream';
          const inner = { filename: innerName, contentType, size: f.content.length, contentId: null, inline: false };
          const innerReason = skipReason(inner, null);
          if (innerReason) {
            result.skipped.push({ name: innerName, reason: innerReason });
            continue;
          }
          if (f.content.length > deps.maxAttachmentBytes) {
            candidates.push({ name: innerName, contentType, size: f.content.length, sha256: '', attachmentId: row.id, status: 'too_large' });
            continue;
          }
          const stored = await deps.blobs.put(f.content);
          await ensureBlobRow(em, stored.sha256, stored.size);
          candidates.push({ name: innerName, contentType, size: stored.size, sha256: stored.sha256, attachmentId: row.id, status: 'saved' });
        }
        continue;
      }
      // Not readable as TNEF: keep the file itself rather than lose what the client sent.
    }
    candidates.push({ name, contentType: safeContentType(a.contentType), size: a.size, sha256: row.sha256, attachmentId: row.id, status: 'saved' });
  }
  if (!candidates.length) return result;

  // em.find flushes pending Document rows first, so two messages filed in one transaction dedupe too.
  const shas = candidates.map((c) => c.sha256).filter(Boolean);
  const existing = new Set((await em.find(Document, { client: target.clientId, sha256: { $in: shas } }, { fields: ['sha256'] })).map((d) => d.sha256));
  for (const c of candidates) {
    if (c.sha256 && existing.has(c.sha256)) {
      result.skipped.push({ name: c.name, reason: 'duplicate' });
      continue;
    }
    if (c.sha256) existing.add(c.sha256);
    em.create(Document, {
      client: target.clientId,
      // A marker keeps the content hash (when known) so the same oversized file is marked once.
      sha256: c.sha256 || null,
      name: c.name,
      category: null,
      visibleToClient: false,
      size: c.size,
      contentType: c.contentType,
      source: 'email',
      status: c.status,
      message: target.messageId,
      attachment: c.attachmentId,
      createdBy: null,
    });
    if (c.status === 'saved') result.saved++;
    else result.tooLarge++;
  }
  return result;
}
