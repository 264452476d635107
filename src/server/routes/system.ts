// Operator checks: a round trip through the job queue proves a worker is attached and running jobs.
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { randomUUID } from 'node:crypto';
import { STATUS } from '../errors.ts';
import { findPingRoundTrip } from '../../core/staff/audit.ts';

export async function systemRoutes(app: FastifyInstance) {
  app.post('/system/ping', {
    config: { auth: 'admin' },
    schema: { tags: ['system'], response: { 202: Type.Object({ id: Type.String() }) } },
  }, async (_req, reply) => {
    const id = randomUUID();
    await app.deps.queue.enqueue('ping', { text: id, at: Date.now() }, { attempts: 1 });
    return reply.status(STATUS.accepted).send({ id });
  });

  app.get('/system/ping/:id', {
    config: { auth: 'admin' },
    schema: { tags: ['system'], params: Type.Object({ id: Type.String({ format: 'uuid' }) }), response: { 200: Type.Object({ done: Type.Boolean(), latencyMs: Type.Union([Type.Integer(), Type.Null()]) }) } },
  }, async (req) => {
    const found = await findPingRoundTrip(req.em, (req.params as { id: string }).id);
    return { done: found !== null, latencyMs: found?.latencyMs ?? null };
  });
}
