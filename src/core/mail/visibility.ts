// Who may see which message, as SQL conditions that list queries embed (one rule, used everywhere).
// A message is visible when it has a live location in a mailbox the viewer may see, or is filed to a
// client. Must not special-case admins: unfiled mail of a private mailbox is its owner's alone.
import type { Em } from '../platform/db.ts';
import { NotFoundError } from '../platform/errors.ts';

/** What the rule needs to know about the caller. Role is deliberately absent (admins see no more). */
export type Viewer = { id: string };

/** A SQL fragment with `?` placeholders and the values for them, in order. */
export type SqlCondition = { sql: string; params: unknown[] };

/**
 * Accounts the viewer may see: their own (private or public) and every public one.
 * `alias` names the mail_account row.
 */
export function visibleAccountSql(viewer: Viewer, alias = 'ma'): SqlCondition {
  return { sql: `(${alias}.visibility = 'public' or ${alias}.owner_id = ?)`, params: [viewer.id] };
}

/** A mailbox the viewer may see: in one of their own accounts (private or public) or any public one. */
export type VisibleMailbox = { id: string; accountId: string; path: string };

/**
 * The viewer's mailboxes, read once per request (a handful of rows). Lists then name them as constants,
 * so PostgreSQL can estimate from its statistics how much of message_location they cover and pick
 * between walking messages newest-first and starting from the locations.
 */
export async function listVisibleMailboxes(em: Em, viewer: Viewer): Promise<VisibleMailbox[]> {
  const acc = visibleAccountSql(viewer, 'ma');
  const rows = await em.execute<{ id: string; account_id: string; path: string }[]>(
    `select mb.id, mb.account_id, mb.path from mailbox mb join mail_account ma on ma.id = mb.account_id
     where ${acc.sql} order by mb.account_id, mb.path`,
    acc.params,
  );
  return rows.map((r) => ({ id: r.id, accountId: r.account_id, path: r.path }));
}

/** True when message `alias` has a live (not expunged) location in one of `mailboxIds`. */
export function liveLocationSql(mailboxIds: string[], alias = 'm'): SqlCondition {
  // MikroORM inlines an array parameter as a comma list, which is no list at all when empty.
  if (mailboxIds.length === 0) return { sql: 'false', params: [] };
  return {
    sql: `exists (select 1 from message_location vml where vml.message_id = ${alias}.id and vml.removed_at is null and vml.mailbox_id in (?))`,
    params: [mailboxIds],
  };
}

/**
 * True when message `alias` is filed to at least one client: client history is the whole firm's.
 * Lists use this and liveLocationSql as separate ordered branches (message-queries.ts): an OR of the
 * two EXISTS makes PostgreSQL hash a whole table first instead of probing per row.
 */
export const filedSql = (alias = 'm') => `exists (select 1 from communication vc where vc.message_id = ${alias}.id)`;

/** The rule as one condition, for lookups by id (where an OR costs nothing). */
export function visibleMessageSql(mailboxIds: string[], alias = 'm'): SqlCondition {
  const loc = liveLocationSql(mailboxIds, alias);
  return { sql: `(${loc.sql} or ${filedSql(alias)})`, params: loc.params };
}

/** Whether one message is visible to the viewer (false for unknown ids too). */
export async function isMessageVisible(em: Em, viewer: Viewer, messageId: string): Promise<boolean> {
  const cond = visibleMessageSql((await listVisibleMailboxes(em, viewer)).map((b) => b.id));
  const rows = await em.execute<{ ok: number }[]>(`select 1 as ok from message m where m.id = ? and ${cond.sql}`, [messageId, ...cond.params]);
  return rows.length > 0;
}

/** Throws NotFoundError unless the message exists and the viewer may see it (never reveal which). */
export async function assertMessageVisible(em: Em, viewer: Viewer, messageId: string): Promise<void> {
  if (!(await isMessageVisible(em, viewer, messageId))) throw new NotFoundError('Message');
}
