// Discussion replies by mail: a newly stored message that references a discussion's Message-IDs
// (In-Reply-To/References) becomes a comment when its sender is a participant; from anyone else it is
// kept as a held comment for staff. Our mail and participants' replies are filed to the client. Runs inside the
// sync's store transaction; never sends mail (a staff email copy is queued; the caller enqueues its send after commit).
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { kysely, type Em } from '../platform/db.ts';
import { normalizeAddress } from '../mail/addresses.ts';
import { Discussion, DiscussionComment, DiscussionParticipant } from './discussion.entity.ts';
import type { Message } from '../mail/message.entity.ts';
import { createNotification } from './staff-notifications.ts';
import { oneLine } from './templates/render.ts';
import { normalizeMessageId } from '../mail/threading.ts';
import { assertReviewable, listHeldReviewers, type Reviewer } from '../mail/visibility.ts';
import { NotFoundError } from '../platform/errors.ts';
import { recordAudit } from '../staff/audit.ts';

export type DiscussionMatch =
  | { kind: 'none' }
  | { kind: 'own'; discussionId: string }
  /** outboxIds: the followers' email copies queued in this transaction; the caller enqueues them after commit. */
  | { kind: 'comment' | 'held'; discussionId: string; commentId: string; outboxIds: string[] }
  /** Matching threw; its work was rolled back to the savepoint. The caller logs it (core has no logger). */
  | { kind: 'failed'; messageId: string; error: string };

// Where the quoted original starts in a reply: "On … wrote:" (and the es/nl forms), Outlook's separator.
const QUOTE_HEADER = /^(?:On .{1,300} wrote:|El .{1,300} escribió:|Op .{1,300} schreef.{0,40}:|-{2,}\s*Original Message\s*-{2,}|-{2,}\s*Mensaje original\s*-{2,}|-{2,}\s*Oorspronkelijk bericht\s*-{2,}|From: .+)$/iu;

/** The new text of a reply: lines before the quoted original, without ">" quotes. Falls back to the whole text. */
export function extractReplyText(text: string): string {
  const lines = text.replace(/\r\n?/gu, '\n').split('\n');
  const out: string[] = [];
  for (const line of lines) {
    if (QUOTE_HEADER.test(line.trim())) break;
    if (/^\s*>/u.test(line)) continue;
    out.push(line);
  }
  const kept = out.join('\n').trim();
  return kept || text.trim();
}

/** Files the message to the discussion's client (email record, idempotent on (client, message)). */
async function fileToClient(em: Em, clientId: string, message: Pick<Message, 'id'>): Promise<void> {
  await kysely(em).insertInto('communication')
    .columns(['id', 'client_id', 'kind', 'subject', 'notes', 'occurred_at', 'initiated_by', 'author_id', 'message_id', 'filed_by', 'created_at', 'updated_at'])
    .expression((db) => db.selectFrom('message as m').select((eb) => [
      eb.val(randomUUID()).as('id'), eb.val(clientId).as('client_id'), sql.lit('email').as('kind'), 'm.subject', sql.lit('').as('notes'), 'm.sent_at',
      eb.case().when(eb.exists(eb.selectFrom('contact_email as ce').innerJoin('client_contact as cc', 'cc.contact_id', 'ce.contact_id')
        .select(sql.lit(1).as('one')).where('cc.client_id', '=', clientId).whereRef('ce.address', '=', 'm.from_address')))
        .then(sql.lit('client')).else(sql.lit('firm')).end().as('initiated_by'),
      sql.lit(null).as('author_id'), 'm.id as message_id', sql.lit('auto').as('filed_by'), eb.fn<Date>('now').as('created_at'), eb.fn<Date>('now').as('updated_at'),
    ]).where('m.id', '=', message.id))
    .onConflict((oc) => oc.columns(['client_id', 'message_id']).doNothing())
    .execute();
}

/** Staff who follow a discussion: its author and every staff member who commented. */
async function listFollowers(em: Em, discussion: Discussion): Promise<string[]> {
  const rows = await kysely(em).selectFrom('discussion').select('created_by_id as id')
    .where('id', '=', discussion.id).where('created_by_id', 'is not', null)
    .union((db) => db.selectFrom('discussion_comment').select('author_user_id as id').distinct()
      .where('discussion_id', '=', discussion.id).where('author_user_id', 'is not', null))
    .execute();
  return [...new Set(rows.flatMap((r) => (r.id ? [r.id] : [])))];
}

/**
 * Matches one newly stored message against discussions. Our own sent copy (its Message-ID is the root or
 * a comment's) is linked and filed; a reply (a discussion Message-ID in In-Reply-To/References) becomes a
 * posted comment from a participant, or a held one from anyone else, and the followers are notified.
 */
export async function matchDiscussionReply(em: Em, message: Message, opts: { publicUrl?: string } = {}): Promise<DiscussionMatch> {
  try {
    // A savepoint: whatever goes wrong here is undone alone and never blocks storing the mailbox's mail.
    return await em.transactional((tx) => matchReply(tx, message, opts), { propagation: 'nested' });
  } catch (err) {
    return { kind: 'failed', messageId: message.id, error: err instanceof Error ? err.message : String(err) };
  }
}

async function matchReply(em: Em, message: Message, opts: { publicUrl?: string }): Promise<DiscussionMatch> {
  const own = normalizeMessageId(message.messageIdHeader);
  if (own) {
    const mine = await kysely(em).selectFrom('discussion_comment as c').innerJoin('discussion as d', 'd.id', 'c.discussion_id')
      .select(['d.id as discussion_id', 'd.client_id', 'c.id as comment_id'])
      .where('c.message_id_header', '=', own).where('c.author_user_id', 'is not', null)
      .limit(1)
      .executeTakeFirst();
    if (mine) {
      await kysely(em).updateTable('discussion_comment').set({ message_id: message.id })
        .where('id', '=', mine.comment_id).where('message_id', 'is', null)
        .execute();
      await fileToClient(em, mine.client_id, message);
      return { kind: 'own', discussionId: mine.discussion_id };
    }
  }
  const refs = [...new Set([message.inReplyTo, ...(message.references ?? [])].map((id) => normalizeMessageId(id)).filter((id): id is string => !!id && id !== own))];
  if (!refs.length) return { kind: 'none' };
  const found = await kysely(em).selectFrom('discussion as d').select('d.id').where('d.root_message_id_header', 'in', refs)
    .union((db) => db.selectFrom('discussion_comment as c').select('c.discussion_id as id').where('c.status', '=', 'posted').where('c.message_id_header', 'in', refs))
    .limit(1)
    .executeTakeFirst();
  if (!found) return { kind: 'none' };
  const discussion = await em.findOneOrFail(Discussion, { id: found.id });
  const existing = await em.findOne(DiscussionComment, { discussion: discussion.id, message: message.id });
  if (existing) return { kind: existing.status === 'posted' ? 'comment' : 'held', discussionId: discussion.id, commentId: existing.id, outboxIds: [] };

  const from = normalizeAddress(message.fromAddress ?? '');
  const participant = from ? await em.findOne(DiscussionParticipant, { discussion: discussion.id, address: from }) : null;
  const status = participant ? 'posted' : 'held';
  const comment = em.create(DiscussionComment, {
    discussion, status, authorUser: null, authorAddress: from ?? oneLine(message.fromAddress ?? '').slice(0, 320), authorName: oneLine(message.fromName ?? '').slice(0, 200) || participant?.name || null,
    body: extractReplyText(message.text ?? '').slice(0, 200_000), message: message.id, messageIdHeader: own, outboxId: null,
  });
  // A participant's reply is the client's conversation; a stranger's waits for staff (not filed by us).
  if (participant) {
    discussion.updatedAt = new Date();
    await fileToClient(em, discussion.client.id, message);
  }
  const who = oneLine(message.fromName ?? '') || from || '?';
  const outboxIds: string[] = [];
  // A held reply is told only to those who may accept it (the mailbox's owner; admins for a public one).
  const followers = await listFollowers(em, discussion);
  const told = participant ? followers : await listHeldReviewers(em, message.id, followers);
  for (const userId of told) {
    const { outboxId } = await createNotification(em, {
      userId,
      kind: participant ? 'discussion_replied' : 'discussion_reply_held',
      title: participant ? `${who} replied to "${discussion.subject}"` : `Reply held for review on "${discussion.subject}" (from ${who}, not a participant)`,
      body: participant ? comment.body.slice(0, 500) : '',
      link: `/clients/${discussion.client.id}/discussions?open=${discussion.id}`,
      clientId: discussion.client.id,
      messageId: message.id,
    }, opts);
    if (outboxId) outboxIds.push(outboxId);
  }
  return { kind: status === 'posted' ? 'comment' : 'held', discussionId: discussion.id, commentId: comment.id, outboxIds };
}

/**
 * Staff accept a held comment (by its message): it is posted and filed as if a participant had written
 * it. Only the owner of the mailbox holding it (admins for a public mailbox) may; to anyone else it does
 * not exist (404). The sender does not become a participant: their next reply is held again.
 */
export async function acceptHeldComment(em: Em, user: Reviewer, discussionId: string, messageId: string): Promise<DiscussionComment> {
  const discussion = await em.findOne(Discussion, { id: discussionId });
  if (!discussion) throw new NotFoundError('Discussion');
  const comment = await em.findOne(DiscussionComment, { discussion: discussion.id, message: messageId, status: 'held' });
  if (!comment) throw new NotFoundError('Held comment');
  await assertReviewable(em, user, messageId, 'Held comment');
  comment.status = 'posted';
  discussion.updatedAt = new Date();
  await em.flush();
  await fileToClient(em, discussion.client.id, { id: messageId });
  recordAudit(em, { actorId: user.id, action: 'discussion.accept_held', entityType: 'discussion', entityId: discussion.id, clientId: discussion.client.id, details: { messageId, address: comment.authorAddress } });
  return comment;
}
