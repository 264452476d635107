// "Keep private" (issue 12): the owner of a private mailbox holding a message takes it out of every client
// log (its records and the attachments auto-saved from it), and filing never brings it back while it is
// private (filing-consent.ts reads private_message), so colleagues no longer see it. Undoing files it again
// under the usual consent rule. No one else may do either, or learn the message exists.
import { sql } from 'kysely';
import { kysely, type Em } from '../platform/db.ts';
import { NotFoundError, RuleError } from '../platform/errors.ts';
import { recordAudit } from '../staff/audit.ts';
import { fileMessages, type FilingDeps } from './filing.ts';

const one = sql.lit(1).as('one');

/** Whether the user owns a private mailbox with a live copy of the message (the only one who may decide). */
async function ownsPrivateCopy(em: Em, userId: string, messageId: string): Promise<boolean> {
  const row = await kysely(em).selectFrom('message_location as l').innerJoin('mailbox as mb', 'mb.id', 'l.mailbox_id')
    .innerJoin('mail_account as a', 'a.id', 'mb.account_id').select(one)
    .where('l.message_id', '=', messageId).where('l.removed_at', 'is', null)
    .where('a.visibility', '=', 'private').where('a.owner_id', '=', userId)
    .executeTakeFirst();
  return row !== undefined;
}

export type PrivacyState = { id: string; private: boolean; canChange: boolean };

/** The message's privacy for the message view: whether it is kept private and whether the caller may change that. */
export async function getMessagePrivacy(em: Em, user: { id: string }, messageId: string): Promise<PrivacyState> {
  const canChange = await ownsPrivateCopy(em, user.id, messageId);
  const kept = await kysely(em).selectFrom('private_message').select('message_id').where('message_id', '=', messageId).executeTakeFirst();
  return { id: messageId, private: kept !== undefined, canChange };
}

/**
 * Sets or clears "keep private". NotFound unless the caller owns a private mailbox with a live copy; a
 * message that also lies in a public mailbox is the firm's and cannot be made private (422
 * `message_in_public_mailbox`). Returns how many client logs it left.
 */
export async function setMessagePrivate(em: Em, user: { id: string }, messageId: string, keep: boolean, deps: FilingDeps): Promise<{ id: string; private: boolean; removedFromClients: number }> {
  if (!(await ownsPrivateCopy(em, user.id, messageId))) throw new NotFoundError('Message');
  const db = kysely(em);
  if (!keep) {
    const gone = await db.deleteFrom('private_message').where('message_id', '=', messageId).returning('message_id').execute();
    if (gone.length) {
      recordAudit(em, { actorId: user.id, action: 'message.not_private', entityType: 'message', entityId: messageId, details: {} });
      await fileMessages(em, [messageId], deps);
    }
    return { id: messageId, private: false, removedFromClients: 0 };
  }
  const publicCopy = await db.selectFrom('message_location as l').innerJoin('mailbox as mb', 'mb.id', 'l.mailbox_id')
    .innerJoin('mail_account as a', 'a.id', 'mb.account_id').select(one)
    .where('l.message_id', '=', messageId).where('l.removed_at', 'is', null).where('a.visibility', '=', 'public')
    .executeTakeFirst();
  if (publicCopy) throw new RuleError('message_in_public_mailbox', 'This message is also in a shared mailbox: it is the firm’s mail and cannot be kept private');
  await db.insertInto('private_message').values({ message_id: messageId, marked_by_id: user.id, created_at: new Date() })
    .onConflict((oc) => oc.column('message_id').doNothing()).execute();
  const removed = await db.deleteFrom('communication').where('message_id', '=', messageId).returning('client_id').execute();
  // Attachments saved from it as client documents would still show it: they go with the records.
  await db.deleteFrom('document').where('message_id', '=', messageId).where('source', '=', 'email').execute();
  const clientIds = [...new Set(removed.map((r) => r.client_id))];
  for (const clientId of clientIds) {
    recordAudit(em, { actorId: user.id, action: 'message.keep_private', entityType: 'message', entityId: messageId, clientId, details: {} });
  }
  if (!clientIds.length) recordAudit(em, { actorId: user.id, action: 'message.keep_private', entityType: 'message', entityId: messageId, details: {} });
  return { id: messageId, private: true, removedFromClients: clientIds.length };
}
