// Reasons and areas (the communication log's tags) and document categories, the firm's managed lists:
// everyone reads, staff add and rename (issue 15, as a3 lets them), admins turn off and delete.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ForbiddenError } from '../../core/platform/errors.ts';
import type { Static } from 'typebox';
import { recordAudit } from '../../core/staff/audit.ts';
import { createTag, deleteTag, listTags, updateTag, viewTag, type TagKind } from '../../core/log/reasons-areas.ts';
import { currentUser } from '../auth.ts';
import { STATUS } from '../errors.ts';
import { IdParams } from '../schemas.ts';
import { TagCreate, TagList, TagListQuery, TagPatch, TagView } from '../schemas/communications.ts';

function assertAdmin(req: FastifyRequest) {
  if (currentUser(req).role !== 'admin') throw new ForbiddenError('Only an administrator may turn a tag on or off', 'forbidden', 'active');
}

export async function reasonAreaRoutes(app: FastifyInstance) {
  const admin = { auth: 'admin' as const };

  for (const [kind, path] of [['reason', '/reasons'], ['area', '/areas'], ['category', '/document-categories']] as [TagKind, string][]) {
    const tags = [kind === 'category' ? 'documents' : 'communications'];

    app.get<{ Querystring: Static<typeof TagListQuery> }>(path, { schema: { tags, querystring: TagListQuery, response: { 200: TagList } } }, async (req) => {
      const includeInactive = req.query.includeInactive === 'true' || req.query.includeInactive === '1';
      return { items: (await listTags(req.em, kind, { includeInactive })).map(viewTag) };
    });

    app.post<{ Body: TagCreate }>(path, { schema: { tags, body: TagCreate, response: { 201: TagView } } }, async (req, reply) => {
      if (req.body.active === false) assertAdmin(req);
      const tag = await createTag(req.em, kind, req.body);
      recordAudit(req.em, { actorId: currentUser(req).id, action: `${kind}.create`, entityType: kind, entityId: tag.id, details: { name: tag.name } });
      await req.em.flush();
      return reply.status(STATUS.created).send(viewTag(tag));
    });

    app.patch<{ Params: Static<typeof IdParams>; Body: TagPatch }>(`${path}/:id`, {
      schema: { tags, params: IdParams, body: TagPatch, response: { 200: TagView } },
    }, async (req) => {
      // Turning a tag off (or on) hides it from everyone's pickers: an administrator's call, like deleting.
      if (req.body.active !== undefined) assertAdmin(req);
      const tag = await updateTag(req.em, kind, req.params.id, req.body);
      recordAudit(req.em, { actorId: currentUser(req).id, action: `${kind}.update`, entityType: kind, entityId: tag.id, details: { ...req.body } });
      await req.em.flush();
      return viewTag(tag);
    });

    app.delete<{ Params: Static<typeof IdParams> }>(`${path}/:id`, { config: admin, schema: { tags, params: IdParams } }, async (req, reply) => {
      const tag = await deleteTag(req.em, kind, req.params.id);
      recordAudit(req.em, { actorId: currentUser(req).id, action: `${kind}.delete`, entityType: kind, entityId: tag.id, details: { name: tag.name } });
      await req.em.flush();
      return reply.status(STATUS.noContent).send();
    });
  }
}
