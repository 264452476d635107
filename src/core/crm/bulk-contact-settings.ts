// Bulk switches for selected clients (TaxDome's bulk contact settings): enable / disable / keep notify,
// sync, autoSaveAttachments and each notification category on every address linked to each client. One transaction per client, so
// one failure undoes only that client; dryRun reports what would change and changes nothing.
import { kysely, type Em } from '../platform/db.ts';
import { recordAudit } from '../staff/audit.ts';
import { DomainError } from '../platform/errors.ts';
import type { Actor } from './contacts.ts';
import { NOTIFY_CATEGORIES, type NotifyCategory } from './client.entity.ts';
import { visibleClient } from '../mail/visibility.ts';

export type Toggle = 'enable' | 'disable';
export type BulkSettingsInput = {
  clientIds: string[]; notify?: Toggle; sync?: Toggle; autoSaveAttachments?: Toggle;
  /** Turn single notification categories on or off, leaving the others as they are (issue 15). */
  notifyCategories?: Partial<Record<NotifyCategory, Toggle>>;
  dryRun?: boolean;
};
export type BulkClientResult = { clientId: string; changed: number; unchanged: number };
export type BulkSettingsResult = {
  /** Addresses whose switches changed (or would change, in a dry run). */
  changed: number;
  /** Addresses already as asked. */
  unchanged: number;
  errors: { clientId: string; code: string; message: string }[];
  clients: BulkClientResult[];
  dryRun: boolean;
  /** Addresses whose sync was turned on: their existing mail is filed by 'file-address' jobs after commit. */
  syncEnabled: string[];
};

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const COLUMNS = { notify: 'notify', sync: 'sync', autoSaveAttachments: 'auto_save_attachments' } as const;
type Setting = keyof typeof COLUMNS;

/**
 * Applies the switches client by client. `em` must not be inside a transaction: each client gets its own
 * (a fork), which is why this function, unlike most core functions, commits. An address shared by two
 * selected clients is counted once (under the first).
 */
export async function applyBulkContactSettings(em: Em, actor: Actor, input: BulkSettingsInput): Promise<BulkSettingsResult> {
  const dryRun = input.dryRun ?? false;
  const wanted = (Object.keys(COLUMNS) as Setting[]).filter((k) => input[k] !== undefined).map((k) => ({ key: k, column: COLUMNS[k], value: input[k] === 'enable' }));
  const result: BulkSettingsResult = { changed: 0, unchanged: 0, errors: [], clients: [], dryRun, syncEnabled: [] };
  const seen = new Set<string>();
  for (const clientId of [...new Set(input.clientIds)]) {
    if (!UUID.test(clientId)) {
      result.errors.push({ clientId, code: 'invalid_id', message: 'Not a client id' });
      continue;
    }
    try {
      const outcome = await em.fork().transactional(async (tx) => {
        const db = kysely(tx);
        // A restricted client the actor is not on reads as an unknown one.
        const client = await db.selectFrom('client as c').select('c.name').where('c.id', '=', clientId)
          .$if(actor !== null, (qb) => qb.where(visibleClient(actor!, 'c.id'))).forUpdate().executeTakeFirst();
        if (!client) throw new DomainError('not_found', 'Client not found');
        const rows = await db.selectFrom('contact_email as ce').innerJoin('client_contact as cc', 'cc.contact_id', 'ce.contact_id')
          .select(['ce.id', 'ce.address', 'ce.notify', 'ce.sync', 'ce.auto_save_attachments', 'ce.notify_categories'])
          .where('cc.client_id', '=', clientId)
          .orderBy('ce.address')
          .forUpdate('ce')
          .execute();
        let changed = 0;
        let unchanged = 0;
        const syncOn: string[] = [];
        for (const row of rows) {
          if (seen.has(row.id)) continue;
          seen.add(row.id);
          const diff = wanted.filter((w) => row[w.column] !== w.value);
          const categories = nextCategories(row.notify_categories, input.notifyCategories);
          if (!diff.length && !categories) {
            unchanged++;
            continue;
          }
          changed++;
          if (diff.some((d) => d.key === 'sync' && d.value)) syncOn.push(row.address);
          if (!dryRun) {
            const set: { [C in (typeof COLUMNS)[Setting]]?: boolean } = {};
            for (const d of diff) set[d.column] = d.value;
            await db.updateTable('contact_email')
              .set((eb) => ({ ...set, ...(categories ? { notify_categories: categories } : {}), updated_at: eb.fn<Date>('now') }))
              .where('id', '=', row.id).execute();
          }
        }
        if (!dryRun && changed) {
          recordAudit(tx, {
            actorId: actor?.id ?? null, action: 'client.contact_settings', entityType: 'client', entityId: clientId, clientId,
            details: {
              settings: Object.fromEntries(wanted.map((w) => [w.key, w.value ? 'enable' : 'disable'])),
              ...(input.notifyCategories && Object.keys(input.notifyCategories).length ? { notifyCategories: input.notifyCategories } : {}),
              addresses: changed,
            },
          });
        }
        return { changed, unchanged, syncOn };
      });
      result.clients.push({ clientId, changed: outcome.changed, unchanged: outcome.unchanged });
      result.changed += outcome.changed;
      result.unchanged += outcome.unchanged;
      if (!dryRun) result.syncEnabled.push(...outcome.syncOn);
    } catch (err) {
      if (!(err instanceof DomainError)) throw err;
      result.errors.push({ clientId, code: err.code, message: err.message });
    }
  }
  return result;
}

/** The address's categories after the toggles, in the canonical order; null when nothing changes. */
function nextCategories(current: readonly string[] | null, toggles: BulkSettingsInput['notifyCategories']): NotifyCategory[] | null {
  if (!toggles) return null;
  const have = new Set(current ?? []);
  const next = NOTIFY_CATEGORIES.filter((c) => (toggles[c] === 'enable' ? true : toggles[c] === 'disable' ? false : have.has(c)));
  const same = next.length === have.size && next.every((c) => have.has(c));
  return same ? null : next;
}
