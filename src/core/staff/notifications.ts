// Staff notifications (the bell): list the caller's own, newest first, and mark them read.
// Only the user a notification is for can see or change it.
import type { Em } from '../platform/db.ts';
import { NotFoundError } from '../platform/errors.ts';
import { Notification } from './notification.entity.ts';
import type { User } from './user.entity.ts';

export type NotificationView = { id: string; kind: string; title: string; body: string; clientId: string | null; fileRequestId: string | null; messageId: string | null; readAt: string | null; createdAt: string };

export async function listNotifications(em: Em, user: User, opts: { unread?: boolean; limit: number }): Promise<{ items: NotificationView[]; unread: number }> {
  const rows = await em.find(Notification, { user: user.id, ...(opts.unread ? { readAt: null } : {}) }, { orderBy: { createdAt: 'desc', id: 'desc' }, limit: opts.limit });
  const unread = await em.count(Notification, { user: user.id, readAt: null });
  return {
    unread,
    items: rows.map((n) => ({
      id: n.id, kind: n.kind, title: n.title, body: n.body, clientId: n.client?.id ?? null, fileRequestId: n.fileRequest?.id ?? null,
      messageId: n.message?.id ?? null, readAt: n.readAt?.toISOString() ?? null, createdAt: n.createdAt.toISOString(),
    })),
  };
}

export async function markNotificationRead(em: Em, user: User, id: string): Promise<void> {
  const n = await em.findOne(Notification, { id, user: user.id });
  if (!n) throw new NotFoundError('Notification');
  n.readAt ??= new Date();
}
