// CSV import of clients and their contacts (name, tax id, contact name, email(s), switches): one row per
// client-contact pair, a per-line error report, a dry run that runs everything and rolls back, and
// idempotency (re-importing the same file finds everything in place and changes nothing).
import { parse } from 'csv-parse/sync';
import { kysely, type Em } from '../platform/db.ts';
import { recordAudit } from '../staff/audit.ts';
import { normalizeAddress } from '../mail/addresses.ts';
import { Client, ClientContact, Contact, ContactEmail, NOTIFY_CATEGORIES } from './client.entity.ts';
import { DomainError, InvalidInputError } from '../platform/errors.ts';
import { listOwnAddresses } from '../log/filing.ts';
import { EMAIL_DEFAULTS, type Actor } from './contacts.ts';
import { LANGUAGES, type Language } from '../staff/user.entity.ts';
import { cleanHeaderText } from '../platform/text.ts';
import { filterVisibleClientIds } from '../mail/visibility.ts';

export type ImportError = { line: number; code: string; message: string; field?: string };
export type ImportResult = {
  dryRun: boolean;
  /** Clients created (or that would be). */
  created: number;
  /** Existing clients changed: fields, contacts linked, addresses added or switched. */
  updated: number;
  /** Existing clients the file names that needed no change. */
  unchanged: number;
  /** Data lines read (header excluded). */
  lines: number;
  errors: ImportError[];
  /** Column headers not understood (ignored). */
  ignoredColumns: string[];
  /** Addresses (sync on) whose existing mail should be filed: enqueue after commit; empty in a dry run. */
  addressesToFile: string[];
};

type Field = 'clientName' | 'taxId' | 'contactName' | 'emails' | 'notify' | 'sync' | 'autoSaveAttachments' | 'language' | 'role';
/** Header names understood (lowercased, accents and non-letters removed), in en/es/nl. */
const HEADERS: Record<string, Field> = {
  client: 'clientName', clientname: 'clientName', name: 'clientName', company: 'clientName', cliente: 'clientName', nombre: 'clientName', empresa: 'clientName', klant: 'clientName', klantnaam: 'clientName', naam: 'clientName', bedrijf: 'clientName',
  taxid: 'taxId', nif: 'taxId', cif: 'taxId', vat: 'taxId', vatid: 'taxId', vatnumber: 'taxId', btw: 'taxId', btwnummer: 'taxId', fiscalnummer: 'taxId',
  contact: 'contactName', contactname: 'contactName', contacto: 'contactName', contactpersoon: 'contactName', contactnaam: 'contactName',
  email: 'emails', emails: 'emails', emailaddress: 'emails', emailaddresses: 'emails', mail: 'emails', correo: 'emails', correoelectronico: 'emails', email1: 'emails', email2: 'emails', email3: 'emails',
  notify: 'notify', notifications: 'notify', notificar: 'notify', notificaciones: 'notify', melden: 'notify',
  sync: 'sync', file: 'sync', archivar: 'sync', archiveren: 'sync',
  autosave: 'autoSaveAttachments', autosaveattachments: 'autoSaveAttachments', guardaradjuntos: 'autoSaveAttachments', bijlagenopslaan: 'autoSaveAttachments',
  language: 'language', idioma: 'language', taal: 'language', lang: 'language',
  role: 'role', rol: 'role', cargo: 'role', functie: 'role',
};
const headerKey = (h: string) => h.normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase().replace(/[^a-z0-9]/g, '');

const TRUE = new Set(['1', 'y', 'yes', 'true', 'on', 'si', 'sí', 's', 'ja', 'j', 'x']);
const FALSE = new Set(['0', 'n', 'no', 'false', 'off', 'nee']);

class LineError extends DomainError {}
class DryRunRollback extends Error {}

function parseSwitch(raw: string | undefined, field: string): boolean | undefined {
  const v = (raw ?? '').trim().toLowerCase();
  if (!v) return undefined;
  if (TRUE.has(v)) return true;
  if (FALSE.has(v)) return false;
  throw new LineError('invalid_switch', `${field} must be yes or no (got "${raw}")`, field);
}

type Row = {
  line: number; clientName: string; taxId: string | null; contactName: string | null; emails: string[]; role: string | null;
  notify?: boolean; sync?: boolean; autoSaveAttachments?: boolean; language?: Language;
};

function readRow(line: number, cells: string[], columns: (Field | null)[], own: string[]): Row {
  const get = (f: Field) => columns.flatMap((c, i) => (c === f ? [cells[i] ?? ''] : [])).map((v) => v.trim()).filter(Boolean);
  const clientName = cleanHeaderText(get('clientName')[0] ?? '').slice(0, 200);
  if (!clientName) throw new LineError('missing_client_name', 'The client name is empty', 'clientName');
  const emails: string[] = [];
  for (const raw of get('emails').flatMap((v) => v.split(/[\s,;]+/)).filter(Boolean)) {
    const address = normalizeAddress(raw);
    if (!address) throw new LineError('invalid_address', `"${raw}" is not a usable email address`, 'email');
    if (own.includes(address)) throw new LineError('own_mailbox_address', `${address} is one of the firm's own mailboxes`, 'email');
    if (!emails.includes(address)) emails.push(address);
  }
  const lang = get('language')[0]?.toLowerCase();
  if (lang && !(LANGUAGES as readonly string[]).includes(lang)) throw new LineError('invalid_language', `language must be one of ${LANGUAGES.join(', ')} (got "${lang}")`, 'language');
  return {
    line, clientName, emails,
    taxId: cleanHeaderText(get('taxId')[0] ?? '').slice(0, 64) || null,
    contactName: cleanHeaderText(get('contactName')[0] ?? '').slice(0, 200) || null,
    role: cleanHeaderText(get('role')[0] ?? '').slice(0, 100) || null,
    notify: parseSwitch(get('notify')[0], 'notify'),
    sync: parseSwitch(get('sync')[0], 'sync'),
    autoSaveAttachments: parseSwitch(get('autoSaveAttachments')[0], 'autoSaveAttachments'),
    language: lang as Language | undefined,
  };
}

/** Splits the file into records with their line numbers; the delimiter is guessed from the header (`,` or `;`, as Excel writes in es/nl locales). */
function readCsv(text: string): { header: string[]; records: { line: number; cells: string[] }[] } {
  const firstLine = text.replace(/^\uFEFF/, '').split(/\r?\n/, 1)[0] ?? '';
  const delimiter = (firstLine.match(/;/g)?.length ?? 0) > (firstLine.match(/,/g)?.length ?? 0) ? ';' : firstLine.includes('\t') && !firstLine.includes(',') ? '\t' : ',';
  let parsed: { record: string[]; info: { lines: number } }[];
  try {
    // csv-parse's types do not model `info: true`, which turns each record into { record, info }.
    parsed = parse(text, { bom: true, delimiter, info: true, relax_column_count: true, skip_empty_lines: true, trim: true }) as unknown as typeof parsed;
  } catch (err) {
    const e = err as Error & { lines?: number };
    throw new InvalidInputError('invalid_csv', `The file is not valid CSV${e.lines ? ` (line ${e.lines})` : ''}: ${e.message}`, 'file');
  }
  if (!parsed.length) throw new InvalidInputError('empty_file', 'The file has no header line', 'file');
  return { header: parsed[0]!.record, records: parsed.slice(1).map((p) => ({ line: p.info.lines, cells: p.record })) };
}

/**
 * Imports the CSV. Invalid lines are reported and skipped; valid lines are applied in one transaction
 * (each in a savepoint, so a line failing in the database undoes only itself). A dry run does the same
 * work and rolls it all back, so its counts and errors are exactly what the real import would give.
 */
export async function importClients(em: Em, actor: Actor, csv: string, opts: { dryRun?: boolean } = {}): Promise<ImportResult> {
  const dryRun = opts.dryRun ?? false;
  const { header, records } = readCsv(csv);
  const columns = header.map((h) => HEADERS[headerKey(h)] ?? null);
  if (!columns.includes('clientName')) throw new InvalidInputError('missing_column', 'The header needs a client name column ("client", "name", "cliente", "klant")', 'file');
  const result: ImportResult = {
    dryRun, created: 0, updated: 0, unchanged: 0, lines: records.length, errors: [],
    ignoredColumns: header.filter((_, i) => columns[i] === null), addressesToFile: [],
  };
  const created = new Set<string>();
  const touched = new Set<string>();
  const changed = new Set<string>();
  const toFile = new Set<string>();
  const own = await listOwnAddresses(em);
  try {
    await em.transactional(async (tx) => {
      for (const rec of records) {
        let row: Row;
        try {
          row = readRow(rec.line, rec.cells, columns, own);
        } catch (err) {
          if (!(err instanceof DomainError)) throw err;
          result.errors.push({ line: rec.line, code: err.code, message: err.message, ...(err.field ? { field: err.field } : {}) });
          continue;
        }
        try {
          await tx.transactional(async (lineTx) => {
            const outcome = await applyRow(lineTx, actor, row);
            touched.add(outcome.clientId);
            if (outcome.created) created.add(outcome.clientId);
            if (outcome.changed) changed.add(outcome.clientId);
            outcome.toFile.forEach((a) => toFile.add(a));
          });
        } catch (err) {
          if (!(err instanceof DomainError)) throw err;
          result.errors.push({ line: rec.line, code: err.code, message: err.message, ...(err.field ? { field: err.field } : {}) });
        }
      }
      result.created = created.size;
      result.updated = [...changed].filter((id) => !created.has(id)).length;
      result.unchanged = [...touched].filter((id) => !created.has(id) && !changed.has(id)).length;
      if (!dryRun && (created.size || changed.size)) {
        recordAudit(tx, { actorId: actor?.id ?? null, action: 'client.import', entityType: 'client', details: { created: result.created, updated: result.updated, lines: result.lines, errors: result.errors.length } });
      }
      if (dryRun) throw new DryRunRollback();
    });
  } catch (err) {
    if (!(err instanceof DryRunRollback)) throw err;
  }
  result.addressesToFile = dryRun ? [] : [...toFile];
  return result;
}

async function applyRow(em: Em, actor: Actor, row: Row): Promise<{ clientId: string; created: boolean; changed: boolean; toFile: string[] }> {
  let changed = false;
  const toFile: string[] = [];
  // The client: by tax id when the line has one, else by name (case-insensitive) among clients.
  // Only among clients the actor may see: a restricted client of another team is never matched (nor revealed).
  const candidates = row.taxId
    ? await em.find(Client, { taxId: row.taxId }, { orderBy: { createdAt: 'asc' } })
    : await em.find(Client, { name: { $ilike: row.clientName.replace(/[\\%_]/g, '\\$&') } }, { orderBy: { createdAt: 'asc' } });
  const visible = actor ? new Set(await filterVisibleClientIds(em, actor, candidates.map((c) => c.id))) : null;
  let client = candidates.find((c) => !visible || visible.has(c.id)) ?? null;
  const isNew = !client;
  if (!client) {
    client = em.create(Client, { name: row.clientName, taxId: row.taxId, notes: '', createdBy: actor?.id ?? null });
    recordAudit(em, { actorId: actor?.id ?? null, action: 'client.create', entityType: 'client', entityId: client.id, clientId: client.id, details: { name: row.clientName, taxId: row.taxId, via: 'import', line: row.line } });
  } else if (row.taxId && client.name !== row.clientName) {
    recordAudit(em, { actorId: actor?.id ?? null, action: 'client.update', entityType: 'client', entityId: client.id, clientId: client.id, details: { changed: { name: row.clientName }, via: 'import', line: row.line } });
    client.name = row.clientName;
    changed = true;
  }
  if (!row.contactName && !row.emails.length) {
    await em.flush();
    return { clientId: client.id, created: isNew, changed, toFile };
  }

  // The contact: the one owning any of the line's addresses, else one of this client's contacts by name.
  const existingEmails = row.emails.length ? await em.find(ContactEmail, { address: { $in: row.emails } }, { populate: ['contact'] }) : [];
  const owners = [...new Set(existingEmails.map((e) => (e.contact as unknown as Contact).id))];
  if (owners.length > 1) throw new LineError('emails_of_different_contacts', 'These addresses belong to different contacts; put them on separate lines', 'email');
  let contact: Contact | null = owners.length ? (existingEmails[0]!.contact as unknown as Contact) : null;
  if (!contact && row.contactName && !isNew) {
    const found = await kysely(em).selectFrom('contact as k').innerJoin('client_contact as cc', 'cc.contact_id', 'k.id').select('k.id')
      .where('cc.client_id', '=', client.id)
      .where((eb) => eb(eb.fn('lower', ['k.name']), '=', eb.fn('lower', [eb.val(row.contactName)])))
      .orderBy('k.created_at').limit(1)
      .executeTakeFirst();
    if (found) contact = await em.findOneOrFail(Contact, { id: found.id });
  }
  if (!contact) {
    contact = em.create(Contact, { name: row.contactName ?? row.emails[0]!, notes: '' });
    recordAudit(em, { actorId: actor?.id ?? null, action: 'contact.create', entityType: 'contact', entityId: contact.id, clientId: client.id, details: { name: contact.name, via: 'import', line: row.line } });
    changed = true;
  } else if (row.contactName && contact.name !== row.contactName) {
    contact.name = row.contactName;
    changed = true;
  }

  const link = isNew ? null : await em.findOne(ClientContact, { client: client.id, contact: contact.id });
  let linkedNow = false;
  if (!link) {
    em.create(ClientContact, { client, contact, role: row.role });
    if (!isNew) recordAudit(em, { actorId: actor?.id ?? null, action: 'contact.link', entityType: 'contact', entityId: contact.id, clientId: client.id, details: { name: contact.name, via: 'import', line: row.line } });
    changed = linkedNow = true;
  } else if (row.role && link.role !== row.role) {
    link.role = row.role;
    changed = true;
  }

  for (const address of row.emails) {
    const existing = existingEmails.find((e) => e.address === address);
    if (!existing) {
      const email = em.create(ContactEmail, {
        contact, address,
        sync: row.sync ?? EMAIL_DEFAULTS.sync, notify: row.notify ?? EMAIL_DEFAULTS.notify, notifyCategories: [...NOTIFY_CATEGORIES],
        autoSaveAttachments: row.autoSaveAttachments ?? EMAIL_DEFAULTS.autoSaveAttachments, language: row.language ?? EMAIL_DEFAULTS.language,
      });
      if (email.sync) toFile.push(address);
      changed = true;
      continue;
    }
    const wasSync = existing.sync;
    for (const key of ['sync', 'notify', 'autoSaveAttachments', 'language'] as const) {
      const v = row[key];
      if (v !== undefined && existing[key] !== v) {
        (existing as unknown as Record<string, unknown>)[key] = v;
        changed = true;
      }
    }
    if (existing.sync && (!wasSync || linkedNow)) toFile.push(address);
  }
  if (linkedNow) {
    // Addresses of an existing contact not on this line still file to the newly linked client.
    const others = await em.find(ContactEmail, { contact: contact.id, sync: true, address: { $nin: row.emails } });
    toFile.push(...others.map((e) => e.address));
  }
  await em.flush();
  return { clientId: client.id, created: isNew, changed, toFile };
}
