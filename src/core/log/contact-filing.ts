// Contacts in several clients (issue 15): which of a contact's clients its mail is filed to. "all" files to
// every client (the default, as before), "primary" to the primary client only, "ask" to none while the
// contact has two or more clients — the mail waits in message_awaiting_client ("Needs a client") until
// someone files it — except that a message in a thread already filed to one of them follows the thread.
import { expressionBuilder, sql, type Expression, type SqlBool } from 'kysely';
import { kysely, type DB, type Em } from '../platform/db.ts';
import type { AddressRole } from '../mail/message.entity.ts';
import { mayFile } from './filing-consent.ts';

/** The address-matching statement of filing.ts names its rows ma (message_address), ce (contact_email), cc (client_contact). */
type WithMatch = DB & { ma: DB['message_address']; ce: DB['contact_email']; cc: DB['client_contact'] };

/** True when the message already has a record, for this client, on another message of its thread. */
function threadFiledToClient(): Expression<SqlBool> {
  const eb = expressionBuilder<WithMatch, 'ma' | 'cc'>();
  return eb.exists(eb.selectFrom('message as tme').innerJoin('message as ttm', 'ttm.thread_id', 'tme.thread_id')
    .innerJoin('communication as ttc', 'ttc.message_id', 'ttm.id')
    .select(eb.lit(1).as('one'))
    .whereRef('tme.id', '=', 'ma.message_id').whereRef('ttm.id', '<>', 'tme.id').whereRef('ttc.client_id', '=', 'cc.client_id'));
}

/**
 * The condition filing adds to each (message, contact address, client) match: the contact's filing choice
 * lets this client have it. A primary client the contact no longer belongs to counts as none (all).
 */
export function followsContactFiling(): Expression<SqlBool> {
  const eb = expressionBuilder<WithMatch, 'ma' | 'ce' | 'cc'>();
  return eb.exists(eb.selectFrom('contact as fct').select(eb.lit(1).as('one'))
    .whereRef('fct.id', '=', 'ce.contact_id')
    .where((w) => w.or([
      w('fct.filing', '=', 'all'),
      w.and([w('fct.filing', '=', 'primary'), w.or([
        w('fct.primary_client_id', 'is', null),
        w('fct.primary_client_id', '=', w.ref('cc.client_id')),
        w.not(w.exists(w.selectFrom('client_contact as fpc').select(w.lit(1).as('one'))
          .whereRef('fpc.contact_id', '=', 'fct.id').whereRef('fpc.client_id', '=', 'fct.primary_client_id'))),
      ])]),
      w.and([w('fct.filing', '=', 'ask'), w.or([
        w(w.selectFrom('client_contact as fn').select((s) => s.fn.countAll<number>().as('n')).whereRef('fn.contact_id', '=', 'fct.id'), '<', 2),
        threadFiledToClient(),
      ])]),
    ])));
}

/**
 * After live filing: of `messageIds`, those with an address of an asking contact (two or more clients, sync
 * on) and no record for any of that contact's clients wait for staff to choose. Idempotent.
 */
export async function markAwaitingClient(em: Em, messageIds: string[], roles: readonly AddressRole[], own: string[]): Promise<void> {
  if (!messageIds.length) return;
  await kysely(em).insertInto('message_awaiting_client').columns(['message_id', 'client_ids', 'created_at'])
    .expression((db) => db.selectFrom('message_address as ma')
      .innerJoin('contact_email as ce', (j) => j.onRef('ce.address', '=', 'ma.address').on('ce.sync', '=', true))
      .innerJoin('contact as ct', (j) => j.onRef('ct.id', '=', 'ce.contact_id').on('ct.filing', '=', 'ask'))
      .innerJoin('client_contact as cc', 'cc.contact_id', 'ct.id')
      .select((eb) => ['ma.message_id', sql<string[]>`array_agg(distinct ${eb.ref('cc.client_id')}::text)`.as('client_ids'), eb.fn<Date>('now').as('created_at')])
      .where('ma.message_id', 'in', messageIds).where('ma.role', 'in', roles)
      // Private mail without its owner's consent waits for that consent instead (filing-consent.ts).
      .where(mayFile())
      .$if(own.length > 0, (q) => q.where('ma.address', 'not in', own))
      .where((eb) => eb(eb.selectFrom('client_contact as n').select((s) => s.fn.countAll<number>().as('n')).whereRef('n.contact_id', '=', 'ct.id'), '>=', 2))
      .where((eb) => eb.not(eb.exists(eb.selectFrom('communication as c').innerJoin('client_contact as c2', 'c2.client_id', 'c.client_id')
        .select(eb.lit(1).as('one')).whereRef('c.message_id', '=', 'ma.message_id').whereRef('c2.contact_id', '=', 'ct.id'))))
      .groupBy('ma.message_id'))
    .onConflict((oc) => oc.column('message_id').doNothing())
    .execute();
}

/** Filed by hand: the message no longer waits for a client. */
export async function clearAwaitingClient(em: Em, messageId: string): Promise<void> {
  await kysely(em).deleteFrom('message_awaiting_client').where('message_id', '=', messageId).execute();
}

/** The messages waiting for a client that have an address of this contact (to file again when its choice changes). */
export async function listAwaitingOfContact(em: Em, contactId: string): Promise<string[]> {
  const rows = await kysely(em).selectFrom('message_awaiting_client as w')
    .innerJoin('message_address as ma', 'ma.message_id', 'w.message_id')
    .innerJoin('contact_email as ce', 'ce.address', 'ma.address')
    .select('w.message_id').distinct()
    .where('ce.contact_id', '=', contactId)
    .execute();
  return rows.map((r) => r.message_id);
}
