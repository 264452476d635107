// Contacts, their addresses (each with its own sync / notify / auto-save switches) and their links to
// clients. Adding, re-enabling or linking an address files its existing mail retroactively, in the
// caller's transaction, and reports how many messages that filed. No HTTP here.
import { sql } from 'kysely';
import { jsonArrayFrom } from 'kysely/helpers/postgres';
import { kysely, type Em } from '../platform/db.ts';
import { recordAudit } from '../staff/audit.ts';
import { normalizeAddress } from '../mail/addresses.ts';
import { Client, ClientContact, Contact, ContactEmail, NOTIFY_CATEGORIES, type ContactFiling, type NotifyCategory } from './client.entity.ts';
import { ConflictError, InvalidInputError, NotFoundError, RuleError } from '../platform/errors.ts';
import { fileAddress, fileMessages, listOwnAddresses, type FilingDeps } from '../log/filing.ts';
import { listAwaitingOfContact } from '../log/contact-filing.ts';
import type { Language } from '../staff/user.entity.ts';
import { cleanHeaderText } from '../platform/text.ts';
import { assertClientVisible, assertMessageVisible, visibleClient, type Viewer } from '../mail/visibility.ts';

/** Who acts; with a role, an admin (restricted clients are checked against it). */
export type Actor = { id: string; role?: string } | null;

export type ContactEmailSettings = {
  notify?: boolean;
  notifyCategories?: NotifyCategory[];
  sync?: boolean;
  autoSaveAttachments?: boolean;
  language?: Language;
};
export type ContactEmailInput = ContactEmailSettings & { address: string };
export type ContactInput = { name: string; notes?: string; emails?: ContactEmailInput[]; clientIds?: string[] };

export type ContactEmailView = {
  id: string; contactId: string; address: string; notify: boolean; notifyCategories: NotifyCategory[]; sync: boolean;
  autoSaveAttachments: boolean; language: Language; createdAt: string; updatedAt: string;
};
export type ContactView = {
  id: string; name: string; notes: string; emails: ContactEmailView[]; clients: { id: string; name: string; role: string | null }[];
  filing: ContactFiling; primaryClientId: string | null;
  createdAt: string; updatedAt: string;
};

/** Defaults for a new address (API.md): filed and notified, attachments not saved automatically. */
export const EMAIL_DEFAULTS = { sync: true, notify: true, autoSaveAttachments: false, language: 'en' as Language };

export const viewContactEmail = (e: ContactEmail): ContactEmailView => ({
  id: e.id,
  contactId: (e.contact as unknown as { id: string }).id,
  address: e.address,
  notify: e.notify,
  notifyCategories: e.notifyCategories as NotifyCategory[],
  sync: e.sync,
  autoSaveAttachments: e.autoSaveAttachments,
  language: e.language,
  createdAt: e.createdAt.toISOString(),
  updatedAt: e.updatedAt.toISOString(),
});

export function cleanName(raw: string, field: string): string {
  const name = cleanHeaderText(raw).slice(0, 200);
  if (!name) throw new InvalidInputError('required', `${field} must not be empty`, field);
  return name;
}

function checkCategories(cats: string[] | undefined, field: string): NotifyCategory[] | undefined {
  if (cats === undefined) return undefined;
  for (const [i, c] of cats.entries()) {
    if (!(NOTIFY_CATEGORIES as readonly string[]).includes(c)) throw new InvalidInputError('invalid_category', `Unknown notification category "${c}"`, `${field}.${i}`);
  }
  return [...new Set(cats)] as NotifyCategory[];
}

/**
 * The normalised address, refusing what can never be a client address: garbage, an address already
 * on a contact (one address belongs to one contact), and the firm's own mailboxes.
 */
export async function checkNewAddress(em: Em, raw: string, field: string, own?: string[]): Promise<string> {
  const address = normalizeAddress(raw);
  if (!address) throw new InvalidInputError('invalid_address', `"${raw}" is not a usable email address`, field);
  if ((own ?? (await listOwnAddresses(em))).includes(address)) {
    throw new RuleError('own_mailbox_address', `${address} is one of the firm's own mailboxes and cannot be a client address`, field);
  }
  const taken = await em.findOne(ContactEmail, { address }, { populate: ['contact'] });
  if (taken) throw new ConflictError('address_taken', `${address} already belongs to contact "${(taken.contact as unknown as Contact).name}"`, field);
  return address;
}

export async function getContact(em: Em, id: string): Promise<Contact> {
  const c = await em.findOne(Contact, { id });
  if (!c) throw new NotFoundError('Contact');
  return c;
}

export async function getContactEmail(em: Em, id: string): Promise<ContactEmail> {
  const e = await em.findOne(ContactEmail, { id }, { populate: ['contact'] });
  if (!e) throw new NotFoundError('Contact email');
  return e;
}

/** The client, when the actor may see it (a restricted client is NotFound to others). */
async function getClientRow(em: Em, id: string, actor: Actor): Promise<Client> {
  if (actor) await assertClientVisible(em, actor, id);
  const c = await em.findOne(Client, { id });
  if (!c) throw new NotFoundError('Client');
  return c;
}

export async function clientIdsOfContact(em: Em, contactId: string): Promise<string[]> {
  const rows = await kysely(em).selectFrom('client_contact').select('client_id').where('contact_id', '=', contactId).execute();
  return rows.map((r) => r.client_id);
}

/** One audit event per linked client, so each client's trail shows changes to its people. */
async function auditContact(em: Em, actor: Actor, contactId: string, action: string, entityType: string, entityId: string, details: Record<string, unknown>, extraClientIds: string[] = []) {
  const clientIds = [...new Set([...(await clientIdsOfContact(em, contactId)), ...extraClientIds])];
  for (const clientId of clientIds.length ? clientIds : [null]) {
    recordAudit(em, { actorId: actor?.id ?? null, action, entityType, entityId, clientId, details: { contactId, ...details } });
  }
}

export async function getContactView(em: Em, viewer: Viewer, id: string): Promise<ContactView> {
  const contact = await getContact(em, id);
  const emails = await em.find(ContactEmail, { contact: id }, { orderBy: { createdAt: 'asc', address: 'asc' } });
  const clients = await kysely(em).selectFrom('client_contact as cc').innerJoin('client as c', 'c.id', 'cc.client_id')
    .select(['c.id', 'c.name', 'cc.role'])
    .where('cc.contact_id', '=', id).where(visibleClient(viewer, 'c.id'))
    .orderBy('c.name').orderBy('c.id')
    .execute();
  return {
    id: contact.id, name: contact.name, notes: contact.notes, emails: emails.map(viewContactEmail), clients,
    filing: contact.filing, primaryClientId: (contact.primaryClient as { id: string } | null | undefined)?.id ?? null,
    createdAt: contact.createdAt.toISOString(), updatedAt: contact.updatedAt.toISOString(),
  };
}

export type ContactListItem = { id: string; name: string; emails: string[]; clients: { id: string; name: string }[] };

/** Contacts by name, searchable by name or address (for "link an existing contact"). */
export async function listContacts(em: Em, viewer: Viewer, opts: { q?: string; limit: number; cursor?: string }): Promise<{ items: ContactListItem[]; nextCursor: string | null }> {
  let query = kysely(em).selectFrom('contact as k').select((eb) => [
    'k.id', 'k.name',
    eb.selectFrom('contact_email as e').select((sub) => sub.fn.agg<string[]>('array_agg', ['e.address']).orderBy('e.address').as('a'))
      .whereRef('e.contact_id', '=', 'k.id').as('emails'),
    jsonArrayFrom(eb.selectFrom('client_contact as cc').innerJoin('client as c', 'c.id', 'cc.client_id')
      .select(['c.id', 'c.name']).whereRef('cc.contact_id', '=', 'k.id').where(visibleClient(viewer, 'c.id')).orderBy('c.name')).as('clients'),
  ]);
  const q = opts.q?.trim();
  if (q) {
    const like = containsPattern(q);
    query = query.where((eb) => eb.or([
      eb('k.name', 'ilike', like),
      eb.exists(eb.selectFrom('contact_email as e').select(sql.lit(1).as('one')).whereRef('e.contact_id', '=', 'k.id').where('e.address', 'ilike', like)),
    ]));
  }
  if (opts.cursor) {
    const [name, id] = decodeNameCursor(opts.cursor);
    query = query.where((eb) => eb(eb.refTuple('k.name', 'k.id'), '>', eb.tuple(name, id)));
  }
  const rows = await query.orderBy('k.name').orderBy('k.id').limit(opts.limit + 1).execute();
  const more = rows.length > opts.limit;
  const items = rows.slice(0, opts.limit).map((r) => ({ id: r.id, name: r.name, emails: r.emails ?? [], clients: r.clients ?? [] }));
  const last = items[items.length - 1];
  return { items, nextCursor: more && last ? encodeNameCursor(last.name, last.id) : null };
}

/** `%q%` for ILIKE, with the pattern's own wildcards escaped. */
export const containsPattern = (q: string) => `%${q.replace(/[\\%_]/g, '\\$&')}%`;

/** Keyset cursor over (name, id): the order of the client and contact lists. */
export function encodeNameCursor(name: string, id: string): string {
  return Buffer.from(JSON.stringify([name, id])).toString('base64url');
}
export function decodeNameCursor(cursor: string): [string, string] {
  try {
    const v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(v) && v.length === 2 && typeof v[0] === 'string' && /^[0-9a-f-]{36}$/i.test(String(v[1]))) return [v[0], v[1]];
  } catch {
    // fall through
  }
  throw new InvalidInputError('invalid_cursor', 'The cursor is not one this server handed out', 'cursor');
}

function createEmailRow(em: Em, contact: Contact, address: string, s: ContactEmailSettings): ContactEmail {
  return em.create(ContactEmail, {
    contact,
    address,
    sync: s.sync ?? EMAIL_DEFAULTS.sync,
    notify: s.notify ?? EMAIL_DEFAULTS.notify,
    notifyCategories: s.notifyCategories ?? [...NOTIFY_CATEGORIES],
    autoSaveAttachments: s.autoSaveAttachments ?? EMAIL_DEFAULTS.autoSaveAttachments,
    language: s.language ?? EMAIL_DEFAULTS.language,
  });
}

/** Files the existing mail of these addresses; returns distinct messages newly filed. */
async function fileAddresses(em: Em, actor: Actor, addresses: string[], deps: FilingDeps, clientIds?: string[]): Promise<number> {
  let n = 0;
  for (const a of addresses) n += (await fileAddress(em, a, deps, { clientIds, actorId: actor?.id ?? null })).messages;
  return n;
}

/** Creates a contact with its addresses and client links, and files their existing mail. */
export async function createContact(em: Em, actor: Actor, input: ContactInput, deps: FilingDeps): Promise<{ contact: Contact; filed: number }> {
  const name = cleanName(input.name, 'name');
  const own = await listOwnAddresses(em);
  const emails = input.emails ?? [];
  const addresses: string[] = [];
  for (const [i, e] of emails.entries()) {
    const address = await checkNewAddress(em, e.address, `emails.${i}.address`, own);
    if (addresses.includes(address)) throw new InvalidInputError('duplicate_address', `${address} is listed twice`, `emails.${i}.address`);
    checkCategories(e.notifyCategories, `emails.${i}.notifyCategories`);
    addresses.push(address);
  }
  const clientIds = [...new Set(input.clientIds ?? [])];
  const clients = [];
  for (const id of clientIds) clients.push(await getClientRow(em, id, actor));
  const contact = em.create(Contact, { name, notes: input.notes ?? '' });
  emails.forEach((e, i) => createEmailRow(em, contact, addresses[i]!, e));
  for (const client of clients) em.create(ClientContact, { client, contact, role: null });
  for (const clientId of clientIds.length ? clientIds : [null]) {
    recordAudit(em, { actorId: actor?.id ?? null, action: 'contact.create', entityType: 'contact', entityId: contact.id, clientId, details: { name, addresses } });
  }
  const filed = await fileAddresses(em, actor, addresses.filter((_, i) => emails[i]!.sync ?? EMAIL_DEFAULTS.sync), deps);
  return { contact, filed };
}

export type ContactPatch = { name?: string; notes?: string; filing?: ContactFiling; primaryClientId?: string | null };

/**
 * Renames a contact or changes where its mail is filed (contact-filing.ts). A primary client must be one of
 * the contact's clients; "primary" needs one. Mail waiting for a client because of this contact is filed
 * again under the new choice (and waits again if it is still "ask").
 */
export async function updateContact(em: Em, actor: Actor, id: string, patch: ContactPatch, deps?: FilingDeps): Promise<Contact> {
  const contact = await getContact(em, id);
  if (patch.name !== undefined) contact.name = cleanName(patch.name, 'name');
  if (patch.notes !== undefined) contact.notes = patch.notes;
  const filingChanged = patch.filing !== undefined || patch.primaryClientId !== undefined;
  if (patch.primaryClientId !== undefined) {
    if (patch.primaryClientId !== null && !(await clientIdsOfContact(em, id)).includes(patch.primaryClientId)) {
      throw new RuleError('primary_not_linked', 'The primary client must be one of the contact\'s clients', 'primaryClientId');
    }
    contact.primaryClient = patch.primaryClientId === null ? null : em.getReference(Client, patch.primaryClientId);
  }
  if (patch.filing !== undefined) contact.filing = patch.filing;
  if (contact.filing === 'primary' && !contact.primaryClient) throw new RuleError('primary_required', 'Choose the primary client', 'primaryClientId');
  await auditContact(em, actor, id, 'contact.update', 'contact', id, { fields: Object.keys(patch) });
  if (filingChanged && deps) {
    const waiting = await listAwaitingOfContact(em, id);
    if (waiting.length) {
      await em.flush();
      await kysely(em).deleteFrom('message_awaiting_client').where('message_id', 'in', waiting).execute();
      await fileMessages(em, waiting, deps);
    }
  }
  return contact;
}

/** Deletes the contact, its addresses and links. What was filed stays in the clients' logs. */
export async function deleteContact(em: Em, actor: Actor, id: string): Promise<void> {
  const contact = await getContact(em, id);
  await auditContact(em, actor, id, 'contact.delete', 'contact', id, { name: contact.name });
  em.remove(contact);
}

export async function addContactEmail(em: Em, actor: Actor, contactId: string, input: ContactEmailInput, deps: FilingDeps): Promise<{ email: ContactEmail; filed: number }> {
  const contact = await getContact(em, contactId);
  const address = await checkNewAddress(em, input.address, 'address');
  checkCategories(input.notifyCategories, 'notifyCategories');
  const email = createEmailRow(em, contact, address, input);
  await auditContact(em, actor, contactId, 'contact_email.create', 'contact_email', email.id, { address });
  const filed = email.sync ? await fileAddresses(em, actor, [address], deps) : 0;
  return { email, filed };
}

/** Changes an address's switches. Turning sync on files its existing mail; turning it off keeps history. */
export async function updateContactEmail(em: Em, actor: Actor, id: string, patch: ContactEmailSettings, deps: FilingDeps): Promise<{ email: ContactEmail; filed: number }> {
  const email = await getContactEmail(em, id);
  const cats = checkCategories(patch.notifyCategories, 'notifyCategories');
  const wasSync = email.sync;
  const changed: Record<string, unknown> = {};
  const set = <K extends keyof ContactEmailSettings>(k: K, v: ContactEmailSettings[K] | undefined) => {
    if (v === undefined) return;
    const cur = (email as unknown as Record<string, unknown>)[k];
    if (JSON.stringify(cur) === JSON.stringify(v)) return;
    (email as unknown as Record<string, unknown>)[k] = v;
    changed[k] = v;
  };
  set('sync', patch.sync);
  set('notify', patch.notify);
  set('notifyCategories', cats);
  set('autoSaveAttachments', patch.autoSaveAttachments);
  set('language', patch.language);
  const contactId = (email.contact as unknown as Contact).id;
  if (Object.keys(changed).length) await auditContact(em, actor, contactId, 'contact_email.update', 'contact_email', id, { address: email.address, changed });
  const filed = !wasSync && email.sync ? await fileAddresses(em, actor, [email.address], deps) : 0;
  return { email, filed };
}

export async function deleteContactEmail(em: Em, actor: Actor, id: string): Promise<void> {
  const email = await getContactEmail(em, id);
  await auditContact(em, actor, (email.contact as unknown as Contact).id, 'contact_email.delete', 'contact_email', id, { address: email.address });
  em.remove(email);
}

/** Links a contact to a client (or updates the link's role) and files the contact's mail to that client. */
export async function linkContact(em: Em, actor: Actor, clientId: string, contactId: string, opts: { role?: string | null }, deps: FilingDeps): Promise<{ created: boolean; filed: number }> {
  const client = await getClientRow(em, clientId, actor);
  const contact = await getContact(em, contactId);
  const link = await em.findOne(ClientContact, { client: clientId, contact: contactId });
  const created = !link;
  if (!link) {
    em.create(ClientContact, { client, contact, role: opts.role ?? null });
    recordAudit(em, { actorId: actor?.id ?? null, action: 'contact.link', entityType: 'contact', entityId: contactId, clientId, details: { name: contact.name } });
  } else if (opts.role !== undefined && link.role !== opts.role) {
    link.role = opts.role;
    recordAudit(em, { actorId: actor?.id ?? null, action: 'contact.link_update', entityType: 'contact', entityId: contactId, clientId, details: { role: opts.role } });
  }
  const addresses = (await em.find(ContactEmail, { contact: contactId, sync: true })).map((e) => e.address);
  const filed = await fileAddresses(em, actor, addresses, deps, [clientId]);
  return { created, filed };
}

/** Unlinks; the client's log keeps what was filed through this contact. */
export async function unlinkContact(em: Em, actor: Actor, clientId: string, contactId: string): Promise<void> {
  const link = await em.findOne(ClientContact, { client: clientId, contact: contactId }, { populate: ['contact'] });
  if (!link) throw new NotFoundError('Client contact');
  recordAudit(em, { actorId: actor?.id ?? null, action: 'contact.unlink', entityType: 'contact', entityId: contactId, clientId, details: { name: (link.contact as unknown as Contact).name } });
  em.remove(link);
}

/**
 * "Add the sender as a contact of client X" from the unfiled queue: the sender's address joins the
 * client (a new contact, or its existing contact linked, with sync turned on since staff asked for it),
 * then this message and the rest of that address's mail are filed to the client.
 */
export async function addSenderAsContact(
  em: Em, actor: { id: string }, messageId: string, input: { clientId: string; name?: string }, deps: FilingDeps,
): Promise<{ contactId: string; contactCreated: boolean; address: string; clientId: string; filed: number }> {
  await assertMessageVisible(em, actor, messageId);
  const client = await getClientRow(em, input.clientId, actor);
  const msg = await kysely(em).selectFrom('message').select(['from_address', 'from_name']).where('id', '=', messageId).executeTakeFirst();
  const address = normalizeAddress(msg?.from_address);
  if (!address) throw new RuleError('no_sender', 'This message has no usable sender address');
  if ((await listOwnAddresses(em)).includes(address)) throw new RuleError('own_mailbox_address', `${address} is one of the firm's own mailboxes and cannot be a client address`);
  const existing = await em.findOne(ContactEmail, { address }, { populate: ['contact'] });
  let contact: Contact;
  if (existing) {
    contact = existing.contact as unknown as Contact;
    if (!existing.sync) {
      existing.sync = true;
      await auditContact(em, actor, contact.id, 'contact_email.update', 'contact_email', existing.id, { address, changed: { sync: true } });
    }
    if (!(await em.findOne(ClientContact, { client: client.id, contact: contact.id }))) {
      em.create(ClientContact, { client, contact, role: null });
      recordAudit(em, { actorId: actor.id, action: 'contact.link', entityType: 'contact', entityId: contact.id, clientId: client.id, details: { name: contact.name, via: 'add_sender', messageId } });
    }
  } else {
    const name = input.name ? cleanName(input.name, 'name') : cleanHeaderText(msg?.from_name ?? '').slice(0, 200) || address;
    contact = em.create(Contact, { name, notes: '' });
    createEmailRow(em, contact, address, {});
    em.create(ClientContact, { client, contact, role: null });
    recordAudit(em, { actorId: actor.id, action: 'contact.create', entityType: 'contact', entityId: contact.id, clientId: client.id, details: { name, addresses: [address], via: 'add_sender', messageId } });
  }
  const result = await fileAddress(em, address, deps, { clientIds: [client.id], actorId: actor.id });
  if (result.messages) {
    recordAudit(em, { actorId: actor.id, action: 'message.file', entityType: 'message', entityId: messageId, clientId: client.id, details: { via: 'add_sender', address, messages: result.messages } });
  }
  return { contactId: contact.id, contactCreated: !existing, address, clientId: client.id, filed: result.messages };
}
