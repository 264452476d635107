// Client accounts: create, edit, delete, and the list with per-client contact counts and whether any
// linked address has notify / sync on. Deleting a client deletes its log and documents (cascade), never mail.
import { sql, type ExpressionBuilder } from 'kysely';
import { jsonArrayFrom } from 'kysely/helpers/postgres';
import { kysely, type DB, type Em } from '../platform/db.ts';
import { recordAudit } from '../staff/audit.ts';
import { Client } from './client.entity.ts';
import { InvalidInputError, NotFoundError } from '../platform/errors.ts';
import { cleanName, containsPattern, decodeNameCursor, encodeNameCursor, type Actor } from './contacts.ts';
import { cleanHeaderText } from '../platform/text.ts';

export type ClientInput = { name: string; taxId?: string | null; notes?: string; ownerId?: string | null };
export type ClientOwner = { id: string; name: string } | null;
export type ClientListItem = { id: string; name: string; taxId: string | null; contacts: number; notify: boolean; sync: boolean; owner: ClientOwner };
export type ClientContactView = {
  id: string; name: string; role: string | null;
  emails: { id: string; address: string; sync: boolean; notify: boolean; autoSaveAttachments: boolean }[];
};
export type ClientView = ClientListItem & { notes: string; createdAt: string; updatedAt: string; contactList: ClientContactView[] };

const cleanTaxId = (raw: string | null | undefined): string | null => {
  if (raw === undefined || raw === null) return null;
  const t = cleanHeaderText(raw).slice(0, 64);
  return t || null;
};

export async function getClient(em: Em, id: string): Promise<Client> {
  const c = await em.findOne(Client, { id });
  if (!c) throw new NotFoundError('Client');
  return c;
}

/** An owner must be an active staff member: 400 naming `ownerId` otherwise (null clears the owner). */
export async function checkOwnerId(em: Em, ownerId: string | null, field = 'ownerId'): Promise<string | null> {
  if (ownerId === null) return null;
  const row = await kysely(em).selectFrom('app_user').select('id').where('id', '=', ownerId).where('active', '=', true).executeTakeFirst();
  if (!row) throw new InvalidInputError('invalid_owner', 'The owner must be an active staff member', field);
  return row.id;
}

/** Creates the client; an owner is set afterwards with updateClient (it needs a lookup, this stays synchronous). */
export function createClient(em: Em, actor: Actor, input: Omit<ClientInput, 'ownerId'>): Client {
  const client = em.create(Client, {
    name: cleanName(input.name, 'name'), taxId: cleanTaxId(input.taxId), notes: input.notes ?? '', createdBy: actor?.id ?? null,
  });
  recordAudit(em, { actorId: actor?.id ?? null, action: 'client.create', entityType: 'client', entityId: client.id, clientId: client.id, details: { name: client.name, taxId: client.taxId } });
  return client;
}

const ownerIdOf = (c: Client): string | null => (c.owner as unknown as { id: string } | null)?.id ?? null;

export async function updateClient(em: Em, actor: Actor, id: string, patch: Partial<ClientInput>): Promise<Client> {
  const client = await getClient(em, id);
  const changed: Record<string, unknown> = {};
  if (patch.name !== undefined && cleanName(patch.name, 'name') !== client.name) client.name = changed.name = cleanName(patch.name, 'name');
  if (patch.taxId !== undefined && cleanTaxId(patch.taxId) !== client.taxId) client.taxId = changed.taxId = cleanTaxId(patch.taxId);
  if (patch.notes !== undefined && patch.notes !== client.notes) {
    client.notes = patch.notes;
    changed.notes = true;
  }
  if (patch.ownerId !== undefined) {
    const ownerId = await checkOwnerId(em, patch.ownerId);
    if (ownerId !== ownerIdOf(client)) {
      em.assign(client, { owner: ownerId });
      changed.ownerId = ownerId;
    }
  }
  if (Object.keys(changed).length) recordAudit(em, { actorId: actor?.id ?? null, action: 'client.update', entityType: 'client', entityId: id, clientId: id, details: { changed } });
  return client;
}

/** Removes the client with its log records and documents; its contacts stay (they may serve other clients). */
export async function deleteClient(em: Em, actor: Actor, id: string): Promise<void> {
  const client = await getClient(em, id);
  recordAudit(em, { actorId: actor?.id ?? null, action: 'client.delete', entityType: 'client', entityId: id, clientId: id, details: { name: client.name, taxId: client.taxId } });
  em.remove(client);
}

/** A client row with its contact count and whether any linked address has notify / sync on. */
function selectClients(em: Em) {
  const anyAddress = (eb: ExpressionBuilder<DB & { c: DB['client'] }, 'c'>, column: 'notify' | 'sync') =>
    eb.fn.coalesce(
      eb.selectFrom('client_contact as cc').innerJoin('contact_email as ce', 'ce.contact_id', 'cc.contact_id')
        .select((sub) => sub.fn<boolean>('bool_or', [`ce.${column}`]).as('v')).whereRef('cc.client_id', '=', 'c.id'),
      sql.lit(false),
    );
  return kysely(em).selectFrom('client as c').leftJoin('app_user as ow', 'ow.id', 'c.owner_id').select((eb) => [
    'c.id', 'c.name', 'c.tax_id', 'ow.id as owner_id', 'ow.name as owner_name',
    eb.selectFrom('client_contact as cc').select((sub) => sub.fn.countAll<string>().as('n')).whereRef('cc.client_id', '=', 'c.id').as('contacts'),
    anyAddress(eb, 'notify').as('notify'),
    anyAddress(eb, 'sync').as('sync'),
  ]);
}
type ListRow = Awaited<ReturnType<ReturnType<typeof selectClients>['executeTakeFirstOrThrow']>>;
const toItem = (r: ListRow): ClientListItem => ({ id: r.id, name: r.name, taxId: r.tax_id, contacts: Number(r.contacts ?? 0), notify: r.notify === true, sync: r.sync === true,
  owner: r.owner_id && r.owner_name !== null ? { id: r.owner_id, name: r.owner_name } : null,
});

/**
 * Clients ordered by name (then id), keyset-paginated. `q` matches name, tax id, or the name or an
 * address of a linked contact (staff search for "who is juan@...").
 */
export async function listClients(em: Em, opts: { q?: string; ownerId?: string; limit: number; cursor?: string }): Promise<{ items: ClientListItem[]; nextCursor: string | null }> {
  let query = selectClients(em);
  if (opts.ownerId) query = query.where('c.owner_id', '=', opts.ownerId);
  const q = opts.q?.trim();
  if (q) {
    const like = containsPattern(q);
    query = query.where((eb) => eb.or([
      eb('c.name', 'ilike', like),
      eb('c.tax_id', 'ilike', like),
      eb.exists(eb.selectFrom('client_contact as cc').innerJoin('contact as k', 'k.id', 'cc.contact_id')
        .leftJoin('contact_email as ce', 'ce.contact_id', 'k.id')
        .select(sql.lit(1).as('one'))
        .whereRef('cc.client_id', '=', 'c.id')
        .where((w) => w.or([w('k.name', 'ilike', like), w('ce.address', 'ilike', like)]))),
    ]));
  }
  if (opts.cursor) {
    const [name, id] = decodeNameCursor(opts.cursor);
    query = query.where((eb) => eb(eb.refTuple('c.name', 'c.id'), '>', eb.tuple(name, id)));
  }
  const rows = await query.orderBy('c.name').orderBy('c.id').limit(opts.limit + 1).execute();
  const more = rows.length > opts.limit;
  const items = rows.slice(0, opts.limit).map(toItem);
  const last = items[items.length - 1];
  return { items, nextCursor: more && last ? encodeNameCursor(last.name, last.id) : null };
}

/** The list item plus notes, times and the linked contacts with their addresses. */
export async function getClientView(em: Em, id: string): Promise<ClientView> {
  const row = await selectClients(em).select(['c.notes', 'c.created_at', 'c.updated_at']).where('c.id', '=', id).executeTakeFirst();
  if (!row) throw new NotFoundError('Client');
  const contactList = await kysely(em).selectFrom('client_contact as cc').innerJoin('contact as k', 'k.id', 'cc.contact_id')
    .select((eb) => ['k.id', 'k.name', 'cc.role', jsonArrayFrom(eb.selectFrom('contact_email as e')
      .select(['e.id', 'e.address', 'e.sync', 'e.notify', 'e.auto_save_attachments as autoSaveAttachments'])
      .whereRef('e.contact_id', '=', 'k.id').orderBy('e.address')).as('emails')])
    .where('cc.client_id', '=', id)
    .orderBy('k.name').orderBy('k.id')
    .execute();
  return {
    ...toItem(row), notes: row.notes, createdAt: new Date(row.created_at).toISOString(), updatedAt: new Date(row.updated_at).toISOString(),
    contactList,
  };
}

export type BulkOwnerResult = { changed: number; unchanged: number; errors: { clientId: string; code: string; message: string }[] };

/** Sets (or clears) the owner of many clients at once, in the caller's transaction; unknown ids are reported, not fatal. */
export async function setClientsOwner(em: Em, actor: Actor, input: { clientIds: string[]; ownerId: string | null }): Promise<BulkOwnerResult> {
  const ownerId = await checkOwnerId(em, input.ownerId);
  const result: BulkOwnerResult = { changed: 0, unchanged: 0, errors: [] };
  const ids = [...new Set(input.clientIds)];
  const valid = ids.filter((id) => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id));
  const rows = valid.length ? await kysely(em).selectFrom('client').select(['id', 'owner_id']).where('id', 'in', valid).forUpdate().execute() : [];
  const byId = new Map(rows.map((r) => [r.id, r.owner_id]));
  const toChange: string[] = [];
  for (const id of ids) {
    if (!byId.has(id)) {
      result.errors.push({ clientId: id, code: 'not_found', message: 'Client not found' });
      continue;
    }
    if (byId.get(id) === ownerId) result.unchanged++;
    else toChange.push(id);
  }
  if (toChange.length) {
    await kysely(em).updateTable('client').set((eb) => ({ owner_id: ownerId, updated_at: eb.fn<Date>('now') })).where('id', 'in', toChange).execute();
    for (const id of toChange) recordAudit(em, { actorId: actor?.id ?? null, action: 'client.update', entityType: 'client', entityId: id, clientId: id, details: { changed: { ownerId } } });
  }
  result.changed = toChange.length;
  return result;
}
