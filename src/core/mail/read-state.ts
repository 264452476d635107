// Read state per user (issue 16): marking messages read or unread for one user, and the condition lists use.
// Kept in message_read by Dossier alone: the mailbox's \Seen is never read or changed for it.
import { expressionBuilder, type AliasableExpression, type SqlBool } from 'kysely';
import { kysely, type Em } from '../platform/db.ts';
import { NotFoundError } from '../platform/errors.ts';
import { isVisibleMessage, listVisibleMailboxes, type Viewer, type WithMessage } from './visibility.ts';

/** True when the viewer has read the message aliased `m` (one primary-key probe per row). */
export function isReadBy(viewer: Viewer): AliasableExpression<SqlBool> {
  const eb = expressionBuilder<WithMessage, 'm'>();
  return eb.exists(eb.selectFrom('message_read as mr').select(eb.lit(1).as('one'))
    .where('mr.user_id', '=', viewer.id).whereRef('mr.message_id', '=', 'm.id'));
}

/**
 * Marks visible messages read (or unread again) for the viewer only; ids the viewer may not see (or that
 * do not exist) are NotFoundError, as if they did not exist. Idempotent.
 */
export async function setMessagesRead(em: Em, viewer: Viewer, ids: string[], read: boolean): Promise<void> {
  if (ids.length === 0) return;
  const unique = [...new Set(ids)];
  const boxes = await listVisibleMailboxes(em, viewer);
  const k = kysely(em);
  const visible = await k.selectFrom('message as m').select('m.id')
    .where('m.id', 'in', unique).where(isVisibleMessage(viewer, boxes.map((b) => b.id))).execute();
  if (visible.length !== unique.length) throw new NotFoundError('Message');
  if (read) {
    const at = new Date();
    await k.insertInto('message_read').values(unique.map((id) => ({ user_id: viewer.id, message_id: id, read_at: at })))
      .onConflict((oc) => oc.columns(['user_id', 'message_id']).doNothing()).execute();
  } else {
    await k.deleteFrom('message_read').where('user_id', '=', viewer.id).where('message_id', 'in', unique).execute();
  }
}
