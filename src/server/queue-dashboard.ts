// The BullMQ dashboard (@bull-board, the only import of it) at /admin/queues: administrators only, scaled
// mode only. Embedded mode has no BullMQ queue to show, so the path answers 404 there (and is not handed
// to the web app's shell). Signed in with a session (or an admin's API token); writes (retry, clean,
// promote) are refused when the browser says the request comes from another site.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import { ForbiddenError } from '../core/platform/errors.ts';
import { handleError, HttpError, STATUS, unauthorized } from './errors.ts';

export const QUEUE_DASHBOARD_PATH = '/admin/queues';
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Same-site only for writes: the session cookie is SameSite=Lax, and this refuses what a browser marks cross-site. */
function isCrossSite(req: FastifyRequest): boolean {
  const site = req.headers['sec-fetch-site'];
  if (site && site !== 'same-origin' && site !== 'none') return true;
  const origin = req.headers.origin;
  if (!origin) return false;
  try {
    return new URL(origin).host !== req.host;
  } catch {
    return true;
  }
}

export async function queueDashboard(app: FastifyInstance) {
  const queue = app.deps.queue.bullQueue();
  if (!queue) {
    const none = async () => {
      throw new HttpError(STATUS.notFound, 'not_found', 'The queue dashboard exists in scaled mode only (REDIS_URL)');
    };
    app.get(QUEUE_DASHBOARD_PATH, { config: { auth: 'public' }, schema: { hide: true } }, none);
    app.all(`${QUEUE_DASHBOARD_PATH}/*`, { config: { auth: 'public' }, schema: { hide: true } }, none);
    return;
  }
  await app.register(async (admin) => {
    // After the app's own auth hook, which found the user but let this non-/api path through.
    // Answered here rather than thrown: the dashboard's routes have bull-board's error handler, which makes any error a 500.
    admin.addHook('onRequest', async (req, reply) => {
      const refusal = !req.user ? unauthorized()
        : req.sessionScope === 'totp_enrolment' || req.user.role !== 'admin' ? new ForbiddenError('Only administrators can see the job queues')
        : !SAFE_METHODS.has(req.method) && isCrossSite(req) ? new ForbiddenError('Cross-site requests are refused', 'cross_site')
        : null;
      if (refusal) return handleError(refusal, req, reply);
    });
    const serverAdapter = new FastifyAdapter();
    serverAdapter.setBasePath(QUEUE_DASHBOARD_PATH);
    createBullBoard({ queues: [new BullMQAdapter(queue)], serverAdapter, options: { uiConfig: { boardTitle: 'Dossier jobs' } } });
    await admin.register(serverAdapter.registerPlugin(), { prefix: QUEUE_DASHBOARD_PATH });
  });
}
