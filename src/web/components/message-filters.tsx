// The Inbox+ filters: mailbox, folder, client, filed / unfiled, attachments, reason and area. Each change
// goes straight into the address (shareable, kept on Back); the lists behind the selects load once.
import { useEffect, useState } from 'preact/hooks';
import { useI18n } from '../i18n/context.tsx';
import {
  listAreas, listClients, listMailAccounts, listReasons,
  type ClientListItem, type MailAccountView, type MessageFilters, type TagView,
} from './message-api.ts';

type Lists = { accounts: MailAccountView[]; clients: ClientListItem[]; reasons: TagView[]; areas: TagView[] };
const empty: Lists = { accounts: [], clients: [], reasons: [], areas: [] };

export function InboxFilters({ filters, onChange }: { filters: MessageFilters; onChange: (next: MessageFilters) => void }) {
  const { t } = useI18n();
  const [lists, setLists] = useState<Lists>(empty);

  useEffect(() => {
    let live = true;
    // Each list on its own: a failing one (say, reasons) must not hide the others.
    const settle = <K extends keyof Lists>(key: K, p: Promise<Lists[K]>) =>
      p.then((value) => live && setLists((prev) => ({ ...prev, [key]: value }))).catch(() => undefined);
    void settle('accounts', listMailAccounts());
    void settle('clients', listClients('', undefined, 200));
    void settle('reasons', listReasons());
    void settle('areas', listAreas());
    return () => {
      live = false;
    };
  }, []);

  const set = (key: keyof MessageFilters, value: string) => {
    const next: MessageFilters = { ...filters, [key]: value || undefined };
    // A folder belongs to a mailbox: changing the mailbox starts from all its folders.
    if (key === 'accountId') next.folder = undefined;
    onChange(next);
  };
  const folderSource = filters.accountId ? lists.accounts.filter((a) => a.id === filters.accountId) : lists.accounts;
  const folders = [...new Set(folderSource.flatMap((a) => a.folders.map((f) => f.path)))].sort();
  const client = filters.clientId && !lists.clients.some((c) => c.id === filters.clientId) ? [{ id: filters.clientId, name: filters.clientId }] : [];
  const count = (['accountId', 'folder', 'clientId', 'filed', 'hasAttachments', 'reasonId', 'areaId'] as const).filter((k) => filters[k]).length;

  const select = (key: keyof MessageFilters, label: string, options: { value: string; label: string }[], all: string) => (
    <div class="filter">
      <label for={`filter-${key}`}>{label}</label>
      <select id={`filter-${key}`} value={filters[key] ?? ''} onChange={(e) => set(key, e.currentTarget.value)}>
        <option value="">{all}</option>
        {options.map((o) => (
          <option key={o.value} value={o.value}>
            {o.label}
          </option>
        ))}
      </select>
    </div>
  );

  return (
    <details class="inbox-filters" open={count > 0 || undefined}>
      <summary>
        {t('inbox.filters')}
        {count > 0 && <span class="badge">{count}</span>}
      </summary>
      <div class="filter-grid">
        {select('accountId', t('inbox.filterMailbox'), lists.accounts.map((a) => ({ value: a.id, label: a.name })), t('inbox.allMailboxes'))}
        {select('folder', t('inbox.filterFolder'), folders.map((f) => ({ value: f, label: f })), t('inbox.allFolders'))}
        {select('clientId', t('inbox.filterClient'), [...lists.clients, ...client].map((c) => ({ value: c.id, label: c.name })), t('inbox.allClients'))}
        {select('filed', t('inbox.filterFiled'), [{ value: 'true', label: t('inbox.filedOnly') }, { value: 'false', label: t('inbox.unfiledOnly') }], t('inbox.filedAll'))}
        {select('reasonId', t('inbox.filterReason'), lists.reasons.map((r) => ({ value: r.id, label: r.name })), t('inbox.anyReason'))}
        {select('areaId', t('inbox.filterArea'), lists.areas.map((a) => ({ value: a.id, label: a.name })), t('inbox.anyArea'))}
        <div class="filter filter-check">
          <input id="filter-hasAttachments" type="checkbox" checked={filters.hasAttachments === 'true'} onChange={(e) => set('hasAttachments', e.currentTarget.checked ? 'true' : '')} />
          <label for="filter-hasAttachments">{t('inbox.filterAttachments')}</label>
        </div>
        {count > 0 && (
          <button type="button" class="btn btn-small" onClick={() => onChange({ q: filters.q })}>
            {t('inbox.clearFilters')}
          </button>
        )}
      </div>
    </details>
  );
}
