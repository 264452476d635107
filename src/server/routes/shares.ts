// Document shares (staff side): share documents with contacts by signed links, list a document's shares
// with downloads, revoke. The public download route is share-links.ts (outside /api).
import type { FastifyInstance } from 'fastify';
import type { Static } from 'typebox';
import { createShare, enqueueShareMail, listClientShares, listDocumentShares, revokeShare } from '../../core/collaboration/shares.ts';
import { currentUser } from '../auth.ts';
import { STATUS } from '../errors.ts';
import { IdParams } from '../schemas.ts';
import { ClientShareList, ShareCreate, ShareCreated, ShareList } from '../schemas/collaboration.ts';

export async function shareRoutes(app: FastifyInstance) {
  const tags = ['shares'];

  app.post<{ Params: Static<typeof IdParams>; Body: ShareCreate }>('/clients/:id/shares', {
    schema: { tags, params: IdParams, body: ShareCreate, response: { 201: ShareCreated } },
  }, async (req, reply) => {
    const { config } = app.deps;
    const { share, outboxIds } = await createShare(req.em, currentUser(req), req.params.id, req.body, { secretKey: config.secretKey!, publicUrl: config.publicUrl });
    await req.em.flush();
    await enqueueShareMail(app.deps.queue, outboxIds);
    return reply.status(STATUS.created).send({ id: share.id, expiresAt: share.expiresAt.toISOString(), outboxIds });
  });

  app.get<{ Params: Static<typeof IdParams> }>('/clients/:id/shares', {
    schema: { tags, params: IdParams, response: { 200: ClientShareList } },
  }, async (req) => ({ items: await listClientShares(req.em, req.params.id) }));

  app.get<{ Params: Static<typeof IdParams> }>('/documents/:id/shares', {
    schema: { tags, params: IdParams, response: { 200: ShareList } },
  }, async (req) => ({ items: await listDocumentShares(req.em, req.params.id) }));

  app.delete<{ Params: Static<typeof IdParams> }>('/shares/:id', {
    schema: { tags, params: IdParams, response: { 204: { type: 'null' } } },
  }, async (req, reply) => {
    await revokeShare(req.em, currentUser(req), req.params.id);
    await req.em.flush();
    return reply.status(STATUS.noContent).send();
  });
}
