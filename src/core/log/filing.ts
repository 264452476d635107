// Files stored messages to every client whose contact address (sync on) appears in From/To/Cc/Reply-To:
// in the sync pipeline (fileMessage, inside its transaction) and retroactively for one address
// (fileAddress). Set-based SQL so one address over a million messages stays fast. No HTTP, no IMAP.
import { sql } from 'kysely';
import { kysely, type Em } from '../platform/db.ts';
import type { BlobStore } from '../blobs/blob-store.ts';
import type { Message } from '../mail/message.entity.ts';
import { normalizeAddress } from '../mail/addresses.ts';
import { autoSaveAttachments } from '../documents/auto-save.ts';
import { consentAsOwner, FILING_ROLES, isKeptPrivate, mayFile, requestApprovals, wouldFileAtOnce } from './filing-consent.ts';
import { followsContactFiling, markAwaitingClient } from './contact-filing.ts';
import { isVisibleMessage, listVisibleMailboxes, type Viewer } from '../mail/visibility.ts';

export type FilingDeps = { blobs: BlobStore; maxAttachmentBytes: number };
export type FilingResult = {
  /** Every client the message is filed to after this call (automatically or by hand). */
  clientIds: string[];
  /** The clients this call filed it to (empty when it was already filed everywhere it belongs). */
  filedNow: string[];
  /** Attachments saved as client documents by this call (too-large markers not counted). */
  documentsSaved: number;
};

export { FILING_ROLES } from './filing-consent.ts';

type Pair = { client_id: string; message_id: string };
/** Filed records always have a message (only manual records lack one, and these statements make none). */
const toPairs = (rows: { client_id: string; message_id: string | null }[]): Pair[] =>
  rows.flatMap((r) => (r.message_id ? [{ client_id: r.client_id, message_id: r.message_id }] : []));

/**
 * The firm's own mailbox addresses, normalised. They are never client addresses: a staff member who is
 * in Cc on everything would otherwise file all mail to whichever client lists that address.
 */
export async function listOwnAddresses(em: Em): Promise<string[]> {
  const rows = await kysely(em).selectFrom('mail_account').select('email').distinct().execute();
  return [...new Set(rows.map((r) => normalizeAddress(r.email)).filter((a): a is string => a !== null))];
}

export async function isOwnAddress(em: Em, address: string): Promise<boolean> {
  return (await listOwnAddresses(em)).includes(address);
}

type Scope = { messageIds: string[] } | { address: string; clientIds?: string[] };

/** A record the statement creates: an email record, filed automatically, at the message's time. */
const filedRecordColumns = ['id', 'client_id', 'kind', 'subject', 'notes', 'occurred_at', 'initiated_by', 'message_id', 'filed_by', 'created_at', 'updated_at'] as const;

/**
 * Inserts the missing email records for the scope and returns the (client, message) pairs it created.
 * One statement: matching, the initiatedBy rule and the insert. ON CONFLICT DO NOTHING on the
 * (client_id, message_id) unique key makes it idempotent and safe against a concurrent filer.
 * initiatedBy is 'client' when the From address belongs to any contact of that client (whatever its
 * sync switch: sync decides whether to file, not who wrote).
 */
async function insertFilings(em: Em, scope: Scope, own: string[]): Promise<Pair[]> {
  if ('messageIds' in scope && !scope.messageIds.length) return [];
  if ('address' in scope && scope.clientIds && !scope.clientIds.length) return [];
  const rows = await kysely(em)
    .with('matches', (db) => {
      let q = db.selectFrom('message_address as ma')
        .innerJoin('contact_email as ce', (j) => j.onRef('ce.address', '=', 'ma.address').on('ce.sync', '=', true))
        .innerJoin('client_contact as cc', 'cc.contact_id', 'ce.contact_id')
        .select(['ma.message_id', 'cc.client_id']).distinct()
        .where('ma.role', 'in', FILING_ROLES)
        // Private mail only with its owner's consent (filing-consent.ts): the one gate for every filing path.
        .where(mayFile())
        // A contact in several clients may file to one of them, or ask staff (contact-filing.ts).
        .where(followsContactFiling());
      if (own.length) q = q.where('ma.address', 'not in', own);
      if ('messageIds' in scope) return q.where('ma.message_id', 'in', scope.messageIds);
      q = q.where('ma.address', '=', scope.address);
      return scope.clientIds ? q.where('cc.client_id', 'in', scope.clientIds) : q;
    })
    .insertInto('communication')
    .columns(filedRecordColumns)
    .expression((db) => db.selectFrom('matches as x').innerJoin('message as m', 'm.id', 'x.message_id')
      .select((eb) => [
        eb.fn<string>('gen_random_uuid').as('id'), 'x.client_id', sql.lit('email').as('kind'), 'm.subject', sql.lit('').as('notes'), 'm.sent_at',
        eb.case().when(eb.exists(eb.selectFrom('message_address as f')
          .innerJoin('contact_email as fe', 'fe.address', 'f.address')
          .innerJoin('client_contact as fc', 'fc.contact_id', 'fe.contact_id')
          .select(sql.lit(1).as('one'))
          .whereRef('f.message_id', '=', 'm.id').where('f.role', '=', 'from').whereRef('fc.client_id', '=', 'x.client_id')))
          .then(sql.lit('client')).else(sql.lit('firm')).end().as('initiated_by'),
        'm.id as message_id', sql.lit('auto').as('filed_by'), eb.fn<Date>('now').as('created_at'), eb.fn<Date>('now').as('updated_at'),
      ])
      // Staff unfiled it from this client: automatic filing never brings it back.
      .where((eb) => eb.not(eb.exists(eb.selectFrom('filing_exclusion as fx').select(sql.lit(1).as('one'))
        .whereRef('fx.client_id', '=', 'x.client_id').whereRef('fx.message_id', '=', 'x.message_id'))))
      .orderBy('m.sent_at'))
    .onConflict((oc) => oc.columns(['client_id', 'message_id']).doNothing())
    .returning(['client_id', 'message_id'])
    .execute();
  return toPairs(rows);
}

/**
 * Mail Dossier sent for a client (a reply, a file request, a reminder) is logged for that client when its
 * Sent copy comes back through sync, by the outbox row's Message-ID — even when the recipient's address
 * has sync off. Initiated by the firm; the same unique key and unfiling rule as address filing apply.
 */
async function insertOutboxFilings(em: Em, messageIds: string[]): Promise<Pair[]> {
  if (!messageIds.length) return [];
  const rows = await kysely(em).insertInto('communication')
    .columns(filedRecordColumns)
    .expression((db) => db.selectFrom('message as m')
      .innerJoin('outbox as o', (j) => j.onRef('o.message_id_header', '=', 'm.message_id_header').on('o.client_id', 'is not', null))
      .innerJoin('client as c', 'c.id', 'o.client_id')
      .select((eb) => [
        eb.fn<string>('gen_random_uuid').as('id'), 'o.client_id', sql.lit('email').as('kind'), 'm.subject', sql.lit('').as('notes'), 'm.sent_at',
        sql.lit('firm').as('initiated_by'), 'm.id as message_id', sql.lit('auto').as('filed_by'), eb.fn<Date>('now').as('created_at'), eb.fn<Date>('now').as('updated_at'),
      ])
      .where('m.id', 'in', messageIds)
      // A message its owner kept private is never filed again, whatever sent it.
      .where((eb) => eb.not(eb.exists(eb.selectFrom('private_message as pm').select(sql.lit(1).as('one')).whereRef('pm.message_id', '=', 'm.id'))))
      .where((eb) => eb.not(eb.exists(eb.selectFrom('filing_exclusion as fx').select(sql.lit(1).as('one'))
        .whereRef('fx.client_id', '=', 'o.client_id').whereRef('fx.message_id', '=', 'm.id')))))
    .onConflict((oc) => oc.columns(['client_id', 'message_id']).doNothing())
    .returning(['client_id', 'message_id'])
    .execute();
  return toPairs(rows);
}

/** Of the newly filed pairs, those where one of the client's addresses in the message asks for auto-save. */
async function pairsToAutoSave(em: Em, pairs: Pair[], own: string[]): Promise<Pair[]> {
  if (!pairs.length) return [];
  let query = kysely(em).selectFrom('message_address as ma')
    .innerJoin('contact_email as ce', (j) => j.onRef('ce.address', '=', 'ma.address').on('ce.sync', '=', true).on('ce.auto_save_attachments', '=', true))
    .innerJoin('client_contact as cc', 'cc.contact_id', 'ce.contact_id')
    .select(['cc.client_id', 'ma.message_id']).distinct()
    .where('ma.role', 'in', FILING_ROLES)
    .where('ma.message_id', 'in', [...new Set(pairs.map((p) => p.message_id))])
    .where('cc.client_id', 'in', [...new Set(pairs.map((p) => p.client_id))]);
  if (own.length) query = query.where('ma.address', 'not in', own);
  const rows = await query.execute();
  const created = new Set(pairs.map((p) => `${p.client_id}/${p.message_id}`));
  return rows.filter((r) => created.has(`${r.client_id}/${r.message_id}`));
}

async function saveFor(em: Em, pairs: Pair[], own: string[], deps: FilingDeps): Promise<number> {
  let saved = 0;
  for (const p of await pairsToAutoSave(em, pairs, own)) {
    saved += (await autoSaveAttachments(em, { messageId: p.message_id, clientId: p.client_id }, deps)).saved;
  }
  return saved;
}

/**
 * Files one stored message. Idempotent: filing the same message twice creates nothing new, so a message
 * reaching a private mailbox and info@ (one content row, two locations) gets one record per client.
 * The caller owns the transaction. A thin wrapper of fileMessages.
 */
export async function fileMessage(em: Em, message: Pick<Message, 'id'>, deps: FilingDeps): Promise<FilingResult> {
  return (await fileMessages(em, [message.id], deps)).get(message.id)!;
}

/**
 * Files a batch of stored messages (the sync pipeline files each committed batch at once): one query
 * for the firm's own addresses, one set-based statement that matches every message's addresses to
 * clients and inserts the records, then auto-save only for the pairs it created whose address asks
 * for it, and one query for the resulting client lists. It flushes the unit of work first because the
 * set-based insert reads the messages' rows from the database (still uncommitted, same transaction).
 */
export async function fileMessages(em: Em, messageIds: string[], deps: FilingDeps, opts: { ownAddresses?: Iterable<string> } = {}): Promise<Map<string, FilingResult>> {
  const out = new Map<string, FilingResult>();
  const ids = [...new Set(messageIds)];
  if (!ids.length) return out;
  await em.flush();
  const own = opts.ownAddresses ? [...opts.ownAddresses] : await listOwnAddresses(em);
  const created = await insertFilings(em, { messageIds: ids }, own);
  for (const id of ids) out.set(id, { clientIds: [], filedNow: [], documentsSaved: 0 });
  for (const p of [...created, ...(await insertOutboxFilings(em, ids))]) out.get(p.message_id)?.filedNow.push(p.client_id);
  // Mail of a contact who asks which client: it waits in "Needs a client" (contact-filing.ts).
  await markAwaitingClient(em, ids, FILING_ROLES, own);
  for (const p of await pairsToAutoSave(em, created, own)) {
    out.get(p.message_id)!.documentsSaved += (await autoSaveAttachments(em, { messageId: p.message_id, clientId: p.client_id }, deps)).saved;
  }
  // Private mail held back for want of consent: its owners are asked (collaboration announces it).
  await requestApprovals(em, { messageIds: ids }, own, null);
  const all = await kysely(em).selectFrom('communication').select(['client_id', 'message_id']).where('message_id', 'in', ids).execute();
  for (const r of toPairs(all)) out.get(r.message_id)?.clientIds.push(r.client_id);
  return out;
}

export type AddressFilingResult = {
  /** Distinct messages that got at least one new record (what the API reports as `filed`). */
  messages: number;
  /** New email records (a message filed to two clients counts twice). */
  records: number;
  clientIds: string[];
  documentsSaved: number;
};

/**
 * Retroactive filing: every stored message with this address in From/To/Cc/Reply-To is filed to the
 * clients the address (sync on) belongs to; optionally only to some of them. Runs when an address is
 * added, re-enabled or its contact linked to a client, synchronously where the API promises a count
 * and as the 'file-address' job otherwise. The caller owns the transaction.
 */
export async function fileAddress(em: Em, rawAddress: string, deps: FilingDeps, opts: { clientIds?: string[]; actorId?: string | null } = {}): Promise<AddressFilingResult> {
  const address = normalizeAddress(rawAddress);
  const empty = { messages: 0, records: 0, clientIds: [], documentsSaved: 0 };
  if (!address) return empty;
  await em.flush();
  const own = await listOwnAddresses(em);
  if (own.includes(address)) return empty;
  const actorId = opts.actorId ?? null;
  if (actorId) {
    // The actor's own action is their consent for their own private mailboxes (issue 12).
    const targets = opts.clientIds ?? (await kysely(em).selectFrom('contact_email as ce').innerJoin('client_contact as cc', 'cc.contact_id', 'ce.contact_id')
      .select('cc.client_id').distinct().where('ce.address', '=', address).where('ce.sync', '=', true).execute()).map((r) => r.client_id);
    await consentAsOwner(em, actorId, address, targets);
  }
  const created = await insertFilings(em, { address, clientIds: opts.clientIds }, own);
  // Others' private mail is not filed: its owners are asked, silently for the actor.
  await requestApprovals(em, { address, clientIds: opts.clientIds }, own, actorId);
  const documentsSaved = await saveFor(em, created, own, deps);
  return {
    messages: new Set(created.map((r) => r.message_id)).size,
    records: created.length,
    clientIds: [...new Set(created.map((r) => r.client_id))],
    documentsSaved,
  };
}

export type FilingPreview = {
  address: string;
  /** Messages that adding (or re-enabling, or linking) this address would file. */
  messages: number;
  /** The clients they would be filed to: the address's current clients plus the one asked about. */
  clients: { id: string; name: string }[];
  /** True when the address is one of the firm's own mailboxes, which is never filed. */
  ownAddress: boolean;
};

/**
 * What filing this address would do, with the same matching as fileAddress so the count equals what
 * gets filed: messages with the address in From/To/Cc/Reply-To that lack a record for one of the
 * target clients (the address's clients, whatever its sync switch, plus `clientId`). With no target
 * client yet (a new address, no clientId) it is every message with the address.
 * Only mail the viewer may see or that would be filed at once counts (issue 12): for an address found
 * only in a colleague's private mailbox the answer reads exactly as for an address nobody has.
 */
export async function previewFiling(em: Em, viewer: Viewer, rawAddress: string, opts: { clientId?: string } = {}): Promise<FilingPreview> {
  const address = normalizeAddress(rawAddress);
  if (!address) return { address: rawAddress, messages: 0, clients: [], ownAddress: false };
  const own = await listOwnAddresses(em);
  const db = kysely(em);
  const clients = await db.selectFrom('client as c').select(['c.id', 'c.name'])
    .where((eb) => eb.or([
      eb('c.id', 'in', eb.selectFrom('contact_email as ce').innerJoin('client_contact as cc', 'cc.contact_id', 'ce.contact_id')
        .select('cc.client_id').where('ce.address', '=', address)),
      ...(opts.clientId ? [eb('c.id', '=', opts.clientId)] : []),
    ]))
    .orderBy('c.name').orderBy('c.id')
    .execute();
  if (own.includes(address)) return { address, messages: 0, clients, ownAddress: true };
  const targetIds = clients.map((c) => c.id);
  const boxIds = (await listVisibleMailboxes(em, viewer)).map((b) => b.id);
  let count = db.selectFrom('message_address as ma')
    .innerJoin('message as m', 'm.id', 'ma.message_id')
    .select((eb) => eb.fn.count<string>('ma.message_id').distinct().as('n'))
    .where('ma.address', '=', address).where('ma.role', 'in', FILING_ROLES)
    .where((eb) => eb.not(isKeptPrivate()))
    .where((eb) => eb.or([isVisibleMessage(viewer, boxIds), wouldFileAtOnce(clients.map((c) => c.id), viewer.id)]));
  // Some target client lacks a record of the message and has not excluded it.
  if (targetIds.length) {
    count = count.where((eb) => eb.exists(eb.selectFrom('client as t').select(sql.lit(1).as('one'))
      .where('t.id', 'in', targetIds)
      .where(({ not, exists, selectFrom }) => not(exists(selectFrom('communication as c').select(sql.lit(1).as('one'))
        .whereRef('c.client_id', '=', 't.id').whereRef('c.message_id', '=', 'ma.message_id'))))
      .where(({ not, exists, selectFrom }) => not(exists(selectFrom('filing_exclusion as fx').select(sql.lit(1).as('one'))
        .whereRef('fx.client_id', '=', 't.id').whereRef('fx.message_id', '=', 'ma.message_id'))))));
  }
  const row = await count.executeTakeFirst();
  return { address, messages: Number(row?.n ?? 0), clients, ownAddress: false };
}
