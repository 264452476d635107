// Client documents: list, upload, rename / categorise / show to the client, open for download, delete.
// Names are labels only (sanitised; storage is by content hash). No HTTP here: the route sets headers.
import type { Readable } from 'node:stream';
import { kysely, type Em } from '../platform/db.ts';
import type { BlobStore } from '../blobs/blob-store.ts';
import { recordAudit } from '../staff/audit.ts';
import { Document, type DocumentSource, type DocumentStatus } from './document.entity.ts';
import { InvalidInputError, NotFoundError, RuleError } from '../platform/errors.ts';
import { sanitizeFilename } from '../platform/filenames.ts';
import { cursorTime, cursorTimestamp, decodeCursor, encodeCursor } from '../platform/keyset-cursor.ts';
import { ensureBlobRow } from './auto-save.ts';
import { Client } from '../crm/client.entity.ts';
import type { Actor } from '../crm/contacts.ts';
import { cleanHeaderText } from '../platform/text.ts';

export type DocumentView = {
  id: string; clientId: string; name: string; category: string | null; visibleToClient: boolean; size: number; contentType: string;
  sha256: string | null; source: DocumentSource; status: DocumentStatus; messageId: string | null; createdAt: string; updatedAt: string;
};
export type DocumentPatch = { name?: string; category?: string | null; visibleToClient?: boolean };

function selectDocuments(em: Em) {
  return kysely(em).selectFrom('document as d').select((eb) => [
    'd.id', 'd.client_id', 'd.name', 'd.category', 'd.visible_to_client', 'd.size', 'd.content_type', 'd.sha256', 'd.source', 'd.status',
    'd.message_id', 'd.created_at', 'd.updated_at', cursorTime(eb.ref('d.created_at')).as('cursor_at'),
  ]);
}
type Row = Awaited<ReturnType<ReturnType<typeof selectDocuments>['executeTakeFirstOrThrow']>>;
const toView = (r: Row): DocumentView => ({
  id: r.id, clientId: r.client_id, name: r.name, category: r.category, visibleToClient: r.visible_to_client, size: Number(r.size),
  contentType: r.content_type, sha256: r.sha256, source: r.source, status: r.status, messageId: r.message_id,
  createdAt: new Date(r.created_at).toISOString(), updatedAt: new Date(r.updated_at).toISOString(),
});

/** Only a plain type/subtype is ever served; anything else (parameters, junk, header injection) becomes octet-stream. */
export const servableContentType = (ct: string | null | undefined) =>
  ct && /^[a-z0-9][\w.+-]*\/[\w.+-]+$/i.test(ct.trim()) ? ct.trim().toLowerCase() : 'application/octet-stream';

/** A client's documents, newest first. */
export async function listDocuments(em: Em, clientId: string, page: { limit: number; cursor?: string }, filter: { visible?: boolean } = {}): Promise<{ items: DocumentView[]; nextCursor: string | null }> {
  await requireClient(em, clientId);
  let query = selectDocuments(em).where('d.client_id', '=', clientId);
  if (filter.visible !== undefined) query = query.where('d.visible_to_client', '=', filter.visible);
  if (page.cursor) {
    const pos = decodeCursor(page.cursor);
    query = query.where((eb) => eb(eb.refTuple('d.created_at', 'd.id'), '<', eb.tuple(cursorTimestamp(pos), pos.id)));
  }
  const rows = await query.orderBy('d.created_at', 'desc').orderBy('d.id', 'desc').limit(page.limit + 1).execute();
  const more = rows.length > page.limit;
  const items = rows.slice(0, page.limit);
  const last = items[items.length - 1];
  return { items: items.map(toView), nextCursor: more && last ? encodeCursor({ at: last.cursor_at, id: last.id }) : null };
}

/**
 * What is visible to the client: documents its contacts may receive (uploads, request replies, explicitly
 * saved attachments and anything shared; auto-saved attachments stay hidden until someone shows or shares them).
 * The newest `limit` kept ones and how many there are.
 */
export async function listVisibleDocuments(em: Em, clientId: string, limit: number): Promise<{ items: DocumentView[]; total: number }> {
  await requireClient(em, clientId);
  const rows = await selectDocuments(em).where('d.client_id', '=', clientId).where('d.visible_to_client', '=', true)
    .orderBy('d.created_at', 'desc').orderBy('d.id', 'desc').limit(limit).execute();
  const count = await kysely(em).selectFrom('document').select((eb) => eb.fn.countAll<string>().as('n'))
    .where('client_id', '=', clientId).where('visible_to_client', '=', true).executeTakeFirstOrThrow();
  return { items: rows.map(toView), total: Number(count.n) };
}

export async function getDocumentView(em: Em, id: string): Promise<DocumentView> {
  const row = await selectDocuments(em).where('d.id', '=', id).executeTakeFirst();
  if (!row) throw new NotFoundError('Document');
  return toView(row);
}

async function getDocument(em: Em, id: string): Promise<Document> {
  const doc = await em.findOne(Document, { id });
  if (!doc) throw new NotFoundError('Document');
  return doc;
}

const clientIdOf = (d: Document) => (d.client as unknown as { id: string }).id;

/**
 * Stores an uploaded file (already streamed to the blob store by the caller) as a document. Uploads are
 * shown to the client by default (staff chose to put them there); the Blob row commits with the document.
 */
export async function createUploadedDocument(
  em: Em, actor: Actor, clientId: string,
  file: { sha256: string; size: number; filename: string; contentType: string; category?: string | null; visibleToClient?: boolean },
): Promise<Document> {
  const client = await requireClient(em, clientId);
  await ensureBlobRow(em, file.sha256, file.size);
  const doc = em.create(Document, {
    client, sha256: file.sha256, name: sanitizeFilename(file.filename, 'upload'), category: await resolveCategory(em, file.category),
    visibleToClient: file.visibleToClient ?? true, size: file.size, contentType: servableContentType(file.contentType),
    source: 'upload', status: 'saved', message: null, attachment: null, createdBy: actor?.id ?? null,
  });
  recordAudit(em, { actorId: actor?.id ?? null, action: 'document.create', entityType: 'document', entityId: doc.id, clientId, details: { name: doc.name, size: file.size, sha256: file.sha256 } });
  return doc;
}

/**
 * The category as the firm's managed list spells it (matched without regard to case). A name not yet on the
 * list is added to it: staff may add categories (admins delete them). Blank or null means none.
 */
export async function resolveCategory(em: Em, raw: string | null | undefined): Promise<string | null> {
  const name = raw === undefined || raw === null ? '' : cleanHeaderText(raw).replace(/\s+/gu, ' ').slice(0, 100);
  if (!name) return null;
  const db = kysely(em);
  const row = await db.selectFrom('document_category').select('name')
    .where((eb) => eb(eb.fn('lower', ['name']), '=', name.toLowerCase())).orderBy('created_at').executeTakeFirst();
  if (row) return row.name;
  await db.insertInto('document_category').values((eb) => ({ id: eb.fn<string>('gen_random_uuid'), name, active: true, created_at: eb.fn<Date>('now') }))
    .onConflict((oc) => oc.column('name').doNothing()).execute();
  return name;
}

export async function updateDocument(em: Em, actor: Actor, id: string, patch: DocumentPatch): Promise<Document> {
  const doc = await getDocument(em, id);
  const changed: Record<string, unknown> = {};
  if (patch.name !== undefined) {
    // sanitizeFilename falls back to "attachment" when nothing usable is left.
    const name = sanitizeFilename(patch.name, '');
    if (name === 'attachment' && !/attachment/i.test(patch.name)) throw new InvalidInputError('invalid_name', 'The name must contain a usable file name', 'name');
    if (name !== doc.name) changed.name = doc.name = name;
  }
  if (patch.category !== undefined) {
    const category = await resolveCategory(em, patch.category);
    if (category !== doc.category) changed.category = doc.category = category;
  }
  if (patch.visibleToClient !== undefined && patch.visibleToClient !== doc.visibleToClient) changed.visibleToClient = doc.visibleToClient = patch.visibleToClient;
  if (Object.keys(changed).length) recordAudit(em, { actorId: actor?.id ?? null, action: 'document.update', entityType: 'document', entityId: id, clientId: clientIdOf(doc), details: { changed } });
  return doc;
}

/** Deletes the document row. The blob may be shared (same content elsewhere); the orphan sweep owns file removal. */
export async function deleteDocument(em: Em, actor: Actor, id: string): Promise<void> {
  const doc = await getDocument(em, id);
  recordAudit(em, { actorId: actor?.id ?? null, action: 'document.delete', entityType: 'document', entityId: id, clientId: clientIdOf(doc), details: { name: doc.name, sha256: doc.sha256 } });
  em.remove(doc);
}

/** The file behind a document; a too-large marker has none to give (422 document_not_saved). */
export async function openDocument(em: Em, blobs: BlobStore, id: string): Promise<{ doc: DocumentView; stream: Readable }> {
  const doc = await getDocumentView(em, id);
  if (doc.status !== 'saved' || !doc.sha256) throw new RuleError('document_not_saved', `"${doc.name}" was too large to save; open it from the original message`);
  if (!(await blobs.has(doc.sha256))) throw new NotFoundError('Document file');
  return { doc, stream: await blobs.get(doc.sha256) };
}

/** The client documents belong to (crm comes after documents in core's domain order, so no crm import). */
async function requireClient(em: Em, id: string): Promise<Client> {
  const client = await em.findOne(Client, { id });
  if (!client) throw new NotFoundError('Client');
  return client;
}
