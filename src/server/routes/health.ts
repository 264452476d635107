// Liveness/readiness for load balancers and compose healthchecks.
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { pingDatabase } from '../../core/platform/db.ts';

export async function healthRoutes(app: FastifyInstance) {
  app.get('/health', {
    config: { auth: 'public' },
    schema: { tags: ['system'], response: { 200: Type.Object({ status: Type.Literal('ok') }) } },
  }, async (req) => {
    await pingDatabase(req.em);
    return { status: 'ok' as const };
  });
}
