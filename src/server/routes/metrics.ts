// GET /metrics: Prometheus text format for the installation (see core/platform/metrics.ts for what is
// counted where). Exists only when DOSSIER_METRICS_TOKEN is set (404 otherwise) and answers only
// `Authorization: Bearer <that token>` (401 otherwise), compared in constant time. Outside /api, like
// Prometheus expects; not part of the JSON API, so hidden from the OpenAPI document.
import type { FastifyInstance } from 'fastify';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { MetricsEndpoint } from '../../core/platform/metrics.ts';
import { listAccountSyncStates } from '../../core/mail/sync-health.ts';
import { HttpError, STATUS } from '../errors.ts';

/** Equal-length digests, so neither the token's content nor its length shows in the timing. */
const sameToken = (given: string, expected: string) =>
  timingSafeEqual(createHash('sha256').update(given).digest(), createHash('sha256').update(expected).digest());

export function metricsRoutes(endpoint: MetricsEndpoint | null) {
  return async (app: FastifyInstance) => {
    app.get('/metrics', { config: { auth: 'public' }, schema: { hide: true } }, async (req, reply) => {
      const token = app.deps.config.metricsToken;
      if (!token || !endpoint) throw new HttpError(STATUS.notFound, 'not_found', 'No route GET /metrics');
      const header = req.headers.authorization ?? '';
      const given = header.startsWith('Bearer ') ? header.slice(7).trim() : '';
      if (!sameToken(given, token)) {
        return reply.status(STATUS.unauthorized).header('www-authenticate', 'Bearer realm="metrics"')
          .send({ error: { code: 'unauthorized', message: 'Send Authorization: Bearer <DOSSIER_METRICS_TOKEN>' } });
      }
      const now = Date.now();
      const [accounts, queue] = await Promise.all([listAccountSyncStates(req.em), app.deps.queue.counts()]);
      const body = await endpoint.render({
        accounts: accounts.map((a) => ({ id: a.id, status: a.status, missing: a.missing, lagSeconds: Math.max(0, (now - (a.lastSyncAt ?? a.createdAt).getTime()) / 1000) })),
        queue,
      });
      return reply.header('content-type', endpoint.contentType).header('cache-control', 'no-store').send(body);
    });
  };
}
