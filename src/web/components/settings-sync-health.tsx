// Settings → Sync health (issue 14): each mailbox the user may see, with its status, last sync and last
// problem, and per folder the messages on the server, stored in Dossier and missing. The bell's sync
// alerts open /settings/sync-health.
import { useEffect, useRef } from 'preact/hooks';
import { useLocation } from 'preact-iso';
import type { Static } from 'typebox';
import type { SyncHealthList } from '../../server/schemas/sync-health.ts';
import { getJson } from '../api.ts';
import { useI18n } from '../i18n/context.tsx';
import { ErrorAlert, useLoad } from './client-ui.tsx';

const STATUSES = ['syncing', 'idle', 'error', 'needs_reauth'] as const;
type Status = (typeof STATUSES)[number];
const isStatus = (s: string): s is Status => (STATUSES as readonly string[]).includes(s);

export function SettingsSyncHealth() {
  const { t, formatDate, formatNumber } = useI18n();
  const { path } = useLocation();
  const root = useRef<HTMLElement>(null);
  const health = useLoad((signal) => getJson<Static<typeof SyncHealthList>>('/sync-health', undefined, signal), []);

  useEffect(() => {
    if (path === '/settings/sync-health' && health.data) root.current?.scrollIntoView({ block: 'start' });
  }, [path, health.data]);

  const when = (iso: string | null) => (iso ? formatDate(iso, { dateStyle: 'short', timeStyle: 'short' }) : t('settings.syncHealth.never'));
  const items = health.data?.items ?? [];
  return (
    <section id="settings-sync-health" ref={root} class="card" aria-labelledby="settings-sync-health-heading">
      <h2 id="settings-sync-health-heading">{t('settings.syncHealth.title')}</h2>
      <p class="muted">{t('settings.syncHealth.intro')}</p>
      <ErrorAlert error={health.error} />
      {health.data && items.length === 0 && <p class="muted">{t('settings.syncHealth.none')}</p>}
      {items.map((a) => {
        const missing = a.folders.reduce((n, f) => n + f.missing, 0);
        return (
          <div key={a.accountId} class="sync-health-account" data-account={a.accountId}>
            <h3>
              {a.name}{' '}
              <span class={`badge ${a.status === 'idle' && !missing ? '' : 'badge-warning'}`}>{isStatus(a.status) ? t(`accounts.status.${a.status}`) : a.status}</span>
            </h3>
            <p class="small">
              {t('settings.syncHealth.lastSync', { date: when(a.lastSyncAt) })}
              {missing > 0 && <> · <strong>{t('settings.syncHealth.missingTotal', { count: missing })}</strong></>}
            </p>
            {a.lastError && <p class="small" role="note">{t('accounts.lastError')} {a.lastError}</p>}
            <div class="table-wrap">
              <table class="table table-compact">
                <thead>
                  <tr>
                    <th scope="col">{t('settings.syncHealth.folder')}</th>
                    <th scope="col" class="num">{t('settings.syncHealth.server')}</th>
                    <th scope="col" class="num">{t('settings.syncHealth.stored')}</th>
                    <th scope="col" class="num">{t('settings.syncHealth.missing')}</th>
                    <th scope="col">{t('settings.syncHealth.folderSynced')}</th>
                  </tr>
                </thead>
                <tbody>
                  {a.folders.map((f) => (
                    <tr key={f.path}>
                      <td>{f.path}</td>
                      <td class="num">{formatNumber(f.serverCount)}</td>
                      <td class="num">{formatNumber(f.storedCount)}</td>
                      <td class="num">{f.missing > 0 ? <strong>{formatNumber(f.missing)}</strong> : formatNumber(0)}</td>
                      <td>{when(f.lastSyncAt)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </div>
        );
      })}
    </section>
  );
}
