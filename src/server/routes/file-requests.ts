// File requests answered by email: create (queues one mail per recipient, then sends after the commit),
// preview, list, view, cancel, resend, tick items, accept a held reply; firm defaults; staff notifications.
import type { FastifyInstance } from 'fastify';
import { filterVisibleClientIds } from '../../core/mail/visibility.ts';
import { countUnreadNotifications } from '../../core/collaboration/staff-notifications.ts';
import { Type, type Static } from 'typebox';
import {
  cancelFileRequest, createFileRequest, enqueueFileRequestJobs, getFileRequestSettings, getFileRequestView, listFileRequests,
  listRequestRecipients, previewFileRequest, resendFileRequest, setFileRequestItem, updateFileRequestSettings,
} from '../../core/collaboration/file-requests.ts';
import { acceptHeldReply } from '../../core/collaboration/file-request-replies.ts';
import { listNotifications, markNotificationRead } from '../../core/staff/notifications.ts';
import { currentUser } from '../auth.ts';
import { STATUS } from '../errors.ts';
import { IdParams } from '../schemas.ts';
import {
  FileRequestCreate, FileRequestCreated, FileRequestListQuery, FileRequestPage, FileRequestPreview, FileRequestSettings, FileRequestSettingsPatch,
  FileRequestView, HeldParams, ItemParams, ItemPatch, NotificationList, NotificationQuery, RecipientChoices,
} from '../schemas/file-requests.ts';

export async function fileRequestRoutes(app: FastifyInstance) {
  const tags = ['file requests'];

  app.post<{ Body: FileRequestCreate }>('/file-requests', {
    schema: { tags, body: FileRequestCreate, response: { 201: FileRequestCreated } },
  }, async (req, reply) => {
    const { request, outboxIds } = await createFileRequest(req.em, currentUser(req), req.body);
    await req.em.flush();
    await enqueueFileRequestJobs(app.deps.queue, request, outboxIds);
    return reply.status(STATUS.created).send({ request: await getFileRequestView(req.em, request.id, currentUser(req)), outboxIds });
  });

  app.post<{ Body: FileRequestCreate }>('/file-requests/preview', {
    schema: { tags, body: FileRequestCreate, response: { 200: FileRequestPreview } },
  }, async (req) => ({ items: await previewFileRequest(req.em, currentUser(req), req.body) }));

  app.get<{ Querystring: FileRequestListQuery }>('/file-requests', {
    schema: { tags, querystring: FileRequestListQuery, response: { 200: FileRequestPage } },
  }, async (req) => {
    const { status, clientId, limit = 50, cursor } = req.query;
    return listFileRequests(req.em, currentUser(req), { status, clientId, limit, cursor });
  });

  app.get<{ Params: Static<typeof IdParams> }>('/file-requests/:id', {
    schema: { tags, params: IdParams, response: { 200: FileRequestView } },
  }, async (req) => getFileRequestView(req.em, req.params.id, currentUser(req)));

  app.post<{ Params: Static<typeof IdParams> }>('/file-requests/:id/cancel', {
    schema: { tags, params: IdParams, response: { 200: FileRequestView } },
  }, async (req) => {
    await cancelFileRequest(req.em, currentUser(req), req.params.id);
    await req.em.flush();
    return getFileRequestView(req.em, req.params.id, currentUser(req));
  });

  app.post<{ Params: Static<typeof IdParams> }>('/file-requests/:id/resend', {
    schema: { tags, params: IdParams, response: { 202: FileRequestCreated } },
  }, async (req, reply) => {
    const { request, outboxIds } = await resendFileRequest(req.em, currentUser(req), req.params.id);
    await req.em.flush();
    await enqueueFileRequestJobs(app.deps.queue, request, outboxIds);
    return reply.status(STATUS.accepted).send({ request: await getFileRequestView(req.em, request.id, currentUser(req)), outboxIds });
  });

  app.patch<{ Params: Static<typeof ItemParams>; Body: Static<typeof ItemPatch> }>('/file-requests/:id/items/:itemId', {
    schema: { tags, params: ItemParams, body: ItemPatch, response: { 200: FileRequestView } },
  }, async (req) => {
    await setFileRequestItem(req.em, currentUser(req), req.params.id, req.params.itemId, req.body.fulfilled);
    await req.em.flush();
    return getFileRequestView(req.em, req.params.id, currentUser(req));
  });

  app.post<{ Params: Static<typeof HeldParams> }>('/file-requests/:id/held/:messageId/accept', {
    schema: { tags, params: HeldParams, response: { 200: FileRequestView } },
  }, async (req) => {
    await acceptHeldReply(req.em, currentUser(req), req.params.id, req.params.messageId, { blobs: app.deps.blobs, maxAttachmentBytes: app.deps.config.maxAttachmentBytes });
    await req.em.flush();
    return getFileRequestView(req.em, req.params.id, currentUser(req));
  });

  app.get<{ Params: Static<typeof IdParams> }>('/clients/:id/file-request-recipients', {
    schema: { tags, params: IdParams, response: { 200: RecipientChoices } },
  }, async (req) => ({ items: await listRequestRecipients(req.em, req.params.id) }));

  app.get('/settings/file-requests', {
    schema: { tags, response: { 200: FileRequestSettings } },
  }, async (req) => getFileRequestSettings(req.em));

  app.patch<{ Body: FileRequestSettingsPatch }>('/settings/file-requests', {
    schema: { tags, body: FileRequestSettingsPatch, response: { 200: FileRequestSettings } },
    config: { auth: 'admin' },
  }, async (req) => {
    const result = await updateFileRequestSettings(req.em, currentUser(req), req.body);
    await req.em.flush();
    return result;
  });

  app.get<{ Querystring: Static<typeof NotificationQuery> }>('/notifications', {
    schema: { tags: ['notifications'], querystring: NotificationQuery, response: { 200: NotificationList } },
  }, async (req) => {
    const user = currentUser(req);
    const list = await listNotifications(req.em, user, { unread: req.query.unread, limit: req.query.limit ?? 50 });
    // Notifications about a client the user may not see (restricted) are left out, as in the bell.
    const visible = new Set(await filterVisibleClientIds(req.em, user, list.items.flatMap((n) => (n.clientId ? [n.clientId] : []))));
    return { items: list.items.filter((n) => !n.clientId || visible.has(n.clientId)), unread: await countUnreadNotifications(req.em, user) };
  });

  app.post<{ Params: Static<typeof IdParams> }>('/notifications/:id/read', {
    schema: { tags: ['notifications'], params: IdParams, response: { 204: Type.Null() } },
  }, async (req, reply) => {
    await markNotificationRead(req.em, currentUser(req), req.params.id);
    await req.em.flush();
    return reply.status(STATUS.noContent).send();
  });
}
