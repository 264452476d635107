// Sending: reply / reply all, new message or forward, and the caller's outbox. The API only queues a
// row and enqueues the 'send-outbox' job after the commit (a worker talks to SMTP, ARCHITECTURE rule 2).
import type { FastifyInstance } from 'fastify';
import type { Static } from 'typebox';
import { enqueueSend, getOutbox, listOutbox, queueMessage, queueReply, viewOutbox } from '../../core/outbox/outbox.ts';
import { currentUser } from '../auth.ts';
import { STATUS } from '../errors.ts';
import { IdParams } from '../schemas.ts';
import { OutboxCreate, OutboxListQuery, OutboxPage, OutboxQueued, OutboxView, ReplyBody } from '../schemas/outbox.ts';

export async function outboxRoutes(app: FastifyInstance) {
  const tags = ['sending'];

  app.post<{ Params: Static<typeof IdParams>; Body: ReplyBody }>('/messages/:id/reply', {
    schema: { tags, params: IdParams, body: ReplyBody, response: { 202: OutboxQueued } },
  }, async (req, reply) => {
    const row = await queueReply(req.em, currentUser(req), req.params.id, req.body);
    await req.em.flush();
    await enqueueSend(app.deps.queue, row.id);
    return reply.status(STATUS.accepted).send({ outboxId: row.id });
  });

  app.post<{ Body: OutboxCreate }>('/outbox', {
    schema: { tags, body: OutboxCreate, response: { 202: OutboxQueued } },
  }, async (req, reply) => {
    const row = await queueMessage(req.em, currentUser(req), req.body);
    await req.em.flush();
    await enqueueSend(app.deps.queue, row.id);
    return reply.status(STATUS.accepted).send({ outboxId: row.id });
  });

  app.get<{ Querystring: OutboxListQuery }>('/outbox', {
    schema: { tags, querystring: OutboxListQuery, response: { 200: OutboxPage } },
  }, async (req) => {
    const { status, limit = 50, cursor } = req.query;
    const result = await listOutbox(req.em, currentUser(req), { status, limit, cursor });
    return { items: result.items.map(viewOutbox), nextCursor: result.nextCursor };
  });

  app.get<{ Params: Static<typeof IdParams> }>('/outbox/:id', {
    schema: { tags, params: IdParams, response: { 200: OutboxView } },
  }, async (req) => viewOutbox(await getOutbox(req.em, currentUser(req), req.params.id)));
}
