// Personal API tokens for scripts and integrations (Authorization: Bearer). The secret is shown once.
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from 'typebox';
import { createApiToken, deleteApiToken, listApiTokens } from '../../core/staff/sessions.ts';
import { currentUser } from '../auth.ts';
import { IdParams, TokenCreate, TokenCreated, TokenView } from '../schemas.ts';
import { STATUS } from '../errors.ts';

export async function tokenRoutes(app: FastifyInstance) {
  app.post<{ Body: Static<typeof TokenCreate> }>('/tokens', { schema: { tags: ['tokens'], body: TokenCreate, response: { 201: TokenCreated } } }, async (req, reply) => {
    const { token, apiToken } = createApiToken(req.em, currentUser(req), req.body.name);
    await req.em.flush();
    return reply.status(STATUS.created).send({ id: apiToken.id, name: apiToken.name, token });
  });

  app.get('/tokens', { schema: { tags: ['tokens'], response: { 200: Type.Object({ items: Type.Array(TokenView) }) } } }, async (req) => {
    const items = await listApiTokens(req.em, currentUser(req).id);
    return { items: items.map((t) => ({ id: t.id, name: t.name, prefix: t.prefix, createdAt: t.createdAt.toISOString(), lastUsedAt: t.lastUsedAt?.toISOString() ?? null })) };
  });

  app.delete<{ Params: Static<typeof IdParams> }>('/tokens/:id', { schema: { tags: ['tokens'], params: IdParams } }, async (req, reply) => {
    await deleteApiToken(req.em, currentUser(req).id, req.params.id);
    return reply.status(STATUS.noContent).send();
  });
}
