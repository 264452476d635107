// CSV import of clients and contacts: choose the file, check it first (dry run: the whole import runs
// and is rolled back), read the per-line problems, then import for real.
import { useState } from 'preact/hooks';
import type { Static } from 'typebox';
import type { ImportResult } from '../../server/schemas/crm.ts';
import { postRaw } from '../api.ts';
import { useI18n } from '../i18n/context.tsx';
import { Dialog, ErrorAlert, useAction } from './client-ui.tsx';

type Result = Static<typeof ImportResult>;

export function ClientImportDialog({ onClose, onImported }: { onClose: () => void; onImported: () => void }) {
  const { t, formatNumber } = useI18n();
  const [file, setFile] = useState<File | null>(null);
  const [result, setResult] = useState<Result | null>(null);
  const [missing, setMissing] = useState(false);
  const action = useAction();

  const submit = async (dryRun: boolean) => {
    if (!file) return setMissing(true);
    setMissing(false);
    await action.run(async () => {
      const csv = await file.text();
      setResult(await postRaw<Result>('/import/clients', csv, { contentType: 'text/csv', query: { dryRun } }));
      if (!dryRun) onImported();
    });
  };

  return (
    <Dialog title={t('clients.importDialog.title')} onClose={onClose} wide>
      <p class="muted">{t('clients.importDialog.intro')}</p>
      <div class="form">
        <div class="field">
          <label for="import-file">{t('clients.importDialog.file')}</label>
          <input
            id="import-file"
            type="file"
            accept=".csv,text/csv"
            aria-invalid={missing || undefined}
            onChange={(e) => {
              setFile(e.currentTarget.files?.[0] ?? null);
              setResult(null);
            }}
          />
          {missing && <p class="field-error">{t('clients.importDialog.fileRequired')}</p>}
        </div>
        <ErrorAlert error={action.error} />
        {result && (
          <section class="report" aria-live="polite" aria-label={t('clients.bulk.report')}>
            <h3>{result.dryRun ? t('clients.importDialog.checked') : t('clients.importDialog.done')}</h3>
            <p>
              {t('clients.importDialog.summary', {
                lines: formatNumber(result.lines),
                created: formatNumber(result.created),
                updated: formatNumber(result.updated),
                unchanged: formatNumber(result.unchanged),
              })}
            </p>
            {result.ignoredColumns.length > 0 && <p class="muted">{t('clients.importDialog.ignored', { columns: result.ignoredColumns.join(', ') })}</p>}
            {result.errors.length > 0 && (
              <ul class="plain-list report-errors">
                {result.errors.map((e, i) => (
                  <li key={i}>{t('clients.importDialog.lineError', { line: e.line, message: e.message })}</li>
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
            {t('clients.importDialog.check')}
          </button>
          <button type="button" class="btn btn-primary" disabled={action.busy || !result?.dryRun} onClick={() => submit(false)}>
            {t('clients.importDialog.run')}
          </button>
        </div>
      </div>
    </Dialog>
  );
}
