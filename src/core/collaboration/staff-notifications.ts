// The staff bell: create a notification (and, when the user asked for it, queue an email copy from a public
// mailbox), list unread first with a keyset cursor, count unread, mark all read. Never flushes, never sends:
// the caller commits and enqueues the send (mail queued inside a sync transaction is sent by resume-outbox).
import { expressionBuilder } from 'kysely';
import { kysely, type DB, type Em } from '../platform/db.ts';
import { InvalidInputError } from '../platform/errors.ts';
import { cursorTime, cursorTimestamp } from '../platform/keyset-cursor.ts';
import { MailAccount } from '../mail/mail-account.entity.ts';
import { Notification } from '../staff/notification.entity.ts';
import { Outbox } from '../outbox/outbox.entity.ts';
import { newMessageId } from '../outbox/outbox.ts';
import { oneLine } from './templates/render.ts';
import { User } from '../staff/user.entity.ts';
import { filterVisibleClientIds, visibleClient, type Viewer } from '../mail/visibility.ts';

export type NotificationInput = {
  userId: string;
  kind: string;
  title: string;
  body?: string;
  /** Web-app path (starting with '/') the notification opens. */
  link?: string | null;
  clientId?: string | null;
  fileRequestId?: string | null;
  messageId?: string | null;
  taskId?: string | null;
  /** Left for the user's client-mail digest instead of an email copy of its own (client_mail notices). */
  emailPending?: boolean;
};

export type NotificationItem = {
  id: string; kind: string; title: string; body: string; link: string | null;
  clientId: string | null; fileRequestId: string | null; messageId: string | null; taskId: string | null; readAt: string | null; createdAt: string;
};

/**
 * Creates one notification for a staff member. When the user turned on notifyByEmail and the firm has a
 * public mailbox, an email copy is queued as an outbox row (kind 'staff_notification'); its id is
 * returned so the caller can enqueue the send after the commit. `publicUrl` makes the link absolute.
 */
export async function createNotification(em: Em, input: NotificationInput, opts: { publicUrl?: string } = {}): Promise<{ notification: Notification; outboxId: string | null }> {
  const title = oneLine(input.title).slice(0, 300);
  const link = input.link && input.link.startsWith('/') && !input.link.startsWith('//') ? input.link : null;
  const notification = em.create(Notification, {
    user: input.userId, kind: input.kind, title, body: input.body ?? '', link,
    client: input.clientId ?? null, fileRequest: input.fileRequestId ?? null, message: input.messageId ?? null, task: input.taskId ?? null,
    emailPending: input.emailPending ?? false,
  });
  // A digested notice is mailed with the others in the digest (client-mail-notices.ts), never on its own.
  if (input.emailPending !== undefined) return { notification, outboxId: null };
  const user = await em.findOne(User, { id: input.userId });
  if (!user || !user.active || !user.notifyByEmail) return { notification, outboxId: null };
  // No mail about a client the user may not see (restricted): the bell hides it too.
  if (input.clientId && !(await filterVisibleClientIds(em, user, [input.clientId])).length) return { notification, outboxId: null };
  const account = await em.findOne(MailAccount, { visibility: 'public' }, { orderBy: { createdAt: 'asc' } });
  if (!account) return { notification, outboxId: null };
  const url = link && opts.publicUrl ? `${opts.publicUrl}${link}` : '';
  const text = [title, input.body?.trim() ?? '', url].filter(Boolean).join('\n\n');
  const row = em.create(Outbox, {
    account, createdBy: null, kind: 'staff_notification', fromName: oneLine(account.name).slice(0, 200) || null,
    to: [{ name: oneLine(user.name).slice(0, 200), address: user.email }], cc: [], bcc: [],
    subject: `[Dossier] ${title}`.slice(0, 500), text: `${text}\n`, html: null, inReplyTo: null, references: [], replyTo: null,
    messageIdHeader: newMessageId(account.email), documentIds: [], clientId: null, replyToMessage: null, forwardMessage: null, status: 'queued',
  });
  return { notification, outboxId: row.id };
}

const iso = (d: Date | null) => (d === null ? null : new Date(d).toISOString());

function decode(cursor: string): [number, string, string] {
  try {
    const v: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(v) && v.length === 3 && (v[0] === 0 || v[0] === 1) && typeof v[1] === 'string' && typeof v[2] === 'string'
      && /^\d{4}-\d{2}-\d{2}T[\d:.]+Z$/u.test(v[1]) && /^[0-9a-f-]{36}$/iu.test(v[2])) return v as [number, string, string];
  } catch { /* fall through */ }
  throw new InvalidInputError('invalid_cursor', 'The cursor is not one this server handed out', 'cursor');
}

/** The user's notifications: unread first, then newest first; keyset pages over (unread, created_at, id). */
export async function listNotificationPage(em: Em, user: Viewer, opts: { limit: number; cursor?: string; unreadOnly?: boolean }): Promise<{ items: NotificationItem[]; nextCursor: string | null; unread: number }> {
  // Unread first: 1 for unread, 0 for read, the first key of the list's order and of its cursor.
  const unread = expressionBuilder<DB, 'notification'>().case().when('read_at', 'is', null).then(1).else(0).end();
  let query = kysely(em).selectFrom('notification')
    .select((eb) => ['id', 'kind', 'title', 'body', 'link', 'client_id', 'file_request_id', 'message_id', 'task_id', 'read_at', 'created_at',
      cursorTime(eb.ref('created_at')).as('at'), unread.as('unread')])
    .where('user_id', '=', user.id).where((eb) => eb.or([eb('client_id', 'is', null), visibleClient(user, 'notification.client_id')]));
  if (opts.unreadOnly) query = query.where('read_at', 'is', null);
  if (opts.cursor) {
    const [rank, at, id] = decode(opts.cursor);
    query = query.where((eb) => eb(eb.tuple(unread, eb.ref('created_at'), eb.ref('id')), '<', eb.tuple(rank, cursorTimestamp({ at, id }), id)));
  }
  const rows = await query.orderBy(unread, 'desc').orderBy('created_at', 'desc').orderBy('id', 'desc').limit(opts.limit + 1).execute();
  const page = rows.slice(0, opts.limit);
  const last = page[page.length - 1];
  return {
    items: page.map((r) => ({
      id: r.id, kind: r.kind, title: r.title, body: r.body, link: r.link, clientId: r.client_id, fileRequestId: r.file_request_id,
      messageId: r.message_id, taskId: r.task_id, readAt: iso(r.read_at), createdAt: iso(r.created_at)!,
    })),
    nextCursor: rows.length > opts.limit && last ? Buffer.from(JSON.stringify([Number(last.unread), last.at, last.id])).toString('base64url') : null,
    unread: await countUnreadNotifications(em, user),
  };
}

/** Unread notifications of the user, leaving out those about a client they may not see. */
export async function countUnreadNotifications(em: Em, user: Viewer): Promise<number> {
  const row = await kysely(em).selectFrom('notification').select((eb) => eb.fn.countAll<string>().as('n'))
    .where('user_id', '=', user.id).where('read_at', 'is', null)
    .where((eb) => eb.or([eb('client_id', 'is', null), visibleClient(user, 'notification.client_id')]))
    .executeTakeFirst();
  return Number(row?.n ?? 0);
}

/** Marks every unread notification of the user read; returns how many changed. */
export async function markAllNotificationsRead(em: Em, user: { id: string }): Promise<number> {
  const rows = await kysely(em).updateTable('notification').set((eb) => ({ read_at: eb.fn<Date>('now') }))
    .where('user_id', '=', user.id).where('read_at', 'is', null)
    .returning('id')
    .execute();
  return rows.length;
}
