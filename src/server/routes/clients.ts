// Clients: CRUD, the list with contact counts and notify/sync flags, linking contacts, bulk contact
// settings and the client's audit trail. Thin: each handler calls core functions and commits once.
import type { FastifyInstance } from 'fastify';
import type { Static } from 'typebox';
import { createClient, deleteClient, getClientView, listClients, setClientAccess, setClientsOwner, updateClient } from '../../core/crm/clients.ts';
import { linkContact, unlinkContact } from '../../core/crm/contacts.ts';
import { applyBulkContactSettings } from '../../core/crm/bulk-contact-settings.ts';
import { enqueueAddressFiling } from '../../core/log/retro-filing.ts';
import { fileAndAnnounce } from '../filing-announce.ts';
import { listClientAudit } from '../../core/crm/audit-trail.ts';
import { currentUser } from '../auth.ts';
import { IdParams } from '../schemas.ts';
import {
  AuditPage, BulkOwnerBody, BulkOwnerResult, BulkSettingsBody, BulkSettingsResult, ClientContactParams, ClientCreate, ClientListQuery, ClientPage,
  ClientPatch, ClientView, LinkBody, LinkResult, PageOnlyQuery,
} from '../schemas/crm.ts';
import { STATUS } from '../errors.ts';

export async function clientRoutes(app: FastifyInstance) {
  const tags = ['clients'];
  const filingDeps = () => ({ blobs: app.deps.blobs, maxAttachmentBytes: app.deps.config.maxAttachmentBytes });

  app.get<{ Querystring: ClientListQuery }>('/clients', { schema: { tags, querystring: ClientListQuery, response: { 200: ClientPage } } }, async (req) => {
    return listClients(req.em, currentUser(req), { q: req.query.q, ownerId: req.query.ownerId, limit: req.query.limit ?? 50, cursor: req.query.cursor });
  });

  app.post<{ Body: ClientCreate }>('/clients', { schema: { tags, body: ClientCreate, response: { 201: ClientView } } }, async (req, reply) => {
    const { ownerId, restricted, teamUserIds, ...input } = req.body;
    const client = await req.em.transactional(async (em) => {
      const created = createClient(em, currentUser(req), input);
      if (restricted !== undefined || teamUserIds !== undefined) await setClientAccess(em, currentUser(req), created, { restricted, teamUserIds }, true);
      if (ownerId !== undefined) {
        await em.flush(); // updateClient reads the client back through the visibility rule
        await updateClient(em, currentUser(req), created.id, { ownerId });
      }
      return created;
    });
    return reply.status(STATUS.created).send(await getClientView(req.em, currentUser(req), client.id));
  });

  app.get<{ Params: Static<typeof IdParams> }>('/clients/:id', { schema: { tags, params: IdParams, response: { 200: ClientView } } }, async (req) => {
    return getClientView(req.em, currentUser(req), req.params.id);
  });

  app.patch<{ Params: Static<typeof IdParams>; Body: ClientPatch }>('/clients/:id', { schema: { tags, params: IdParams, body: ClientPatch, response: { 200: ClientView } } }, async (req) => {
    await updateClient(req.em, currentUser(req), req.params.id, req.body);
    await req.em.flush();
    return getClientView(req.em, currentUser(req), req.params.id);
  });

  // A client's deletion takes its log and documents with it: administrators only (issue 12).
  app.delete<{ Params: Static<typeof IdParams> }>('/clients/:id', { config: { auth: 'admin' }, schema: { tags, params: IdParams } }, async (req, reply) => {
    await deleteClient(req.em, currentUser(req), req.params.id);
    await req.em.flush();
    return reply.status(STATUS.noContent).send();
  });

  app.put<{ Params: ClientContactParams; Body: LinkBody }>('/clients/:id/contacts/:contactId', {
    schema: { tags, params: ClientContactParams, body: LinkBody, response: { 200: LinkResult } },
  }, async (req) => {
    return fileAndAnnounce(app, req.em, (em) => linkContact(em, currentUser(req), req.params.id, req.params.contactId, { role: req.body?.role }, filingDeps()));
  });

  app.delete<{ Params: ClientContactParams }>('/clients/:id/contacts/:contactId', { schema: { tags, params: ClientContactParams } }, async (req, reply) => {
    await unlinkContact(req.em, currentUser(req), req.params.id, req.params.contactId);
    await req.em.flush();
    return reply.status(STATUS.noContent).send();
  });

  app.post<{ Body: BulkSettingsBody }>('/clients/bulk/contact-settings', { schema: { tags, body: BulkSettingsBody, response: { 200: BulkSettingsResult } } }, async (req) => {
    const user = currentUser(req);
    const result = await applyBulkContactSettings(req.em, user, req.body);
    // Each client committed on its own; file the mail of addresses whose sync was turned on.
    await enqueueAddressFiling(app.deps.queue, result.syncEnabled, user.id);
    return result;
  });

  // The clients list's bulk bar: one owner for every selected client (null clears it), in one transaction.
  app.post<{ Body: BulkOwnerBody }>('/clients/bulk/owner', { schema: { tags, body: BulkOwnerBody, response: { 200: BulkOwnerResult } } }, async (req) => {
    return req.em.transactional((em) => setClientsOwner(em, currentUser(req), req.body));
  });

  app.get<{ Params: Static<typeof IdParams>; Querystring: PageOnlyQuery }>('/clients/:id/audit', {
    schema: { tags, params: IdParams, querystring: PageOnlyQuery, response: { 200: AuditPage } },
  }, async (req) => listClientAudit(req.em, req.params.id, { limit: req.query.limit ?? 50, cursor: req.query.cursor }));
}
