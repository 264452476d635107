// Bulk contact settings for the selected clients: pick what to turn on or off, preview it (dry run:
// nothing is saved), then apply and read the report (addresses changed, unchanged, per-client errors).
import { useState } from 'preact/hooks';
import type { Static } from 'typebox';
import type { BulkSettingsResult, ClientListItem } from '../../server/schemas/crm.ts';
import { postJson } from '../api.ts';
import { useI18n } from '../i18n/context.tsx';
import { Dialog, ErrorAlert, useAction } from './client-ui.tsx';

type Result = Static<typeof BulkSettingsResult>;
type Choice = '' | 'enable' | 'disable';
const settings = ['notify', 'sync', 'autoSaveAttachments'] as const;
const categories = ['documents', 'file_requests', 'reminders', 'messages'] as const;
type Category = (typeof categories)[number];

export function BulkSettingsDialog({ clients, onClose, onApplied }: { clients: ClientListItem[]; onClose: () => void; onApplied: () => void }) {
  const { t, formatNumber } = useI18n();
  const [choices, setChoices] = useState<Record<(typeof settings)[number], Choice>>({ notify: '', sync: '', autoSaveAttachments: '' });
  const [cats, setCats] = useState<Record<Category, Choice>>({ documents: '', file_requests: '', reminders: '', messages: '' });
  const [result, setResult] = useState<Result | null>(null);
  const [nothing, setNothing] = useState(false);
  const action = useAction();
  const names = new Map(clients.map((c) => [c.id, c.name]));

  const submit = async (dryRun: boolean) => {
    const body: Record<string, unknown> = { clientIds: clients.map((c) => c.id), dryRun };
    for (const s of settings) if (choices[s]) body[s] = choices[s];
    const notifyCategories = Object.fromEntries(categories.filter((c) => cats[c]).map((c) => [c, cats[c]]));
    if (Object.keys(notifyCategories).length) body.notifyCategories = notifyCategories;
    if (Object.keys(body).length === 2) return setNothing(true);
    setNothing(false);
    await action.run(async () => {
      setResult(await postJson<Result>('/clients/bulk/contact-settings', body));
      if (!dryRun) onApplied();
    });
  };
  const change = (s: (typeof settings)[number], value: Choice) => {
    setChoices({ ...choices, [s]: value });
    setResult(null);
  };

  return (
    <Dialog title={t('clients.bulk.title', { count: clients.length })} onClose={onClose} wide>
      <p class="muted">{t('clients.bulk.intro')}</p>
      <div class="form">
        {settings.map((s) => (
          <div class="field field-inline" key={s}>
            <label for={`bulk-${s}`}>{t(`clients.bulk.${s}`)}</label>
            <select id={`bulk-${s}`} value={choices[s]} onChange={(e) => change(s, e.currentTarget.value as Choice)}>
              <option value="">{t('clients.bulk.leave')}</option>
              <option value="enable">{t('clients.bulk.enable')}</option>
              <option value="disable">{t('clients.bulk.disable')}</option>
            </select>
          </div>
        ))}
        <fieldset class="form">
          <legend>{t('client.overview.notifyAbout')}</legend>
          {categories.map((c) => (
            <div class="field field-inline" key={c}>
              <label for={`bulk-cat-${c}`}>{t(`client.overview.category.${c}`)}</label>
              <select id={`bulk-cat-${c}`} value={cats[c]} onChange={(e) => { setCats({ ...cats, [c]: e.currentTarget.value as Choice }); setResult(null); }}>
                <option value="">{t('clients.bulk.leave')}</option>
                <option value="enable">{t('clients.bulk.enable')}</option>
                <option value="disable">{t('clients.bulk.disable')}</option>
              </select>
            </div>
          ))}
        </fieldset>
        {nothing && <p class="field-error">{t('clients.bulk.nothing')}</p>}
        <ErrorAlert error={action.error} />
        {result && (
          <section class={`report ${result.dryRun ? 'report-preview' : 'report-done'}`} aria-live="polite" aria-label={t('clients.bulk.report')}>
            <h3>{result.dryRun ? t('clients.bulk.previewTitle') : t('clients.bulk.doneTitle')}</h3>
            <p>
              {result.dryRun
                ? t('clients.bulk.wouldChange', { count: result.changed, n: formatNumber(result.changed) })
                : t('clients.bulk.changed', { count: result.changed, n: formatNumber(result.changed) })}{' '}
              {t('clients.bulk.unchanged', { count: result.unchanged, n: formatNumber(result.unchanged) })}
            </p>
            {result.clients.length > 0 && (
              <ul class="plain-list">
                {result.clients.map((c) => (
                  <li key={c.clientId}>
                    {t(result.dryRun ? 'clients.bulk.perClient' : 'clients.bulk.perClientDone', {
                      name: names.get(c.clientId) ?? c.clientId,
                      changed: formatNumber(c.changed),
                      unchanged: formatNumber(c.unchanged),
                    })}
                  </li>
                ))}
              </ul>
            )}
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
            {result && !result.dryRun ? t('client.close') : t('client.cancel')}
          </button>
          <button type="button" class="btn" disabled={action.busy} onClick={() => submit(true)}>
            {t('clients.bulk.preview')}
          </button>
          <button type="button" class="btn btn-primary" disabled={action.busy || !result?.dryRun} onClick={() => submit(false)}>
            {t('clients.bulk.apply')}
          </button>
        </div>
      </div>
    </Dialog>
  );
}
