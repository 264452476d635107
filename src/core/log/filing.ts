// Files stored messages to every client whose contact address (sync on) appears in From/To/Cc/Reply-To:
// in the sync pipeline (fileMessage, inside its transaction) and retroactively for one address
// (fileAddress). Set-based SQL so one address over a million messages stays fast. No HTTP, no IMAP.
import type { Em } from '../platform/db.ts';
import type { BlobStore } from '../blobs/blob-store.ts';
import type { Message } from '../mail/message.entity.ts';
import { normalizeAddress } from '../mail/addresses.ts';
import { autoSaveAttachments } from '../documents/auto-save.ts';

export type FilingDeps = { blobs: BlobStore; maxAttachmentBytes: number };
export type FilingResult = {
  /** Every client the message is filed to after this call (automatically or by hand). */
  clientIds: string[];
  /** The clients this call filed it to (empty when it was already filed everywhere it belongs). */
  filedNow: string[];
  /** Attachments saved as client documents by this call (too-large markers not counted). */
  documentsSaved: number;
};

/** The address roles that make a message "from or to" a contact. Bcc is the firm's own copy list, and
 *  Sender is the mailing system, not the author: neither says the client took part. */
export const FILING_ROLES = ['from', 'to', 'cc', 'reply_to'] as const;
const ROLES_SQL = `('from', 'to', 'cc', 'reply_to')`;
/** Lists go to SQL as one JSON text parameter (`any(select jsonb_array_elements_text(?::jsonb))`):
 *  MikroORM inlines a JS array parameter as a comma list, which is no PostgreSQL array and breaks when empty. */
const json = (xs: string[]) => JSON.stringify(xs);

/**
 * The firm's own mailbox addresses, normalised. They are never client addresses: a staff member who is
 * in Cc on everything would otherwise file all mail to whichever client lists that address.
 */
export async function listOwnAddresses(em: Em): Promise<string[]> {
  const rows = await em.execute<{ email: string }[]>('select distinct email from mail_account');
  return [...new Set(rows.map((r) => normalizeAddress(r.email)).filter((a): a is string => a !== null))];
}

export async function isOwnAddress(em: Em, address: string): Promise<boolean> {
  return (await listOwnAddresses(em)).includes(address);
}

type Scope = { messageIds: string[] } | { address: string; clientIds?: string[] };

/**
 * Inserts the missing email records for the scope and returns the (client, message) pairs it created.
 * One statement: matching, the initiatedBy rule and the insert. ON CONFLICT DO NOTHING on the
 * (client_id, message_id) unique key makes it idempotent and safe against a concurrent filer.
 * initiatedBy is 'client' when the From address belongs to any contact of that client (whatever its
 * sync switch: sync decides whether to file, not who wrote).
 */
async function insertFilings(em: Em, scope: Scope, own: string[]): Promise<{ client_id: string; message_id: string }[]> {
  const params: unknown[] = [json(own)];
  let filter: string;
  if ('messageIds' in scope) {
    if (!scope.messageIds.length) return [];
    filter = 'ma.message_id = any(select jsonb_array_elements_text(?::jsonb)::uuid)';
    params.push(json(scope.messageIds));
  } else {
    filter = 'ma.address = ?';
    params.push(scope.address);
    if (scope.clientIds) {
      filter += ' and cc.client_id = any(select jsonb_array_elements_text(?::jsonb)::uuid)';
      params.push(json(scope.clientIds));
    }
  }
  return em.execute<{ client_id: string; message_id: string }[]>(
    `with matches as (
       select distinct ma.message_id, cc.client_id
       from message_address ma
       join contact_email ce on ce.address = ma.address and ce.sync
       join client_contact cc on cc.contact_id = ce.contact_id
       where ma.role in ${ROLES_SQL} and not (ma.address = any(select jsonb_array_elements_text(?::jsonb))) and ${filter}
     )
     insert into communication (id, client_id, kind, subject, notes, occurred_at, initiated_by, message_id, filed_by, created_at, updated_at)
     select gen_random_uuid(), x.client_id, 'email', m.subject, '', m.sent_at,
       case when exists (
         select 1 from message_address f
         join contact_email fe on fe.address = f.address
         join client_contact fc on fc.contact_id = fe.contact_id
         where f.message_id = m.id and f.role = 'from' and fc.client_id = x.client_id
       ) then 'client' else 'firm' end,
       m.id, 'auto', now(), now()
     from matches x join message m on m.id = x.message_id
     -- Staff unfiled it from this client: automatic filing never brings it back.
     where not exists (select 1 from filing_exclusion fx where fx.client_id = x.client_id and fx.message_id = x.message_id)
     order by m.sent_at
     on conflict (client_id, message_id) do nothing
     returning client_id, message_id`,
    params,
  );
}

/**
 * Mail Dossier sent for a client (a reply, a file request, a reminder) is logged for that client when its
 * Sent copy comes back through sync, by the outbox row's Message-ID — even when the recipient's address
 * has sync off. Initiated by the firm; the same unique key and unfiling rule as address filing apply.
 */
async function insertOutboxFilings(em: Em, messageIds: string[]): Promise<{ client_id: string; message_id: string }[]> {
  return em.execute<{ client_id: string; message_id: string }[]>(
    `insert into communication (id, client_id, kind, subject, notes, occurred_at, initiated_by, message_id, filed_by, created_at, updated_at)
     select gen_random_uuid(), o.client_id, 'email', m.subject, '', m.sent_at, 'firm', m.id, 'auto', now(), now()
     from message m
     join outbox o on o.message_id_header = m.message_id_header and o.client_id is not null
     join client c on c.id = o.client_id
     where m.id = any(select jsonb_array_elements_text(?::jsonb)::uuid)
       and not exists (select 1 from filing_exclusion fx where fx.client_id = o.client_id and fx.message_id = m.id)
     on conflict (client_id, message_id) do nothing
     returning client_id, message_id`,
    [json(messageIds)],
  );
}

/** Of the newly filed pairs, those where one of the client's addresses in the message asks for auto-save. */
async function pairsToAutoSave(em: Em, pairs: { client_id: string; message_id: string }[], own: string[]) {
  if (!pairs.length) return [];
  const rows = await em.execute<{ client_id: string; message_id: string }[]>(
    `select distinct cc.client_id, ma.message_id
     from message_address ma
     join contact_email ce on ce.address = ma.address and ce.sync and ce.auto_save_attachments
     join client_contact cc on cc.contact_id = ce.contact_id
     where ma.role in ${ROLES_SQL} and not (ma.address = any(select jsonb_array_elements_text(?::jsonb)))
       and ma.message_id = any(select jsonb_array_elements_text(?::jsonb)::uuid) and cc.client_id = any(select jsonb_array_elements_text(?::jsonb)::uuid)`,
    [json(own), json([...new Set(pairs.map((p) => p.message_id))]), json([...new Set(pairs.map((p) => p.client_id))])],
  );
  const created = new Set(pairs.map((p) => `${p.client_id}/${p.message_id}`));
  return rows.filter((r) => created.has(`${r.client_id}/${r.message_id}`));
}

async function saveFor(em: Em, pairs: { client_id: string; message_id: string }[], own: string[], deps: FilingDeps): Promise<number> {
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
  for (const p of await pairsToAutoSave(em, created, own)) {
    out.get(p.message_id)!.documentsSaved += (await autoSaveAttachments(em, { messageId: p.message_id, clientId: p.client_id }, deps)).saved;
  }
  const all = await em.execute<{ client_id: string; message_id: string }[]>(
    'select client_id, message_id from communication where message_id = any(select jsonb_array_elements_text(?::jsonb)::uuid)', [json(ids)]);
  for (const r of all) out.get(r.message_id)?.clientIds.push(r.client_id);
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
export async function fileAddress(em: Em, rawAddress: string, deps: FilingDeps, opts: { clientIds?: string[] } = {}): Promise<AddressFilingResult> {
  const address = normalizeAddress(rawAddress);
  const empty = { messages: 0, records: 0, clientIds: [], documentsSaved: 0 };
  if (!address) return empty;
  await em.flush();
  const own = await listOwnAddresses(em);
  if (own.includes(address)) return empty;
  const created = await insertFilings(em, { address, clientIds: opts.clientIds }, own);
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
 */
export async function previewFiling(em: Em, rawAddress: string, opts: { clientId?: string } = {}): Promise<FilingPreview> {
  const address = normalizeAddress(rawAddress);
  if (!address) return { address: rawAddress, messages: 0, clients: [], ownAddress: false };
  const own = await listOwnAddresses(em);
  const clients = await em.execute<{ id: string; name: string }[]>(
    `select c.id, c.name from client c
     where c.id in (select cc.client_id from contact_email ce join client_contact cc on cc.contact_id = ce.contact_id where ce.address = ?)
        or c.id = ?::uuid
     order by c.name, c.id`,
    [address, opts.clientId ?? null],
  );
  if (own.includes(address)) return { address, messages: 0, clients, ownAddress: true };
  const targetIds = clients.map((c) => c.id);
  const rows = await em.execute<{ n: number | string }[]>(
    targetIds.length
      ? `select count(distinct ma.message_id)::int as n from message_address ma
         where ma.address = ? and ma.role in ${ROLES_SQL}
           and exists (select 1 from jsonb_array_elements_text(?::jsonb) t(client_id)
                       where not exists (select 1 from communication c where c.client_id = t.client_id::uuid and c.message_id = ma.message_id)
                         and not exists (select 1 from filing_exclusion fx where fx.client_id = t.client_id::uuid and fx.message_id = ma.message_id))`
      : `select count(distinct ma.message_id)::int as n from message_address ma where ma.address = ? and ma.role in ${ROLES_SQL}`,
    targetIds.length ? [address, json(targetIds)] : [address],
  );
  return { address, messages: Number(rows[0]?.n ?? 0), clients, ownAddress: false };
}
