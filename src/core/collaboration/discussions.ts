// Discussions with a client's contact group: post a topic (ONE mail to all participants, so reply-all keeps
// the group together and the thread is a single Message-ID chain), comment from the app (sent to the group
// in the same thread), list and view. No HTTP, no SMTP: the caller flushes, then enqueues the sends.
import { kysely, type Em } from '../platform/db.ts';
import type { JobQueue } from '../platform/jobs.ts';
import { recordAudit } from '../staff/audit.ts';
import { Client } from '../crm/client.entity.ts';
import { Discussion, DiscussionComment, DiscussionParticipant } from './discussion.entity.ts';
import { InvalidInputError, NotFoundError, RuleError } from '../platform/errors.ts';
import { cursorTime, cursorTimestamp, decodeCursor, encodeCursor } from '../platform/keyset-cursor.ts';
import { MailAccount } from '../mail/mail-account.entity.ts';
import { listReviewableMessages, type Reviewer } from '../mail/visibility.ts';
import { Outbox } from '../outbox/outbox.entity.ts';
import { MAX_BODY_LENGTH, enqueueSend, newMessageId } from '../outbox/outbox.ts';
import { renderCommentMail, renderDiscussionMail } from './templates/collaboration-mail.ts';
import { oneLine, type RenderedMail } from './templates/render.ts';
import { capReferences } from '../mail/threading.ts';
import type { Language, User } from '../staff/user.entity.ts';

export const MAX_PARTICIPANTS = 30;
export const MAX_SUBJECT = 300;

export type DiscussionInput = { subject: string; body: string; contactEmailIds: string[]; accountId?: string };

/** A contact address of the client with the switches that decide whether it may receive client mail. */
export type ClientAddress = { contactEmailId: string; contactName: string; address: string; language: Language; notify: boolean; categories: string[] };

/** The client's contact addresses (through its linked contacts). */
export async function listClientAddresses(em: Em, clientId: string): Promise<ClientAddress[]> {
  const rows = await kysely(em).selectFrom('contact_email as ce')
    .innerJoin('contact as c', 'c.id', 'ce.contact_id').innerJoin('client_contact as cc', 'cc.contact_id', 'c.id')
    .select(['ce.id', 'c.name as contact_name', 'ce.address', 'ce.language', 'ce.notify', 'ce.notify_categories'])
    .where('cc.client_id', '=', clientId)
    .orderBy('c.name').orderBy('ce.address')
    .execute();
  return rows.map((r) => ({ contactEmailId: r.id, contactName: r.contact_name, address: r.address, language: r.language, notify: r.notify, categories: r.notify_categories ?? [] }));
}

/**
 * The chosen contact addresses, each checked: an address of this client, notify on, and the given
 * notification category on (documents for shares, messages for discussions). Refused, never dropped.
 */
export async function pickRecipients(em: Em, clientId: string, contactEmailIds: string[], category: 'documents' | 'messages', max: number): Promise<ClientAddress[]> {
  if (!contactEmailIds.length) throw new InvalidInputError('no_recipients', 'Choose at least one contact address', 'contactEmailIds');
  if (contactEmailIds.length > max) throw new InvalidInputError('too_many_recipients', `At most ${max} contact addresses`, 'contactEmailIds');
  const all = await listClientAddresses(em, clientId);
  const out: ClientAddress[] = [];
  for (const [i, id] of contactEmailIds.entries()) {
    const field = `contactEmailIds.${i}`;
    const a = all.find((x) => x.contactEmailId === id);
    if (!a) throw new RuleError('recipient_not_contact', 'That address is not one of this client\'s contacts', field);
    if (!a.notify) throw new RuleError('recipient_notify_off', `${a.address} does not receive notifications (notify is off)`, field);
    if (!a.categories.includes(category)) throw new RuleError('recipient_category_off', `${a.address} does not receive ${category === 'documents' ? 'documents' : 'messages'} (category off)`, field);
    if (!out.some((x) => x.address === a.address)) out.push(a);
  }
  return out;
}

/** The account the user may send from: the given one (own or public), else their own, else a public one. */
export async function getSenderAccount(em: Em, user: User, accountId?: string): Promise<MailAccount> {
  if (accountId) {
    const account = await em.findOne(MailAccount, { id: accountId });
    if (!account || (account.visibility !== 'public' && account.owner.id !== user.id)) throw new NotFoundError('Mail account');
    return account;
  }
  const own = await em.findOne(MailAccount, { owner: user.id }, { orderBy: { createdAt: 'asc' } });
  if (own) return own;
  const shared = await em.findOne(MailAccount, { visibility: 'public' }, { orderBy: { createdAt: 'asc' } });
  if (!shared) throw new RuleError('account_required', 'Add a mailbox to send from first', 'accountId');
  return shared;
}

export const senderName = (account: MailAccount, user: User) => oneLine(account.visibility === 'public' && account.owner.id !== user.id ? account.name : user.name).slice(0, 200);

/** The group's language: the one all participants share, else the author's. */
export function groupLanguage(participants: { language: Language }[], fallback: Language): Language {
  const langs = new Set(participants.map((p) => p.language));
  return langs.size === 1 ? [...langs][0]! : fallback;
}

function checkBody(body: string): string {
  if (!body.trim()) throw new InvalidInputError('required', 'Write a message', 'body');
  if (body.length > MAX_BODY_LENGTH) throw new InvalidInputError('too_long', 'body is too long', 'body');
  return body;
}

function groupOutbox(em: Em, input: { account: MailAccount; user: User; kind: string; to: { name?: string; address: string }[]; mail: RenderedMail; clientId: string; inReplyTo: string | null; references: string[] }): Outbox {
  return em.create(Outbox, {
    account: input.account, createdBy: input.user, kind: input.kind, fromName: senderName(input.account, input.user) || null,
    to: input.to, cc: [], bcc: [], subject: input.mail.subject, text: input.mail.text, html: input.mail.html,
    inReplyTo: input.inReplyTo, references: input.references, replyTo: null, messageIdHeader: newMessageId(input.account.email),
    documentIds: [], clientId: input.clientId, replyToMessage: null, forwardMessage: null, status: 'queued',
  });
}

const toAddress = (p: { name?: string | null; address: string }) => (p.name ? { name: oneLine(p.name).slice(0, 200), address: p.address } : { address: p.address });

/** Posts a topic: the discussion, its participants, the opening comment and ONE outbox mail to the group. */
export async function createDiscussion(em: Em, user: User, clientId: string, input: DiscussionInput): Promise<{ discussion: Discussion; outboxIds: string[] }> {
  const client = await em.findOne(Client, { id: clientId });
  if (!client) throw new NotFoundError('Client');
  const subject = oneLine(input.subject);
  if (!subject) throw new InvalidInputError('required', 'subject is required', 'subject');
  if (Array.from(subject).length > MAX_SUBJECT) throw new InvalidInputError('too_long', `subject may be at most ${MAX_SUBJECT} characters`, 'subject');
  const body = checkBody(input.body);
  const participants = await pickRecipients(em, client.id, input.contactEmailIds, 'messages', MAX_PARTICIPANTS);
  const account = await getSenderAccount(em, user, input.accountId);
  const language = groupLanguage(participants, user.language);
  const mail = renderDiscussionMail({ language, firmName: senderName(account, user) || account.name, subject, body, signature: user.signature });
  const row = groupOutbox(em, { account, user, kind: 'discussion', to: participants.map((p) => toAddress({ name: p.contactName, address: p.address })), mail, clientId: client.id, inReplyTo: null, references: [] });
  const discussion = em.create(Discussion, { client, account, createdBy: user, subject, language, rootMessageIdHeader: row.messageIdHeader });
  for (const p of participants) em.create(DiscussionParticipant, { discussion, contactEmail: p.contactEmailId, address: p.address, name: p.contactName || null });
  em.create(DiscussionComment, { discussion, status: 'posted', authorUser: user, body, messageIdHeader: row.messageIdHeader, outboxId: row.id });
  recordAudit(em, { actorId: user.id, action: 'discussion.create', entityType: 'discussion', entityId: discussion.id, clientId: client.id, details: { subject, participants: participants.map((p) => p.address) } });
  return { discussion, outboxIds: [row.id] };
}

export async function getDiscussion(em: Em, id: string): Promise<Discussion> {
  const d = await em.findOne(Discussion, { id });
  if (!d) throw new NotFoundError('Discussion');
  return d;
}

/**
 * A staff comment from the app, sent to the participants who still receive messages, in the thread:
 * In-Reply-To the latest mail of the discussion, References the root and the latest ids (RFC 5322 §3.6.4).
 */
export async function addDiscussionComment(em: Em, user: User, discussionId: string, input: { body: string }): Promise<{ comment: DiscussionComment; outboxIds: string[] }> {
  const discussion = await getDiscussion(em, discussionId);
  const body = checkBody(input.body);
  const participants = await em.find(DiscussionParticipant, { discussion: discussion.id }, { orderBy: { createdAt: 'asc' } });
  const current = await listClientAddresses(em, discussion.client.id);
  const reachable = participants.filter((p) => current.some((c) => c.address === p.address && c.notify && c.categories.includes('messages')));
  const earlier = await kysely(em).selectFrom('discussion_comment').select('message_id_header')
    .where('discussion_id', '=', discussion.id).where('status', '=', 'posted').where('message_id_header', 'is not', null)
    .orderBy('created_at').orderBy('id')
    .execute();
  const ids = [...new Set([discussion.rootMessageIdHeader, ...earlier.flatMap((r) => (r.message_id_header ? [r.message_id_header] : []))])];
  const parent = ids[ids.length - 1]!;
  let row: Outbox | null = null;
  if (reachable.length) {
    const own = discussion.account ? await em.findOne(MailAccount, { id: discussion.account.id }) : null;
    const account = own && (own.visibility === 'public' || own.owner.id === user.id) ? own : await getSenderAccount(em, user);
    const mail = renderCommentMail({ language: discussion.language, author: user.name, subject: discussion.subject, body, signature: user.signature });
    row = groupOutbox(em, { account, user, kind: 'discussion_comment', to: reachable.map(toAddress), mail, clientId: discussion.client.id, inReplyTo: parent, references: capReferences(ids, 20) });
  }
  const comment = em.create(DiscussionComment, { discussion, status: 'posted', authorUser: user, body, messageIdHeader: row?.messageIdHeader ?? null, outboxId: row?.id ?? null });
  discussion.updatedAt = new Date();
  recordAudit(em, { actorId: user.id, action: 'discussion.comment', entityType: 'discussion', entityId: discussion.id, clientId: discussion.client.id, details: { commentId: comment.id, sentTo: reachable.map((p) => p.address) } });
  return { comment, outboxIds: row ? [row.id] : [] };
}

export async function enqueueDiscussionMail(queue: JobQueue, outboxIds: string[]): Promise<void> {
  for (const id of outboxIds) await enqueueSend(queue, id);
}

export type CommentView = {
  id: string; status: 'posted' | 'held'; body: string; createdAt: string; messageId: string | null;
  author: { kind: 'user'; id: string | null; name: string } | { kind: 'contact'; address: string; name: string | null };
};
export type DiscussionView = {
  id: string; clientId: string; subject: string; language: Language; createdAt: string; updatedAt: string;
  createdBy: { id: string; name: string } | null;
  participants: { contactEmailId: string | null; address: string; name: string | null }[];
  comments: CommentView[];
  /** Replies from addresses that are not participants: kept for staff, never posted. */
  held: CommentView[];
};

/** The discussion as `viewer` may see it: held comments they may not review are left out (issue 12). */
export async function getDiscussionView(em: Em, id: string, viewer: Reviewer): Promise<DiscussionView> {
  const d = await getDiscussion(em, id);
  await em.populate(d, ['createdBy']);
  const participants = await em.find(DiscussionParticipant, { discussion: d.id }, { orderBy: { createdAt: 'asc', address: 'asc' } });
  const comments = await em.find(DiscussionComment, { discussion: d.id }, { orderBy: { createdAt: 'asc', id: 'asc' }, populate: ['authorUser'] });
  const reviewable = await listReviewableMessages(em, viewer, comments.flatMap((c) => (c.status === 'held' && c.message ? [c.message.id] : [])));
  const view = (c: DiscussionComment): CommentView => ({
    id: c.id, status: c.status, body: c.body, createdAt: c.createdAt.toISOString(), messageId: c.message?.id ?? null,
    author: c.authorAddress ? { kind: 'contact', address: c.authorAddress, name: c.authorName ?? null } : { kind: 'user', id: c.authorUser?.id ?? null, name: c.authorUser?.name ?? '' },
  });
  return {
    id: d.id, clientId: d.client.id, subject: d.subject, language: d.language, createdAt: d.createdAt.toISOString(), updatedAt: d.updatedAt.toISOString(),
    createdBy: d.createdBy ? { id: d.createdBy.id, name: d.createdBy.name } : null,
    participants: participants.map((p) => ({ contactEmailId: p.contactEmail?.id ?? null, address: p.address, name: p.name ?? null })),
    comments: comments.filter((c) => c.status === 'posted').map(view),
    held: comments.filter((c) => c.status === 'held' && c.message && reviewable.has(c.message.id)).map(view),
  };
}

export type DiscussionSummary = { id: string; subject: string; createdAt: string; updatedAt: string; createdBy: { id: string; name: string } | null; participants: number; comments: number; lastCommentAt: string | null };

/** A client's discussions, most recently active first. */
export async function listDiscussions(em: Em, clientId: string, opts: { limit: number; cursor?: string }): Promise<{ items: DiscussionSummary[]; nextCursor: string | null }> {
  if (!(await em.count(Client, { id: clientId }))) throw new NotFoundError('Client');
  let query = kysely(em).selectFrom('discussion as d').leftJoin('app_user as u', 'u.id', 'd.created_by_id')
    .select((eb) => [
      'd.id', 'd.subject', 'd.created_at', 'd.updated_at', cursorTime(eb.ref('d.updated_at')).as('at'), 'u.id as user_id', 'u.name as user_name',
      eb.selectFrom('discussion_participant as p').select((sub) => sub.fn.countAll<string>().as('n')).whereRef('p.discussion_id', '=', 'd.id').as('participants'),
      eb.selectFrom('discussion_comment as c').select((sub) => sub.fn.countAll<string>().as('n')).whereRef('c.discussion_id', '=', 'd.id').where('c.status', '=', 'posted').as('comments'),
      eb.selectFrom('discussion_comment as c').select((sub) => sub.fn.max('c.created_at').as('at')).whereRef('c.discussion_id', '=', 'd.id').where('c.status', '=', 'posted').as('last_at'),
    ])
    .where('d.client_id', '=', clientId);
  if (opts.cursor) {
    const pos = decodeCursor(opts.cursor);
    query = query.where((eb) => eb(eb.refTuple('d.updated_at', 'd.id'), '<', eb.tuple(cursorTimestamp(pos), pos.id)));
  }
  const rows = await query.orderBy('d.updated_at', 'desc').orderBy('d.id', 'desc').limit(opts.limit + 1).execute();
  const page = rows.slice(0, opts.limit);
  const last = page[page.length - 1];
  const iso = (v: Date | string) => new Date(v).toISOString();
  return {
    items: page.map((r) => ({
      id: r.id, subject: r.subject, createdAt: iso(r.created_at), updatedAt: iso(r.updated_at),
      createdBy: r.user_id ? { id: r.user_id, name: r.user_name ?? '' } : null,
      participants: Number(r.participants ?? 0), comments: Number(r.comments ?? 0), lastCommentAt: r.last_at ? iso(r.last_at) : null,
    })),
    nextCursor: rows.length > opts.limit && last ? encodeCursor({ at: last.at, id: last.id }) : null,
  };
}

