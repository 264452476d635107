// Client documents: list, multipart upload (size-limited by config.maxUploadBytes), rename / category /
// visibility, download as an attachment that browsers never render in our origin, delete.
import type { FastifyInstance } from 'fastify';
import type { Static } from 'typebox';
import { create as contentDisposition } from 'content-disposition';
import { createUploadedDocument, deleteDocument, getDocumentView, listDocuments, listVisibleDocuments, openDocument, updateDocument } from '../../core/documents/documents.ts';
import { getClient } from '../../core/crm/clients.ts';
import { InvalidInputError } from '../../core/platform/errors.ts';
import { currentUser } from '../auth.ts';
import { IdParams } from '../schemas.ts';
import { AttachmentSave, AttachmentSaved, DocumentPage, DocumentPatch, DocumentView, DocumentsCreated, DocumentPageQuery, VisibleDocuments } from '../schemas/crm.ts';
import { saveAttachmentToDocuments } from '../../core/documents/save-attachment.ts';
import { HttpError, STATUS } from '../errors.ts';

/** The plain-ASCII filename for clients that ignore filename*: accents dropped, anything else "_". */
const asciiFallback = (name: string) => name.normalize('NFD').replace(/[\u0300-\u036f]/g, '').replace(/[^\x20-\x7e]/g, '_');
const asBool = (v: string | undefined) => (v === undefined ? undefined : ['true', '1', 'on', 'yes'].includes(v.trim().toLowerCase()));

export async function documentRoutes(app: FastifyInstance) {
  const tags = ['documents'];

  app.get<{ Params: Static<typeof IdParams>; Querystring: DocumentPageQuery }>('/clients/:id/documents', {
    schema: { tags, params: IdParams, querystring: DocumentPageQuery, response: { 200: DocumentPage } },
  }, async (req) => listDocuments(req.em, req.params.id, { limit: req.query.limit ?? 50, cursor: req.query.cursor }, { visible: req.query.visible }));

  app.get<{ Params: Static<typeof IdParams> }>('/clients/:id/visible-documents', {
    schema: { tags, params: IdParams, response: { 200: VisibleDocuments } },
  }, async (req) => listVisibleDocuments(req.em, req.params.id, 5));

  app.post<{ Params: Static<typeof IdParams> }>('/clients/:id/documents', {
    schema: { tags, params: IdParams, consumes: ['multipart/form-data'], response: { 201: DocumentsCreated } },
  }, async (req, reply) => {
    const user = currentUser(req);
    if (!req.isMultipart()) throw new InvalidInputError('not_multipart', 'Upload files as multipart/form-data', 'file');
    await getClient(req.em, req.params.id);
    const fields: Record<string, string> = {};
    const files: { sha256: string; size: number; filename: string; contentType: string }[] = [];
    // Files stream straight into the blob store; @fastify/multipart aborts a file over maxUploadBytes (413).
    for await (const part of req.parts()) {
      if (part.type === 'file') {
        const stored = await app.deps.blobs.put(part.file);
        // Over the limit: the blob written so far has no row and goes with the orphan sweep.
        if (part.file.truncated) throw new HttpError(STATUS.tooLarge, 'too_large', `The upload is larger than ${Math.round(app.deps.config.maxUploadBytes / 1024 / 1024)} MB`, 'file');
        files.push({ ...stored, filename: part.filename, contentType: part.mimetype });
      } else if (typeof part.value === 'string') {
        fields[part.fieldname] = part.value;
      }
    }
    if (!files.length) throw new InvalidInputError('required', 'Attach at least one file', 'file');
    const docs = await req.em.transactional(async (em) => {
      const out = [];
      for (const f of files) out.push(await createUploadedDocument(em, user, req.params.id, { ...f, category: fields.category, visibleToClient: asBool(fields.visibleToClient) }));
      return out;
    });
    const items = [];
    for (const d of docs) items.push(await getDocumentView(req.em, d.id));
    return reply.status(STATUS.created).send({ items });
  });

  app.patch<{ Params: Static<typeof IdParams>; Body: DocumentPatch }>('/documents/:id', {
    schema: { tags, params: IdParams, body: DocumentPatch, response: { 200: DocumentView } },
  }, async (req) => {
    await updateDocument(req.em, currentUser(req), req.params.id, req.body);
    await req.em.flush();
    return getDocumentView(req.em, req.params.id);
  });

  app.get<{ Params: Static<typeof IdParams> }>('/documents/:id/download', { schema: { tags, params: IdParams } }, async (req, reply) => {
    const { doc, stream } = await openDocument(req.em, app.deps.blobs, req.params.id);
    return reply
      .header('content-type', doc.contentType)
      .header('content-length', String(doc.size))
      // RFC 6266: "attachment" with an ASCII fallback and filename* (RFC 8187 UTF-8) for the real name.
      .header('content-disposition', contentDisposition(doc.name, { type: 'attachment', fallback: asciiFallback(doc.name) }))
      .header('x-content-type-options', 'nosniff')
      // Even if a browser rendered it, a client's file runs nothing and loads nothing in our origin.
      .header('content-security-policy', "default-src 'none'; sandbox")
      .header('cache-control', 'private, no-store')
      .send(stream);
  });

  // One attachment of a message the caller may see, to a client's documents; the same bytes again → 200 with the existing one.
  app.post<{ Params: Static<typeof IdParams>; Body: AttachmentSave }>('/attachments/:id/save', {
    schema: { tags, params: IdParams, body: AttachmentSave, response: { 200: AttachmentSaved, 201: AttachmentSaved } },
  }, async (req, reply) => {
    const { document, created } = await req.em.transactional((em) => saveAttachmentToDocuments(em, currentUser(req), req.params.id, req.body, { blobs: app.deps.blobs }));
    return reply.status(created ? STATUS.created : STATUS.ok).send({ document: await getDocumentView(req.em, document.id), created });
  });

  app.delete<{ Params: Static<typeof IdParams> }>('/documents/:id', { schema: { tags, params: IdParams } }, async (req, reply) => {
    await deleteDocument(req.em, currentUser(req), req.params.id);
    await req.em.flush();
    return reply.status(STATUS.noContent).send();
  });
}
