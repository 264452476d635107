// Private-mail consent (issue 12): mail whose only locations are in private mailboxes is filed to a client
// (and so shown to colleagues) only for (address, client) pairs its owner consented to. This module holds the
// one condition filing.ts embeds, the owner's automatic consent, approval requests and decisions. It never
// files by itself except through fileAddress, and never notifies (collaboration announces pending requests).
import { randomUUID } from 'node:crypto';
import { expressionBuilder, sql, type Expression, type SqlBool } from 'kysely';
import { kysely, type DB, type Em } from '../platform/db.ts';
import { NotFoundError } from '../platform/errors.ts';
import { recordAudit } from '../staff/audit.ts';
import type { ConsentStatus } from './filing-consent.entity.ts';

/** The address roles that make a message "from or to" a contact. Bcc is the firm's own copy list, and
 *  Sender is the mailing system, not the author: neither says the client took part. */
export const FILING_ROLES = ['from', 'to', 'cc', 'reply_to'] as const;

/** Queries that name the matched address row `ma` (message_address) and the client link `cc` (client_contact). */
type MatchCtx = DB & { ma: DB['message_address']; cc: DB['client_contact'] };

const one = sql.lit(1).as('one');

/** Locations of the message `ma.message_id` in accounts of one visibility. */
function locationsIn(visibility: 'public' | 'private') {
  const eb = expressionBuilder<MatchCtx, 'ma' | 'cc'>();
  return eb.selectFrom('message_location as cl').innerJoin('mailbox as cmb', 'cmb.id', 'cl.mailbox_id')
    .innerJoin('mail_account as ca', 'ca.id', 'cmb.account_id')
    .whereRef('cl.message_id', '=', 'ma.message_id').where('ca.visibility', '=', visibility);
}

/** True when the message aliased `ma.message_id` was kept private by its owner (never filed again). */
export function isKeptPrivate(): Expression<SqlBool> {
  const eb = expressionBuilder<MatchCtx, 'ma' | 'cc'>();
  return eb.exists(eb.selectFrom('private_message as pm').select(one).whereRef('pm.message_id', '=', 'ma.message_id'));
}

/** True when the message has a live location in a public mailbox: it is the firm's, not private mail. */
function hasPublicCopy(): Expression<SqlBool> {
  const eb = expressionBuilder<MatchCtx, 'ma' | 'cc'>();
  return eb.exists(locationsIn('public').select(one).where('cl.removed_at', 'is', null));
}

/**
 * THE consent rule, for the match (message `ma.message_id`, address `ma.address`, client `cc.client_id`): the
 * message may be filed unless it was kept private, and only when it has a live copy in a public mailbox, or
 * no copy in any private mailbox (mail that never lay in one, or only in public ones since removed), or the
 * owner of a private mailbox holding it consented to this address for this client.
 */
export function mayFile(): Expression<SqlBool> {
  const eb = expressionBuilder<MatchCtx, 'ma' | 'cc'>();
  return eb.and([
    eb.not(isKeptPrivate()),
    eb.or([
      hasPublicCopy(),
      eb.not(eb.exists(locationsIn('private').select(one))),
      eb.exists(locationsIn('private').innerJoin('filing_consent as fc', 'fc.owner_id', 'ca.owner_id').select(one)
        .whereRef('fc.address', '=', 'ma.address').whereRef('fc.client_id', '=', 'cc.client_id').where('fc.status', '=', 'approved')),
    ]),
  ]);
}

/**
 * For the filing preview (address `ma.address`, message `ma.message_id`): whether adding the address for one
 * of `clientIds` by `actorId` would file the message at once — not kept private, and public, never private,
 * in the actor's own private mailbox (their add is consent), or consented to by an owner for such a client.
 */
export function wouldFileAtOnce(clientIds: string[], actorId: string): Expression<SqlBool> {
  const eb = expressionBuilder<MatchCtx, 'ma' | 'cc'>();
  return eb.and([
    eb.not(isKeptPrivate()),
    eb.or([
      hasPublicCopy(),
      eb.not(eb.exists(locationsIn('private').select(one))),
      eb.exists(locationsIn('private').select(one).where('ca.owner_id', '=', actorId)),
      ...(clientIds.length ? [eb.exists(locationsIn('private').innerJoin('filing_consent as fc', 'fc.owner_id', 'ca.owner_id').select(one)
        .whereRef('fc.address', '=', 'ma.address').where('fc.client_id', 'in', clientIds).where('fc.status', '=', 'approved'))] : []),
    ]),
  ]);
}

/**
 * The actor's own add, enable, import or link is their consent for their private mailboxes: recorded as
 * approved for each client (also when they have no private mailbox yet: mail they connect later files).
 */
export async function consentAsOwner(em: Em, actorId: string, address: string, clientIds: string[]): Promise<void> {
  if (!clientIds.length) return;
  const now = new Date();
  await kysely(em).insertInto('filing_consent')
    .values(clientIds.map((clientId) => ({
      id: randomUUID(), owner_id: actorId, address, client_id: clientId, status: 'approved' as const, asked: false,
      requested_by_id: null, notified_at: null, decided_at: now, created_at: now, updated_at: now,
    })))
    .onConflict((oc) => oc.columns(['owner_id', 'address', 'client_id']).doUpdateSet({ status: 'approved', decided_at: now, updated_at: now })
      .where('filing_consent.status', '<>', 'approved'))
    .execute();
}

export type ApprovalScope = { address: string; clientIds?: string[] } | { messageIds: string[] };

/**
 * Asks the owners of private mailboxes whose mail the scope would file but may not (no consent row yet):
 * one pending row per (owner, address, client), never for the actor (whose own action is consent) and never
 * again once the owner answered. Returns how many requests it created; collaboration announces them.
 */
export async function requestApprovals(em: Em, scope: ApprovalScope, own: string[], actorId: string | null): Promise<number> {
  if ('messageIds' in scope && !scope.messageIds.length) return 0;
  if ('address' in scope && scope.clientIds && !scope.clientIds.length) return 0;
  const now = new Date();
  const rows = await kysely(em)
    .with('held', (db) => {
      let q = db.selectFrom('message_address as ma')
        .innerJoin('contact_email as ce', (j) => j.onRef('ce.address', '=', 'ma.address').on('ce.sync', '=', true))
        .innerJoin('client_contact as cc', 'cc.contact_id', 'ce.contact_id')
        .innerJoin('message_location as l', 'l.message_id', 'ma.message_id')
        .innerJoin('mailbox as mb', 'mb.id', 'l.mailbox_id')
        .innerJoin('mail_account as a', (j) => j.onRef('a.id', '=', 'mb.account_id').on('a.visibility', '=', 'private'))
        .select(['a.owner_id', 'ma.address', 'cc.client_id']).distinct()
        .where('ma.role', 'in', FILING_ROLES)
        .where((eb) => eb.not(isKeptPrivate()))
        .where((eb) => eb.not(hasPublicCopy()))
        .where((eb) => eb.not(eb.exists(eb.selectFrom('communication as fc').select(one)
          .whereRef('fc.client_id', '=', 'cc.client_id').whereRef('fc.message_id', '=', 'ma.message_id'))))
        .where((eb) => eb.not(eb.exists(eb.selectFrom('filing_exclusion as fx').select(one)
          .whereRef('fx.client_id', '=', 'cc.client_id').whereRef('fx.message_id', '=', 'ma.message_id'))))
        .where((eb) => eb.not(eb.exists(eb.selectFrom('filing_consent as ex').select(one)
          .whereRef('ex.owner_id', '=', 'a.owner_id').whereRef('ex.address', '=', 'ma.address').whereRef('ex.client_id', '=', 'cc.client_id'))));
      if (own.length) q = q.where('ma.address', 'not in', own);
      if (actorId) q = q.where('a.owner_id', '<>', actorId);
      if ('messageIds' in scope) return q.where('ma.message_id', 'in', scope.messageIds);
      q = q.where('ma.address', '=', scope.address);
      return scope.clientIds ? q.where('cc.client_id', 'in', scope.clientIds) : q;
    })
    .insertInto('filing_consent')
    .columns(['id', 'owner_id', 'address', 'client_id', 'status', 'asked', 'requested_by_id', 'notified_at', 'decided_at', 'created_at', 'updated_at'])
    .expression((db) => db.selectFrom('held as h').select((eb) => [
      eb.fn<string>('gen_random_uuid').as('id'), 'h.owner_id', 'h.address', 'h.client_id', sql.lit('pending').as('status'), sql.lit(true).as('asked'),
      sql<string | null>`${actorId}::uuid`.as('requested_by_id'), sql<Date | null>`null::timestamptz`.as('notified_at'), sql<Date | null>`null::timestamptz`.as('decided_at'),
      eb.val(now).as('created_at'), eb.val(now).as('updated_at'),
    ]))
    .onConflict((oc) => oc.columns(['owner_id', 'address', 'client_id']).doNothing())
    .returning('id')
    .execute();
  return rows.length;
}

export type FilingApprovalView = {
  id: string; address: string; client: { id: string; name: string }; requestedBy: { id: string; name: string } | null;
  accountId: string | null; messages: number; status: ConsentStatus; createdAt: string; decidedAt: string | null;
};

/**
 * The caller's approvals: pending ones (the bell), or those they answered (Settings). `messages` counts the
 * owner's private mail with the address (kept-private messages left out); `accountId` is the owner's private
 * mailbox holding most of it.
 */
export async function listFilingApprovals(em: Em, owner: { id: string }, opts: { statuses: ConsentStatus[]; limit?: number }): Promise<FilingApprovalView[]> {
  const db = kysely(em);
  const rows = await db.selectFrom('filing_consent as fc')
    .innerJoin('client as c', 'c.id', 'fc.client_id')
    .leftJoin('app_user as u', 'u.id', 'fc.requested_by_id')
    .select(['fc.id', 'fc.address', 'fc.status', 'fc.created_at', 'fc.decided_at', 'c.id as client_id', 'c.name as client_name', 'u.id as user_id', 'u.name as user_name'])
    .where('fc.owner_id', '=', owner.id).where('fc.asked', '=', true).where('fc.status', 'in', opts.statuses)
    .orderBy('fc.created_at', 'desc').orderBy('fc.id')
    .limit(opts.limit ?? 200)
    .execute();
  const addresses = [...new Set(rows.map((r) => r.address))];
  const counts = addresses.length ? await db.selectFrom('message_address as ma')
    .innerJoin('message_location as l', 'l.message_id', 'ma.message_id')
    .innerJoin('mailbox as mb', 'mb.id', 'l.mailbox_id')
    .innerJoin('mail_account as a', (j) => j.onRef('a.id', '=', 'mb.account_id').on('a.visibility', '=', 'private').on('a.owner_id', '=', owner.id))
    .select((eb) => ['ma.address', 'a.id as account_id', eb.fn.count<string>('ma.message_id').distinct().as('n')])
    .where('ma.address', 'in', addresses).where('ma.role', 'in', FILING_ROLES)
    .where((eb) => eb.not(isKeptPrivate()))
    .groupBy(['ma.address', 'a.id'])
    .execute() : [];
  const best = new Map<string, { accountId: string; n: number }>();
  const total = new Map<string, number>();
  for (const r of counts) {
    const n = Number(r.n);
    total.set(r.address, (total.get(r.address) ?? 0) + n);
    const cur = best.get(r.address);
    if (!cur || n > cur.n || (n === cur.n && r.account_id < cur.accountId)) best.set(r.address, { accountId: r.account_id, n });
  }
  return rows.map((r) => ({
    id: r.id, address: r.address, client: { id: r.client_id, name: r.client_name },
    requestedBy: r.user_id && r.user_name !== null ? { id: r.user_id, name: r.user_name } : null,
    accountId: best.get(r.address)?.accountId ?? null, messages: total.get(r.address) ?? 0,
    status: r.status, createdAt: new Date(r.created_at).toISOString(), decidedAt: r.decided_at ? new Date(r.decided_at).toISOString() : null,
  }));
}

/** One of the owner's own consent rows that someone asked about (NotFound for anyone else's: never reveal). */
export async function getOwnApproval(em: Em, owner: { id: string }, id: string) {
  const row = await kysely(em).selectFrom('filing_consent').selectAll().where('id', '=', id).where('owner_id', '=', owner.id).executeTakeFirst();
  if (!row) throw new NotFoundError('Filing approval');
  return row;
}

/**
 * Records the owner's answer (also a change of mind from Settings). The caller files the address after
 * an approval (fileAddress, which reads the new row) in the same transaction. A decline after an approval
 * stops further filing; what was already filed stays (use "Keep private" for a message).
 */
export async function decideApproval(em: Em, owner: { id: string }, id: string, decision: 'approve' | 'decline'): Promise<{ address: string; clientId: string; status: ConsentStatus }> {
  const row = await getOwnApproval(em, owner, id);
  const status: ConsentStatus = decision === 'approve' ? 'approved' : 'declined';
  const now = new Date();
  await kysely(em).updateTable('filing_consent').set({ status, decided_at: now, updated_at: now, notified_at: row.notified_at ?? now }).where('id', '=', id).execute();
  // Only an approval reaches the client's trail: a decline there would tell colleagues the owner has such mail.
  recordAudit(em, { actorId: owner.id, action: `filing_consent.${status}`, entityType: 'filing_consent', entityId: id, clientId: status === 'approved' ? row.client_id : null, details: { address: row.address } });
  return { address: row.address, clientId: row.client_id, status };
}
