// Who may see which message, as SQL conditions that list queries embed (one rule, used everywhere).
// A message is visible when it has a live location in a mailbox the viewer may see, or is filed to a
// client. Must not special-case admins: unfiled mail of a private mailbox is its owner's alone.
import type { Em } from './db.ts';
import { NotFoundError } from './errors.ts';

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

/**
 * The ids of the mailboxes the viewer may see, as a subquery (`mailbox_id in (...)`). The set is small
 * (a few folders per account), so PostgreSQL hashes it once per query instead of joining per row.
 */
export function visibleMailboxIdsSql(viewer: Viewer): SqlCondition {
  const acc = visibleAccountSql(viewer, 'vma');
  return {
    sql: `select vmb.id from mailbox vmb join mail_account vma on vma.id = vmb.account_id where ${acc.sql}`,
    params: acc.params,
  };
}

/**
 * True when the message row `alias` (a `message` table alias) is visible to the viewer. The two
 * branches are index probes on message_location(message_id) and communication(message_id), so a
 * newest-first scan over message(sent_at, id) stays cheap per row.
 */
export function visibleMessageSql(viewer: Viewer, alias = 'm'): SqlCondition {
  const boxes = visibleMailboxIdsSql(viewer);
  return {
    sql:
      `(exists (select 1 from message_location vml where vml.message_id = ${alias}.id and vml.removed_at is null` +
      ` and vml.mailbox_id in (${boxes.sql}))` +
      ` or exists (select 1 from communication vc where vc.message_id = ${alias}.id))`,
    params: boxes.params,
  };
}

/** Whether one message is visible to the viewer (false for unknown ids too). */
export async function isMessageVisible(em: Em, viewer: Viewer, messageId: string): Promise<boolean> {
  const cond = visibleMessageSql(viewer, 'm');
  const rows = await em.execute<{ ok: number }[]>(
    `select 1 as ok from message m where m.id = ? and ${cond.sql}`,
    [messageId, ...cond.params],
  );
  return rows.length > 0;
}

/** Throws NotFoundError unless the message exists and the viewer may see it (never reveal which). */
export async function assertMessageVisible(em: Em, viewer: Viewer, messageId: string): Promise<void> {
  if (!(await isMessageVisible(em, viewer, messageId))) throw new NotFoundError('Message');
}
