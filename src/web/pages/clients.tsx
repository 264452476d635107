// Clients: the searchable list with each client's notify / sync status, selection for bulk contact
// settings, a new client, and the CSV import. Each client's own page is pages/client.tsx.
import { useState } from 'preact/hooks';
import { useLocation } from 'preact-iso';
import type { ClientListItem, ClientView } from '../../server/schemas/crm.ts';
import { postJson } from '../api.ts';
import { PageHeader } from '../components/page-header.tsx';
import { EmptyState } from '../components/empty-state.tsx';
import { Icon } from '../components/icon.tsx';
import { Dialog, ErrorAlert, useAction, useDebounced } from '../components/client-ui.tsx';
import { LoadMoreButton, usePagedList } from '../components/use-paged-list.tsx';
import { BulkSettingsDialog } from '../components/bulk-settings-dialog.tsx';
import { ClientImportDialog } from '../components/client-import-dialog.tsx';
import { BulkOwnerDialog, OwnerSelect } from '../components/owner-select.tsx';
import { useI18n } from '../i18n/context.tsx';
import '../styles/client-settings.css';

type ClientPage = { items: ClientListItem[]; nextCursor: string | null };

export default function ClientsPage() {
  const { t, formatNumber } = useI18n();
  const [q, setQ] = useState('');
  const query = useDebounced(q.trim(), 250);
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [dialog, setDialog] = useState<'new' | 'bulk' | 'owner' | 'import' | null>(null);
  const list = usePagedList<ClientListItem, ClientPage>('/clients', { q: query || undefined, limit: 100 }, [query]);

  const items = list.items;
  const allSelected = items.length > 0 && items.every((c) => selected.has(c.id));
  const toggle = (id: string, on: boolean) => {
    const next = new Set(selected);
    if (on) next.add(id);
    else next.delete(id);
    setSelected(next);
  };

  return (
    <>
      <PageHeader title={t('clients.title')}>
        <div class="toolbar">
          <button type="button" class="btn btn-primary" onClick={() => setDialog('new')}>
            {t('clients.new')}
          </button>
          <button type="button" class="btn" onClick={() => setDialog('import')}>
            {t('clients.import')}
          </button>
        </div>
      </PageHeader>

      <div class="toolbar toolbar-spread">
        <div class="field field-inline search-field">
          <label for="clients-search">{t('clients.search')}</label>
          <input id="clients-search" type="search" value={q} placeholder={t('clients.searchPlaceholder')} onInput={(e) => setQ(e.currentTarget.value)} />
        </div>
        <div class="toolbar" role="group" aria-label={t('clients.selection')}>
          <span class="muted" aria-live="polite">
            {t('clients.selected', { count: selected.size })}
          </span>
          <button type="button" class="btn" disabled={selected.size === 0} onClick={() => setDialog('bulk')}>
            {t('clients.bulkSettings')}
          </button>
          <button type="button" class="btn" disabled={selected.size === 0} onClick={() => setDialog('owner')}>
            {t('clients.setOwner')}
          </button>
        </div>
      </div>

      <ErrorAlert error={list.error} />
      {list.data && items.length === 0 ? (
        <EmptyState icon="clients" text={query ? t('clients.noMatch') : t('clients.empty')} />
      ) : (
        <div class="table-wrap">
          <table class="table">
            <caption class="visually-hidden">{t('clients.title')}</caption>
            <thead>
              <tr>
                <th scope="col" class="col-check">
                  <input
                    type="checkbox"
                    aria-label={t('clients.selectAll')}
                    checked={allSelected}
                    onChange={(e) => setSelected(e.currentTarget.checked ? new Set(items.map((c) => c.id)) : new Set())}
                  />
                </th>
                <th scope="col">{t('clients.name')}</th>
                <th scope="col">{t('clients.taxId')}</th>
                <th scope="col" class="num">{t('clients.contacts')}</th>
                <th scope="col">{t('clients.notify')}</th>
                <th scope="col">{t('clients.sync')}</th>
                <th scope="col">{t('clients.owner')}</th>
              </tr>
            </thead>
            <tbody aria-busy={list.loading}>
              {items.map((c) => (
                <tr key={c.id}>
                  <td class="col-check">
                    <input type="checkbox" aria-label={t('clients.selectOne', { name: c.name })} checked={selected.has(c.id)} onChange={(e) => toggle(c.id, e.currentTarget.checked)} />
                  </td>
                  <td>
                    <a href={`/clients/${c.id}`}>{c.name}</a>
                    {c.restricted && (
                      <span class="restricted-mark" title={t('clients.restricted')}>
                        {' '}
                        <Icon name="lock" size={14} />
                        <span class="visually-hidden">{t('clients.restricted')}</span>
                      </span>
                    )}
                  </td>
                  <td>{c.taxId ?? '—'}</td>
                  <td class="num">{formatNumber(c.contacts)}</td>
                  <td>
                    <OnOff on={c.notify} />
                  </td>
                  <td>
                    <OnOff on={c.sync} />
                  </td>
                  <td>{c.owner?.name ?? '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <LoadMoreButton list={list} label={t('client.loadMore')} />
      <ErrorAlert error={list.loadMoreError} />

      {dialog === 'new' && <NewClientDialog onClose={() => setDialog(null)} />}
      {dialog === 'import' && (
        <ClientImportDialog
          onClose={() => setDialog(null)}
          onImported={() => list.reload()}
        />
      )}
      {dialog === 'owner' && (
        <BulkOwnerDialog
          clients={items.filter((c) => selected.has(c.id))}
          onClose={() => setDialog(null)}
          onApplied={() => list.reload()}
        />
      )}
      {dialog === 'bulk' && (
        <BulkSettingsDialog
          clients={items.filter((c) => selected.has(c.id))}
          onClose={() => setDialog(null)}
          onApplied={() => list.reload()}
        />
      )}
    </>
  );
}

export function OnOff({ on }: { on: boolean }) {
  const { t } = useI18n();
  return <span class={`status-dot ${on ? 'status-on' : 'status-off'}`}>{on ? t('clients.on') : t('clients.off')}</span>;
}

function NewClientDialog({ onClose }: { onClose: () => void }) {
  const { t } = useI18n();
  const { route } = useLocation();
  const [name, setName] = useState('');
  const [taxId, setTaxId] = useState('');
  const [notes, setNotes] = useState('');
  const [ownerId, setOwnerId] = useState('');
  const [missing, setMissing] = useState(false);
  const save = useAction();
  const onSubmit = async (event: Event) => {
    event.preventDefault();
    if (!name.trim()) return setMissing(true);
    await save.run(async () => {
      const client = await postJson<ClientView>('/clients', { name: name.trim(), taxId: taxId.trim() || null, notes, ownerId: ownerId || null });
      onClose();
      route(`/clients/${client.id}`);
    });
  };
  return (
    <Dialog title={t('clients.new')} onClose={onClose}>
      <form class="form" noValidate onSubmit={onSubmit}>
        <ErrorAlert error={save.error} />
        <div class="field">
          <label for="new-client-name">{t('clients.name')}</label>
          <input id="new-client-name" type="text" value={name} autoFocus aria-invalid={missing || undefined} aria-describedby={missing ? 'new-client-name-error' : undefined} onInput={(e) => setName(e.currentTarget.value)} />
          {missing && (
            <p id="new-client-name-error" class="field-error">
              {t('clients.nameRequired')}
            </p>
          )}
        </div>
        <div class="field">
          <label for="new-client-tax">{t('clients.taxId')}</label>
          <input id="new-client-tax" type="text" value={taxId} onInput={(e) => setTaxId(e.currentTarget.value)} />
        </div>
        <div class="field">
          <label for="new-client-owner">{t('clients.owner')}</label>
          <OwnerSelect id="new-client-owner" value={ownerId} onChange={setOwnerId} />
        </div>
        <div class="field">
          <label for="new-client-notes">{t('client.notes')}</label>
          <textarea id="new-client-notes" rows={3} value={notes} onInput={(e) => setNotes(e.currentTarget.value)} />
        </div>
        <div class="dialog-actions">
          <button type="button" class="btn" onClick={onClose}>
            {t('client.cancel')}
          </button>
          <button type="submit" class="btn btn-primary" disabled={save.busy}>
            {t('clients.create')}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
