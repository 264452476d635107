// Liveness/readiness for load balancers and compose healthchecks.
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';

export async function healthRoutes(app: FastifyInstance) {
  app.get('/health', {
    config: { auth: 'public' },
    schema: { tags: ['system'], response: { 200: Type.Object({ status: Type.Literal('ok') }) } },
  }, async (req) => {
    await req.em.execute('select 1');
    return { status: 'ok' as const };
  });
}
