// Client accounts: create, edit, delete, and the list with per-client contact counts and whether any
// linked address has notify / sync on. Deleting a client deletes its log and documents (cascade), never mail.
import type { Em } from '../platform/db.ts';
import { recordAudit } from '../staff/audit.ts';
import { Client } from './client.entity.ts';
import { NotFoundError } from '../platform/errors.ts';
import { cleanName, decodeNameCursor, encodeNameCursor, type Actor } from './contacts.ts';
import { cleanHeaderText } from '../platform/text.ts';

export type ClientInput = { name: string; taxId?: string | null; notes?: string };
export type ClientListItem = { id: string; name: string; taxId: string | null; contacts: number; notify: boolean; sync: boolean };
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
  const c = await em.findOne(Client, { id } as never);
  if (!c) throw new NotFoundError('Client');
  return c;
}

export function createClient(em: Em, actor: Actor, input: ClientInput): Client {
  const client = em.create(Client, {
    name: cleanName(input.name, 'name'), taxId: cleanTaxId(input.taxId), notes: input.notes ?? '', createdBy: actor?.id ?? null,
  } as never);
  recordAudit(em, { actorId: actor?.id ?? null, action: 'client.create', entityType: 'client', entityId: client.id, clientId: client.id, details: { name: client.name, taxId: client.taxId } });
  return client;
}

export async function updateClient(em: Em, actor: Actor, id: string, patch: Partial<ClientInput>): Promise<Client> {
  const client = await getClient(em, id);
  const changed: Record<string, unknown> = {};
  if (patch.name !== undefined && cleanName(patch.name, 'name') !== client.name) client.name = changed.name = cleanName(patch.name, 'name');
  if (patch.taxId !== undefined && cleanTaxId(patch.taxId) !== client.taxId) client.taxId = changed.taxId = cleanTaxId(patch.taxId);
  if (patch.notes !== undefined && patch.notes !== client.notes) {
    client.notes = patch.notes;
    changed.notes = true;
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

const LIST_COLUMNS = `c.id, c.name, c.tax_id,
  (select count(*)::int from client_contact cc where cc.client_id = c.id) as contacts,
  coalesce((select bool_or(ce.notify) from client_contact cc join contact_email ce on ce.contact_id = cc.contact_id where cc.client_id = c.id), false) as notify,
  coalesce((select bool_or(ce.sync) from client_contact cc join contact_email ce on ce.contact_id = cc.contact_id where cc.client_id = c.id), false) as sync`;
type ListRow = { id: string; name: string; tax_id: string | null; contacts: number | string; notify: boolean; sync: boolean };
const toItem = (r: ListRow): ClientListItem => ({ id: r.id, name: r.name, taxId: r.tax_id, contacts: Number(r.contacts), notify: r.notify, sync: r.sync });

/**
 * Clients ordered by name (then id), keyset-paginated. `q` matches name, tax id, or the name or an
 * address of a linked contact (staff search for "who is juan@...").
 */
export async function listClients(em: Em, opts: { q?: string; limit: number; cursor?: string }): Promise<{ items: ClientListItem[]; nextCursor: string | null }> {
  const params: unknown[] = [];
  let where = 'true';
  const q = opts.q?.trim();
  if (q) {
    const like = `%${q.replace(/[\\%_]/g, '\\$&')}%`;
    where += ` and (c.name ilike ? or c.tax_id ilike ? or exists (
      select 1 from client_contact cc join contact k on k.id = cc.contact_id left join contact_email ce on ce.contact_id = k.id
      where cc.client_id = c.id and (k.name ilike ? or ce.address ilike ?)))`;
    params.push(like, like, like, like);
  }
  if (opts.cursor) {
    const [name, id] = decodeNameCursor(opts.cursor);
    where += ' and (c.name, c.id) > (?, ?::uuid)';
    params.push(name, id);
  }
  const rows = await em.execute<ListRow[]>(`select ${LIST_COLUMNS} from client c where ${where} order by c.name, c.id limit ?`, [...params, opts.limit + 1]);
  const more = rows.length > opts.limit;
  const items = rows.slice(0, opts.limit).map(toItem);
  const last = items[items.length - 1];
  return { items, nextCursor: more && last ? encodeNameCursor(last.name, last.id) : null };
}

/** The list item plus notes, times and the linked contacts with their addresses. */
export async function getClientView(em: Em, id: string): Promise<ClientView> {
  const [row] = await em.execute<(ListRow & { notes: string; created_at: Date; updated_at: Date })[]>(
    `select ${LIST_COLUMNS}, c.notes, c.created_at, c.updated_at from client c where c.id = ?`, [id],
  );
  if (!row) throw new NotFoundError('Client');
  const contactList = await em.execute<ClientContactView[]>(
    `select k.id, k.name, cc.role,
       coalesce((select json_agg(json_build_object('id', e.id, 'address', e.address, 'sync', e.sync, 'notify', e.notify, 'autoSaveAttachments', e.auto_save_attachments) order by e.address)
                 from contact_email e where e.contact_id = k.id), '[]'::json) as emails
     from client_contact cc join contact k on k.id = cc.contact_id where cc.client_id = ? order by k.name, k.id`,
    [id],
  );
  return {
    ...toItem(row), notes: row.notes, createdAt: new Date(row.created_at).toISOString(), updatedAt: new Date(row.updated_at).toISOString(),
    contactList: contactList.map((c) => ({ ...c, emails: typeof c.emails === 'string' ? JSON.parse(c.emails) : c.emails })),
  };
}
