// Client accounts: create, edit, delete, and the list with per-client contact counts and whether any
// linked address has notify / sync on. Deleting a client deletes its log and documents (cascade), never mail.
// A restricted client is its team's and the admins' alone: every read here goes through visibleClient.
import { sql, type ExpressionBuilder } from 'kysely';
import { jsonArrayFrom } from 'kysely/helpers/postgres';
import { kysely, type DB, type Em } from '../platform/db.ts';
import { recordAudit } from '../staff/audit.ts';
import { Client, ClientTeam } from './client.entity.ts';
import { InvalidInputError, NotFoundError } from '../platform/errors.ts';
import { assertClientVisible, visibleClient, type Viewer } from '../mail/visibility.ts';
import { cleanName, containsPattern, decodeNameCursor, encodeNameCursor, type Actor } from './contacts.ts';
import { cleanHeaderText } from '../platform/text.ts';

export type ClientInput = { name: string; taxId?: string | null; notes?: string; ownerId?: string | null; restricted?: boolean; teamUserIds?: string[] };
export type ClientOwner = { id: string; name: string } | null;
export type ClientListItem = { id: string; name: string; taxId: string | null; contacts: number; notify: boolean; sync: boolean; owner: ClientOwner; restricted: boolean };
export type ClientContactView = {
  id: string; name: string; role: string | null;
  emails: { id: string; address: string; sync: boolean; notify: boolean; autoSaveAttachments: boolean }[];
};
export type ClientView = ClientListItem & { team: { id: string; name: string }[]; notes: string; createdAt: string; updatedAt: string; contactList: ClientContactView[] };

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

/** A client the viewer may see (NotFoundError otherwise: a restricted client is never revealed). */
export async function getVisibleClient(em: Em, viewer: Viewer, id: string): Promise<Client> {
  await assertClientVisible(em, viewer, id);
  return getClient(em, id);
}

/** Creates the client; an owner is set afterwards with updateClient (it needs a lookup, this stays synchronous). */
export function createClient(em: Em, actor: Actor, input: Omit<ClientInput, 'ownerId' | 'restricted' | 'teamUserIds'>): Client {
  const client = em.create(Client, {
    name: cleanName(input.name, 'name'), taxId: cleanTaxId(input.taxId), notes: input.notes ?? '', createdBy: actor?.id ?? null,
  });
  recordAudit(em, { actorId: actor?.id ?? null, action: 'client.create', entityType: 'client', entityId: client.id, clientId: client.id, details: { name: client.name, taxId: client.taxId } });
  return client;
}

const ownerIdOf = (c: Client): string | null => (c.owner as unknown as { id: string } | null)?.id ?? null;

/**
 * Restricts a client to a team or opens it to the firm again. The caller must see the client (admins
 * and, once restricted, its team). A staff member who restricts a client stays on its team (they could
 * not otherwise undo it): their id is added to `teamUserIds`. Team members must be active users.
 */
export async function setClientAccess(em: Em, actor: Viewer | null, client: Client, input: Pick<ClientInput, 'restricted' | 'teamUserIds'>, isNew = false): Promise<Record<string, unknown>> {
  const changed: Record<string, unknown> = {};
  if (input.restricted !== undefined && input.restricted !== client.restricted) client.restricted = changed.restricted = input.restricted;
  const current = isNew ? [] : (await kysely(em).selectFrom('client_team').select('user_id').where('client_id', '=', client.id).execute()).map((r) => r.user_id);
  let wanted = input.teamUserIds !== undefined ? [...new Set(input.teamUserIds)] : current;
  if (client.restricted && actor && actor.role !== 'admin' && !wanted.includes(actor.id)) wanted = [...wanted, actor.id];
  const added = wanted.filter((u) => !current.includes(u));
  const removed = current.filter((u) => !wanted.includes(u));
  if (added.length) {
    const found = await kysely(em).selectFrom('app_user').select('id').where('id', 'in', added).where('active', '=', true).execute();
    if (found.length !== added.length) throw new InvalidInputError('invalid_input', 'teamUserIds must name active users', 'teamUserIds');
    for (const userId of added) em.create(ClientTeam, { client: client.id, user: userId });
  }
  if (removed.length) {
    await em.flush();
    await kysely(em).deleteFrom('client_team').where('client_id', '=', client.id).where('user_id', 'in', removed).execute();
  }
  if (added.length || removed.length) changed.team = wanted;
  if (Object.keys(changed).length && !isNew) recordAudit(em, { actorId: actor?.id ?? null, action: 'client.access', entityType: 'client', entityId: client.id, clientId: client.id, details: { changed } });
  return changed;
}

export async function updateClient(em: Em, actor: Viewer | null, id: string, patch: Partial<ClientInput>): Promise<Client> {
  const client = actor ? await getVisibleClient(em, actor, id) : await getClient(em, id);
  if (patch.restricted !== undefined || patch.teamUserIds !== undefined) await setClientAccess(em, actor, client, patch);
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
export async function deleteClient(em: Em, actor: Viewer, id: string): Promise<void> {
  const client = await getVisibleClient(em, actor, id);
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
    'c.id', 'c.name', 'c.tax_id', 'ow.id as owner_id', 'ow.name as owner_name', 'c.restricted',
    eb.selectFrom('client_contact as cc').select((sub) => sub.fn.countAll<string>().as('n')).whereRef('cc.client_id', '=', 'c.id').as('contacts'),
    anyAddress(eb, 'notify').as('notify'),
    anyAddress(eb, 'sync').as('sync'),
  ]);
}
type ListRow = Awaited<ReturnType<ReturnType<typeof selectClients>['executeTakeFirstOrThrow']>>;
const toItem = (r: ListRow): ClientListItem => ({ id: r.id, name: r.name, taxId: r.tax_id, contacts: Number(r.contacts ?? 0), notify: r.notify === true, sync: r.sync === true, restricted: r.restricted,
  owner: r.owner_id && r.owner_name !== null ? { id: r.owner_id, name: r.owner_name } : null,
});

/**
 * Clients ordered by name (then id), keyset-paginated. `q` matches name, tax id, or the name or an
 * address of a linked contact (staff search for "who is juan@...").
 */
export async function listClients(em: Em, viewer: Viewer, opts: { q?: string; ownerId?: string; limit: number; cursor?: string }): Promise<{ items: ClientListItem[]; nextCursor: string | null }> {
  let query = selectClients(em).where(visibleClient(viewer, 'c.id'));
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
export async function getClientView(em: Em, viewer: Viewer, id: string): Promise<ClientView> {
  const row = await selectClients(em).select(['c.notes', 'c.created_at', 'c.updated_at']).where('c.id', '=', id).where(visibleClient(viewer, 'c.id')).executeTakeFirst();
  if (!row) throw new NotFoundError('Client');
  const team = await kysely(em).selectFrom('client_team as t').innerJoin('app_user as u', 'u.id', 't.user_id')
    .select(['u.id', 'u.name']).where('t.client_id', '=', id).orderBy('u.name').orderBy('u.id').execute();
  const contactList = await kysely(em).selectFrom('client_contact as cc').innerJoin('contact as k', 'k.id', 'cc.contact_id')
    .select((eb) => ['k.id', 'k.name', 'cc.role', jsonArrayFrom(eb.selectFrom('contact_email as e')
      .select(['e.id', 'e.address', 'e.sync', 'e.notify', 'e.auto_save_attachments as autoSaveAttachments'])
      .whereRef('e.contact_id', '=', 'k.id').orderBy('e.address')).as('emails')])
    .where('cc.client_id', '=', id)
    .orderBy('k.name').orderBy('k.id')
    .execute();
  return {
    ...toItem(row), team, notes: row.notes, createdAt: new Date(row.created_at).toISOString(), updatedAt: new Date(row.updated_at).toISOString(),
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
  // A restricted client the actor may not see reads as not found.
  const rows = valid.length ? await kysely(em).selectFrom('client as c').select(['c.id', 'c.owner_id']).where('c.id', 'in', valid)
    .$if(actor !== null, (qb) => qb.where(visibleClient(actor!, 'c.id'))).forUpdate().execute() : [];
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
