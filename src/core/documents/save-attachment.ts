// One attachment of one message to a client's documents (a3's gesture, issue 15): renamed, categorised from
// the managed list, visible to the client or not. The caller must see the message (core/mail's rule, via
// getAttachmentFile); the same bytes saved again for the client give back the document it already has.
import { kysely, type Em } from '../platform/db.ts';
import type { BlobStore } from '../blobs/blob-store.ts';
import { getAttachmentFile } from '../mail/message-queries.ts';
import { visibleClient, type Viewer } from '../mail/visibility.ts';
import { recordAudit } from '../staff/audit.ts';
import { InvalidInputError, RuleError } from '../platform/errors.ts';
import { sanitizeFilename } from '../platform/filenames.ts';
import { Document } from './document.entity.ts';
import { resolveCategory, servableContentType } from './documents.ts';

export type SaveAttachmentInput = { clientId: string; filename?: string; category?: string | null; visibleToClient?: boolean };

/**
 * Saves the attachment as a document of the client (source 'email', linked to its message and attachment),
 * or returns the client's existing document with the same content (`created: false`). Visible to the client
 * by default, as an upload is: staff chose to put it there (auto-saved attachments stay hidden).
 * The caller owns the transaction.
 */
export async function saveAttachmentToDocuments(em: Em, actor: Viewer, attachmentId: string, input: SaveAttachmentInput, deps: { blobs: BlobStore }): Promise<{ document: Document; created: boolean }> {
  const file = await getAttachmentFile(em, actor, attachmentId);
  // A restricted client the actor may not see reads as no such client.
  const client = await kysely(em).selectFrom('client as c').select('c.id').where('c.id', '=', input.clientId).where(visibleClient(actor, 'c.id')).executeTakeFirst();
  if (!client) throw new InvalidInputError('client_not_found', 'No such client', 'clientId');
  const existing = await em.findOne(Document, { client: client.id, sha256: file.sha256, status: 'saved' }, { orderBy: { createdAt: 'asc' } });
  if (existing) return { document: existing, created: false };
  if (!(await deps.blobs.has(file.sha256))) throw new RuleError('attachment_not_stored', 'This attachment was not stored (too large or unreadable); open it from the original message');
  let name = sanitizeFilename(file.filename, 'attachment');
  if (input.filename !== undefined) {
    name = sanitizeFilename(input.filename, '');
    if (name === 'attachment' && !/attachment/i.test(input.filename)) throw new InvalidInputError('invalid_name', 'The name must contain a usable file name', 'filename');
  }
  const category = await resolveCategory(em, input.category);
  const document = em.create(Document, {
    client: client.id, sha256: file.sha256, name, category, visibleToClient: input.visibleToClient ?? true, size: file.size,
    contentType: servableContentType(file.contentType), source: 'email', status: 'saved', message: file.messageId, attachment: attachmentId,
    createdBy: actor.id,
  });
  recordAudit(em, {
    actorId: actor.id, action: 'document.create', entityType: 'document', entityId: document.id, clientId: client.id,
    details: { name, size: file.size, sha256: file.sha256, messageId: file.messageId, attachmentId },
  });
  return { document, created: true };
}
