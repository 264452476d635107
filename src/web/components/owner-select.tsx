// Client owners in the web app: the active staff list (read once per page load), a select for one owner
// ("No owner" clears it), and the clients list's bulk dialog that sets one owner for every selected client.
import { useState } from 'preact/hooks';
import type { Static } from 'typebox';
import type { BulkOwnerResult, ClientListItem } from '../../server/schemas/crm.ts';
import { getJson, postJson } from '../api.ts';
import { useI18n } from '../i18n/context.tsx';
import { Dialog, ErrorAlert, useAction, useLoad } from './client-ui.tsx';

type Staff = { id: string; name: string };
let staffCache: Promise<Staff[]> | null = null;
const loadStaff = () => (staffCache ??= getJson<{ items: Staff[] }>('/staff').then((r) => r.items).catch((err: unknown) => {
  staffCache = null;
  throw err;
}));

export function useStaff() {
  return useLoad(() => loadStaff(), []);
}

export function OwnerSelect({ id, value, onChange, current }: { id: string; value: string; onChange: (ownerId: string) => void; current?: Staff | null }) {
  const { t } = useI18n();
  const staff = useStaff();
  const list = staff.data ?? [];
  // An owner who left (inactive) still shows as the current choice.
  const options = current && !list.some((s) => s.id === current.id) ? [current, ...list] : list;
  return (
    <select id={id} value={value} onChange={(e) => onChange(e.currentTarget.value)}>
      <option value="">{t('clients.noOwner')}</option>
      {options.map((s) => (
        <option key={s.id} value={s.id}>
          {s.name}
        </option>
      ))}
    </select>
  );
}

export function BulkOwnerDialog({ clients, onClose, onApplied }: { clients: ClientListItem[]; onClose: () => void; onApplied: () => void }) {
  const { t, formatNumber } = useI18n();
  const [ownerId, setOwnerId] = useState('');
  const [result, setResult] = useState<Static<typeof BulkOwnerResult> | null>(null);
  const action = useAction();
  const names = new Map(clients.map((c) => [c.id, c.name]));
  const apply = async (event: Event) => {
    event.preventDefault();
    await action.run(async () => {
      setResult(await postJson<Static<typeof BulkOwnerResult>>('/clients/bulk/owner', { clientIds: clients.map((c) => c.id), ownerId: ownerId || null }));
      onApplied();
    });
  };
  return (
    <Dialog title={t('clients.ownerBulk.title', { count: clients.length })} onClose={onClose}>
      <form class="form" onSubmit={apply}>
        <div class="field">
          <label for="bulk-owner">{t('clients.owner')}</label>
          <OwnerSelect id="bulk-owner" value={ownerId} onChange={(v) => { setOwnerId(v); setResult(null); }} />
        </div>
        <ErrorAlert error={action.error} />
        {result && (
          <section class="report report-done" aria-live="polite" aria-label={t('clients.bulk.report')}>
            <p>{t('clients.ownerBulk.done', { count: result.changed, n: formatNumber(result.changed) })}</p>
            {result.errors.length > 0 && (
              <ul class="plain-list report-errors">
                {result.errors.map((e) => (
                  <li key={e.clientId}>
                    {names.get(e.clientId) ?? e.clientId}: {e.message}
                  </li>
                ))}
              </ul>
            )}
          </section>
        )}
        <div class="dialog-actions">
          <button type="button" class="btn" onClick={onClose}>
            {result ? t('client.close') : t('client.cancel')}
          </button>
          <button type="submit" class="btn btn-primary" disabled={action.busy}>
            {t('clients.bulk.apply')}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
