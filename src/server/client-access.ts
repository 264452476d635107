// The restricted-client rule at the edge: every route whose path names a client, or an object that
// belongs to one (/clients/:id/..., /documents/:id, /communications/:id, /discussions/:id, /file-requests/:id,
// /shares/:id, /tasks/:id, and any :clientId), answers 404 to a caller who may not see that client, exactly
// as for an unknown id. Found from the route's path, so a new route under these paths cannot skip it.
// Body fields naming clients are checked by the core functions that read them.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { assertObjectClientVisible, type ClientScope } from '../core/collaboration/client-scope.ts';

const SCOPED_PATHS: [RegExp, ClientScope][] = [
  [/^\/api\/clients\/:id(\/|$)/u, 'client'],
  [/^\/api\/documents\/:id(\/|$)/u, 'document'],
  [/^\/api\/communications\/:id(\/|$)/u, 'communication'],
  [/^\/api\/discussions\/:id(\/|$)/u, 'discussion'],
  [/^\/api\/file-requests\/:id(\/|$)/u, 'file_request'],
  [/^\/api\/shares\/:id(\/|$)/u, 'share'],
  [/^\/api\/tasks\/:id(\/|$)/u, 'task'],
];

/** The client scope of a route path, if its `:id` names a client or an object of one (exported for the tests). */
export function routeClientScope(url: string): ClientScope | null {
  return SCOPED_PATHS.find(([re]) => re.test(url))?.[1] ?? null;
}

export function registerClientAccess(app: FastifyInstance) {
  // preValidation: after authentication (onRequest), before the body is validated, so a hidden client's
  // routes answer 404 whatever the body holds (an unknown id's 404 comes from the handler, after 400s).
  app.addHook('preValidation', async (req: FastifyRequest) => {
    if (!req.user) return;
    const params = (req.params ?? {}) as Record<string, unknown>;
    const scope = routeClientScope(req.routeOptions.url ?? '');
    const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/iu;
    if (scope && typeof params.id === 'string' && uuid.test(params.id)) await assertObjectClientVisible(req.em, req.user, scope, params.id);
    if (typeof params.clientId === 'string' && uuid.test(params.clientId)) await assertObjectClientVisible(req.em, req.user, 'client', params.clientId);
  });
}
