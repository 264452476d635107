// Filing actions that are not plain message reads: the preview of what adding an address would file,
// and "add the sender as a contact of client X" from the unfiled queue (files it and the rest of that
// address's mail). Kept apart from routes/messages.ts, which serves the messages themselves.
import type { FastifyInstance } from 'fastify';
import type { Static } from 'typebox';
import { previewFiling } from '../../core/log/filing.ts';
import { filterVisibleClientIds } from '../../core/mail/visibility.ts';
import { addSenderAsContact } from '../../core/crm/contacts.ts';
import { currentUser } from '../auth.ts';
import { fileAndAnnounce } from '../filing-announce.ts';
import { IdParams } from '../schemas.ts';
import { AddSenderBody, AddSenderResult, FilingPreview, FilingPreviewQuery } from '../schemas/crm.ts';

export async function filingRoutes(app: FastifyInstance) {
  const tags = ['filing'];

  app.get<{ Querystring: FilingPreviewQuery }>('/filing-preview', { schema: { tags, querystring: FilingPreviewQuery, response: { 200: FilingPreview } } }, async (req) => {
    // Clients the caller may not see (restricted) are neither a target nor named in the answer.
    const user = currentUser(req);
    const clientId = req.query.clientId && (await filterVisibleClientIds(req.em, user, [req.query.clientId])).length ? req.query.clientId : undefined;
    const preview = await previewFiling(req.em, user, req.query.address, { clientId });
    const visible = new Set(await filterVisibleClientIds(req.em, user, preview.clients.map((c) => c.id)));
    return { ...preview, clients: preview.clients.filter((c) => visible.has(c.id)) };
  });

  app.post<{ Params: Static<typeof IdParams>; Body: AddSenderBody }>('/messages/:id/add-sender-as-contact', {
    schema: { tags, params: IdParams, body: AddSenderBody, response: { 200: AddSenderResult } },
  }, async (req) => {
    const deps = { blobs: app.deps.blobs, maxAttachmentBytes: app.deps.config.maxAttachmentBytes };
    return fileAndAnnounce(app, req.em, (em) => addSenderAsContact(em, currentUser(req), req.params.id, req.body, deps));
  });
}
