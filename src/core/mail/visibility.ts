// Who may see which message and which client, as conditions that list queries embed (one rule, used
// everywhere). A message is visible when it has a live location in a mailbox the viewer may see, or is
// filed to a client the viewer may see. Mailboxes must not special-case admins: unfiled mail of a private
// mailbox is its owner's alone. Clients do: a restricted client is its team's and the admins' alone.
import { expressionBuilder, sql, type Expression, type SqlBool } from 'kysely';
import { kysely, type DB, type Em } from '../platform/db.ts';
import { NotFoundError } from '../platform/errors.ts';

/** What the rule needs to know about the caller. Mailboxes ignore the role (admins see no more private
 *  mail); clients do not: an admin sees every restricted client. No role means no admin rights. */
export type Viewer = { id: string; role?: string };

/** Queries that name their mail_account `ma`. */
export type WithAccount = DB & { ma: DB['mail_account'] };
/** Queries that name their message `m`. */
export type WithMessage = DB & { m: DB['message'] };

/** Accounts the viewer may see: their own (private or public) and every public one, as a condition on
 *  the mail_account aliased `ma`. */
export function visibleAccount(viewer: Viewer): Expression<SqlBool> {
  const eb = expressionBuilder<WithAccount, 'ma'>();
  return eb.or([eb('ma.visibility', '=', 'public'), eb('ma.owner_id', '=', viewer.id)]);
}

/** A mailbox the viewer may see: in one of their own accounts (private or public) or any public one. */
export type VisibleMailbox = { id: string; accountId: string; path: string };

/**
 * The viewer's mailboxes, read once per request (a handful of rows). Lists then name them as constants,
 * so PostgreSQL can estimate from its statistics how much of message_location they cover and pick
 * between walking messages newest-first and starting from the locations.
 */
export async function listVisibleMailboxes(em: Em, viewer: Viewer): Promise<VisibleMailbox[]> {
  const rows = await kysely(em).selectFrom('mailbox as mb').innerJoin('mail_account as ma', 'ma.id', 'mb.account_id')
    .where(visibleAccount(viewer))
    .select(['mb.id', 'mb.account_id', 'mb.path'])
    .orderBy('mb.account_id').orderBy('mb.path')
    .execute();
  return rows.map((r) => ({ id: r.id, accountId: r.account_id, path: r.path }));
}

/** True when the message aliased `m` has a live (not expunged) location in one of `mailboxIds`. */
export function hasLiveLocation(mailboxIds: string[]): Expression<SqlBool> {
  const eb = expressionBuilder<WithMessage, 'm'>();
  if (mailboxIds.length === 0) return eb.lit(false);
  return eb.exists(eb.selectFrom('message_location as vml').select(eb.lit(1).as('one'))
    .whereRef('vml.message_id', '=', 'm.id').where('vml.removed_at', 'is', null).where('vml.mailbox_id', 'in', mailboxIds));
}

/**
 * The client whose id is `clientId` (a column such as 'c.id', or an expression) is one the viewer may
 * see: not restricted, or the viewer is on its team, or the viewer is an admin. Every client-scoped
 * query and route goes through this (or assertClientVisible): a hidden client is a 404, never a 403.
 */
export function visibleClient(viewer: Viewer, clientId: string | Expression<string>): Expression<SqlBool> {
  const eb = expressionBuilder<DB & { vcl: DB['client'] }, 'vcl'>();
  const id = typeof clientId === 'string' ? sql.ref<string>(clientId) : clientId;
  const access: Expression<SqlBool>[] = [];
  if (viewer.role !== 'admin') {
    access.push(eb.or([
      eb('vcl.restricted', '=', false),
      eb.exists(eb.selectFrom('client_team as vct').select(eb.lit(1).as('one')).whereRef('vct.client_id', '=', 'vcl.id').where('vct.user_id', '=', viewer.id)),
    ]));
  }
  return eb.exists(eb.selectFrom('client as vcl').select(eb.lit(1).as('one')).where('vcl.id', '=', id).where(eb.and(access)));
}

/** Throws NotFoundError('Client') unless the client exists and the viewer may see it. */
export async function assertClientVisible(em: Em, viewer: Viewer, clientId: string): Promise<void> {
  const row = await kysely(em).selectFrom('client as c').select('c.id').where('c.id', '=', clientId).where(visibleClient(viewer, 'c.id')).executeTakeFirst();
  if (!row) throw new NotFoundError('Client');
}

/** The ids among `clientIds` the viewer may see (order kept). */
export async function filterVisibleClientIds(em: Em, viewer: Viewer, clientIds: string[]): Promise<string[]> {
  if (clientIds.length === 0) return [];
  const rows = await kysely(em).selectFrom('client as c').select('c.id').where('c.id', 'in', clientIds).where(visibleClient(viewer, 'c.id')).execute();
  const ok = new Set(rows.map((r) => r.id));
  return clientIds.filter((id) => ok.has(id));
}

/** Whether some client is hidden from the viewer (then mail filed only to it is not "filed" for them). */
export async function hidesClients(em: Em, viewer: Viewer): Promise<boolean> {
  const row = await kysely(em).selectFrom('client as c').select('c.id').where((eb) => eb.not(visibleClient(viewer, 'c.id'))).limit(1).executeTakeFirst();
  return row !== undefined;
}

/**
 * True when the message aliased `m` is filed to at least one client the viewer may see: client history
 * is the firm's, except a restricted client's. Lists use this and hasLiveLocation as separate ordered
 * branches (message-queries.ts): an OR of the two EXISTS makes PostgreSQL hash a whole table first
 * instead of probing per row.
 */
export function isFiled(viewer: Viewer): Expression<SqlBool> {
  const eb = expressionBuilder<WithMessage, 'm'>();
  return eb.exists(eb.selectFrom('communication as vc').select(eb.lit(1).as('one')).whereRef('vc.message_id', '=', 'm.id')
    .where(visibleClient(viewer, 'vc.client_id')));
}

/** True when the message aliased `m` is filed to some client, visible to the viewer or not. */
export function isFiledToAnyClient(): Expression<SqlBool> {
  const eb = expressionBuilder<WithMessage, 'm'>();
  return eb.exists(eb.selectFrom('communication as vc').select(eb.lit(1).as('one')).whereRef('vc.message_id', '=', 'm.id'));
}

/**
 * True when Dossier sent the message aliased `m` through an account owning one of `mailboxIds`: mail sent
 * from a mailbox belongs to it before its Sent copy syncs, and for good when the account has no Sent folder.
 */
export function isSentThrough(mailboxIds: string[]): Expression<SqlBool> {
  const eb = expressionBuilder<WithMessage, 'm'>();
  if (mailboxIds.length === 0) return eb.lit(false);
  return eb.exists(eb.selectFrom('outbox as vo').innerJoin('mailbox as vmb', 'vmb.account_id', 'vo.account_id').select(eb.lit(1).as('one'))
    .whereRef('vo.sent_message_id', '=', 'm.id').where('vmb.id', 'in', mailboxIds));
}

/** The rule as one condition on the message aliased `m`, for lookups by id (where an OR costs nothing). */
export function isVisibleMessage(viewer: Viewer, mailboxIds: string[]): Expression<SqlBool> {
  const eb = expressionBuilder<WithMessage, 'm'>();
  return eb.or([hasLiveLocation(mailboxIds), isFiled(viewer), isSentThrough(mailboxIds)]);
}

/** Whether one message is visible to the viewer (false for unknown ids too). */
export async function isMessageVisible(em: Em, viewer: Viewer, messageId: string): Promise<boolean> {
  const boxes = await listVisibleMailboxes(em, viewer);
  const row = await kysely(em).selectFrom('message as m').select('m.id')
    .where('m.id', '=', messageId).where(isVisibleMessage(viewer, boxes.map((b) => b.id)))
    .executeTakeFirst();
  return row !== undefined;
}

/** Throws NotFoundError unless the message exists and the viewer may see it (never reveal which). */
export async function assertMessageVisible(em: Em, viewer: Viewer, messageId: string): Promise<void> {
  if (!(await isMessageVisible(em, viewer, messageId))) throw new NotFoundError('Message');
}

// ---------------------------------------------------------------- held mail (issue 12)

/** Who decides on held mail: here the role counts, as public mailboxes are the admins' to review. */
export type Reviewer = Viewer & { role: 'admin' | 'staff' };

/**
 * A message held for review (a file-request reply or discussion comment from someone not entitled to
 * post) may be read and accepted only by the owner of a private mailbox holding it, or by an admin when a
 * public mailbox holds it. Everyone else must not learn it exists: callers answer 404 and leave it out
 * of lists. Removed locations count: expunging the mail does not hand the decision to someone else.
 */
export async function listReviewableMessages(em: Em, reviewer: Reviewer, messageIds: string[]): Promise<Set<string>> {
  if (!messageIds.length) return new Set();
  const rows = await kysely(em).selectFrom('message_location as ml')
    .innerJoin('mailbox as mb', 'mb.id', 'ml.mailbox_id')
    .innerJoin('mail_account as ma', 'ma.id', 'mb.account_id')
    .select('ml.message_id').distinct()
    .where('ml.message_id', 'in', [...new Set(messageIds)])
    .where((eb) => eb.or([
      eb.and([eb('ma.visibility', '=', 'private'), eb('ma.owner_id', '=', reviewer.id)]),
      ...(reviewer.role === 'admin' ? [eb('ma.visibility', '=', 'public')] : []),
    ]))
    .execute();
  return new Set(rows.map((r) => r.message_id));
}

/** Throws NotFoundError unless the reviewer may read and accept this held message (see listReviewableMessages). */
export async function assertReviewable(em: Em, reviewer: Reviewer, messageId: string, what: string): Promise<void> {
  if (!(await listReviewableMessages(em, reviewer, [messageId])).has(messageId)) throw new NotFoundError(what);
}

/**
 * The staff who may review a held message (see listReviewableMessages): the owners of the private
 * mailboxes holding it and, when a public one does, every active admin. `preferred` (the request's or
 * discussion's own people) are chosen when some of them may review; otherwise all who may.
 */
export async function listHeldReviewers(em: Em, messageId: string, preferred: (string | null | undefined)[] = []): Promise<string[]> {
  const db = kysely(em);
  const rows = await db.selectFrom('message_location as ml')
    .innerJoin('mailbox as mb', 'mb.id', 'ml.mailbox_id')
    .innerJoin('mail_account as ma', 'ma.id', 'mb.account_id')
    .select(['ma.visibility', 'ma.owner_id']).distinct()
    .where('ml.message_id', '=', messageId)
    .execute();
  const ids = new Set(rows.filter((r) => r.visibility === 'private').map((r) => r.owner_id));
  if (rows.some((r) => r.visibility === 'public')) {
    for (const a of await db.selectFrom('app_user').select('id').where('role', '=', 'admin').where('active', '=', true).execute()) ids.add(a.id);
  }
  const chosen = preferred.filter((id): id is string => !!id && ids.has(id));
  return chosen.length ? [...new Set(chosen)] : [...ids];
}
