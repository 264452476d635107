// The staff bell's routes beyond the list of file-requests.ts: a page of notifications unread first with a
// cursor, the unread count (polled by the web app), mark all read, and the user's email switch.
import type { FastifyInstance } from 'fastify';
import { countUnreadNotifications, listNotificationPage, markAllNotificationsRead } from '../../core/collaboration/staff-notifications.ts';
import { currentUser } from '../auth.ts';
import { NotificationPage, NotificationPageQuery, NotificationSettings, ReadAllResult, UnreadCount } from '../schemas/collaboration.ts';

export async function notificationBellRoutes(app: FastifyInstance) {
  const tags = ['notifications'];

  app.get<{ Querystring: NotificationPageQuery }>('/notifications/page', {
    schema: { tags, querystring: NotificationPageQuery, response: { 200: NotificationPage } },
  }, async (req) => listNotificationPage(req.em, currentUser(req), { limit: req.query.limit ?? 50, cursor: req.query.cursor, unreadOnly: req.query.unread }));

  app.get('/notifications/unread-count', {
    schema: { tags, response: { 200: UnreadCount } },
  }, async (req) => ({ unread: await countUnreadNotifications(req.em, currentUser(req)) }));

  app.post('/notifications/read-all', {
    schema: { tags, response: { 200: ReadAllResult } },
  }, async (req) => {
    const user = currentUser(req);
    const marked = await markAllNotificationsRead(req.em, user);
    return { marked, unread: await countUnreadNotifications(req.em, user) };
  });

  app.get('/me/notification-settings', {
    schema: { tags, response: { 200: NotificationSettings } },
  }, async (req) => ({ notifyByEmail: currentUser(req).notifyByEmail }));

  app.put<{ Body: NotificationSettings }>('/me/notification-settings', {
    schema: { tags, body: NotificationSettings, response: { 200: NotificationSettings } },
  }, async (req) => {
    const user = currentUser(req);
    user.notifyByEmail = req.body.notifyByEmail;
    await req.em.flush();
    return { notifyByEmail: user.notifyByEmail };
  });
}
