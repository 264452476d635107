// Contacts and their addresses. Adding, re-enabling or linking an address files its existing mail in
// the same transaction and answers with how many messages that filed (`filed`).
import type { FastifyInstance } from 'fastify';
import type { Static } from 'typebox';
import {
  addContactEmail, createContact, deleteContact, deleteContactEmail, getContactView, listContacts, updateContact, updateContactEmail, viewContactEmail,
} from '../../core/crm/contacts.ts';
import { currentUser } from '../auth.ts';
import { IdParams } from '../schemas.ts';
import {
  ContactCreate, ContactCreated, ContactEmailCreate, ContactEmailPatch, ContactEmailResult, ContactPage, ContactPatch, ContactView, ListQuery,
} from '../schemas/crm.ts';
import { STATUS } from '../errors.ts';
import { fileAndAnnounce } from '../filing-announce.ts';

export async function contactRoutes(app: FastifyInstance) {
  const tags = ['contacts'];
  const filingDeps = () => ({ blobs: app.deps.blobs, maxAttachmentBytes: app.deps.config.maxAttachmentBytes });

  app.get<{ Querystring: ListQuery }>('/contacts', { schema: { tags, querystring: ListQuery, response: { 200: ContactPage } } }, async (req) => {
    return listContacts(req.em, currentUser(req), { q: req.query.q, limit: req.query.limit ?? 50, cursor: req.query.cursor });
  });

  app.post<{ Body: ContactCreate }>('/contacts', { schema: { tags, body: ContactCreate, response: { 201: ContactCreated } } }, async (req, reply) => {
    const { contact, filed } = await fileAndAnnounce(app, req.em, (em) => createContact(em, currentUser(req), req.body, filingDeps()));
    return reply.status(STATUS.created).send({ ...(await getContactView(req.em, currentUser(req), contact.id)), filed });
  });

  app.get<{ Params: Static<typeof IdParams> }>('/contacts/:id', { schema: { tags, params: IdParams, response: { 200: ContactView } } }, async (req) => {
    return getContactView(req.em, currentUser(req), req.params.id);
  });

  app.patch<{ Params: Static<typeof IdParams>; Body: ContactPatch }>('/contacts/:id', { schema: { tags, params: IdParams, body: ContactPatch, response: { 200: ContactView } } }, async (req) => {
    await req.em.transactional((em) => updateContact(em, currentUser(req), req.params.id, req.body, filingDeps()));
    return getContactView(req.em, currentUser(req), req.params.id);
  });

  app.delete<{ Params: Static<typeof IdParams> }>('/contacts/:id', { schema: { tags, params: IdParams } }, async (req, reply) => {
    await deleteContact(req.em, currentUser(req), req.params.id);
    await req.em.flush();
    return reply.status(STATUS.noContent).send();
  });

  app.post<{ Params: Static<typeof IdParams>; Body: ContactEmailCreate }>('/contacts/:id/emails', {
    schema: { tags, params: IdParams, body: ContactEmailCreate, response: { 201: ContactEmailResult } },
  }, async (req, reply) => {
    const { email, filed } = await fileAndAnnounce(app, req.em, (em) => addContactEmail(em, currentUser(req), req.params.id, req.body, filingDeps()));
    return reply.status(STATUS.created).send({ ...viewContactEmail(email), filed });
  });

  app.patch<{ Params: Static<typeof IdParams>; Body: ContactEmailPatch }>('/contact-emails/:id', {
    schema: { tags, params: IdParams, body: ContactEmailPatch, response: { 200: ContactEmailResult } },
  }, async (req) => {
    const { email, filed } = await fileAndAnnounce(app, req.em, (em) => updateContactEmail(em, currentUser(req), req.params.id, req.body, filingDeps()));
    return { ...viewContactEmail(email), filed };
  });

  app.delete<{ Params: Static<typeof IdParams> }>('/contact-emails/:id', { schema: { tags, params: IdParams } }, async (req, reply) => {
    await deleteContactEmail(req.em, currentUser(req), req.params.id);
    await req.em.flush();
    return reply.status(STATUS.noContent).send();
  });
}
