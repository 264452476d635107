// The firm-wide communication log (issue 15): every client's records in one list, newest first, filtered by
// period, kind, reason, area and client, with the .xlsx export of what the filters show. Reading only: records
// are tagged and edited in each client's Log tab.
import { useState } from 'preact/hooks';
import type { TFunction } from 'i18next';
import type { CommunicationPage, CommunicationView, TagView } from '../../server/schemas/communications.ts';
import type { ClientListItem } from '../components/message-api.ts';
import { getJson } from '../api.ts';
import { useI18n } from '../i18n/context.tsx';
import { PageHeader } from '../components/page-header.tsx';
import { ErrorAlert, useLoad } from '../components/client-ui.tsx';
import { LoadMoreButton, usePagedList } from '../components/use-paged-list.tsx';
import { KindIcon, type Kind } from '../components/client-kind-icon.tsx';

type Filters = { kind: string; reasonId: string; areaId: string; clientId: string; from: string; to: string };
const noFilters: Filters = { kind: '', reasonId: '', areaId: '', clientId: '', from: '', to: '' };
const kinds: Kind[] = ['email', 'call', 'visit', 'meeting', 'letter', 'other'];

const toQuery = (f: Filters): Record<string, string> => Object.fromEntries(Object.entries(f).filter(([, v]) => v !== ''));

/** Who started it, as a client's log says it (a third party's mail names its sender). */
function initiator(t: TFunction, r: CommunicationView): string {
  if (r.initiatedBy === 'client') return t('client.log.byClient');
  if (r.kind === 'email' && r.direction === 'inbound' && r.from) return r.from.name || r.from.address;
  return t('client.log.byFirm');
}

export default function LogPage() {
  const { t, formatDate } = useI18n();
  const [filters, setFilters] = useState<Filters>(noFilters);
  const query = toQuery(filters);
  const reasons = useLoad((signal) => getJson<{ items: TagView[] }>('/reasons', undefined, signal), []);
  const areas = useLoad((signal) => getJson<{ items: TagView[] }>('/areas', undefined, signal), []);
  const clients = useLoad((signal) => getJson<{ items: ClientListItem[] }>('/clients', { limit: 200 }, signal), []);
  const list = usePagedList<CommunicationView, CommunicationPage>('/communications', { ...query, limit: 100 }, [JSON.stringify(query)]);
  const set = (key: keyof Filters) => (event: Event) => setFilters({ ...filters, [key]: (event.currentTarget as HTMLInputElement).value });
  const exportHref = `/api/communications/export.xlsx${Object.keys(query).length ? `?${new URLSearchParams(query).toString()}` : ''}`;
  const filtered = Object.keys(query).length > 0;

  const select = (key: keyof Filters, label: string, options: { value: string; label: string }[]) => (
    <div class="field">
      <label for={`firm-log-${key}`}>{label}</label>
      <select id={`firm-log-${key}`} value={filters[key]} onChange={set(key)}>
        <option value="">{t('client.log.all')}</option>
        {options.map((o) => (
          <option key={o.value} value={o.value}>
            {o.label}
          </option>
        ))}
      </select>
    </div>
  );

  return (
    <div class="firm-log-page">
      <PageHeader title={t('log.title')}>
        <a class="btn" href={exportHref} download>
          {t('client.log.export')}
        </a>
      </PageHeader>
      <form class="filters" role="search" aria-label={t('client.log.filters')} onSubmit={(e) => e.preventDefault()}>
        <div class="field">
          <label for="firm-log-from">{t('client.log.from')}</label>
          <input id="firm-log-from" type="date" value={filters.from} onInput={set('from')} />
        </div>
        <div class="field">
          <label for="firm-log-to">{t('client.log.to')}</label>
          <input id="firm-log-to" type="date" value={filters.to} onInput={set('to')} />
        </div>
        {select('kind', t('client.log.kind'), kinds.map((k) => ({ value: k, label: t(`client.kind.${k}`) })))}
        {select('reasonId', t('client.log.reason'), (reasons.data?.items ?? []).map((r) => ({ value: r.id, label: r.name })))}
        {select('areaId', t('client.log.area'), (areas.data?.items ?? []).map((a) => ({ value: a.id, label: a.name })))}
        {select('clientId', t('log.client'), (clients.data?.items ?? []).map((c) => ({ value: c.id, label: c.name })))}
        {filtered && (
          <button type="button" class="btn btn-ghost" onClick={() => setFilters(noFilters)}>
            {t('client.log.clear')}
          </button>
        )}
      </form>
      <ErrorAlert error={list.error} />
      <div class="table-wrap">
        <table class="table log-table">
          <caption class="visually-hidden">{t('log.caption')}</caption>
          <thead>
            <tr>
              <th scope="col">
                <span class="visually-hidden">{t('client.log.kind')}</span>
              </th>
              <th scope="col">{t('client.log.date')}</th>
              <th scope="col">{t('log.client')}</th>
              <th scope="col">{t('client.log.subject')}</th>
              <th scope="col">{t('client.log.reason')}</th>
              <th scope="col">{t('client.log.area')}</th>
              <th scope="col">{t('client.log.initiatedBy')}</th>
            </tr>
          </thead>
          <tbody aria-busy={list.loading}>
            {list.items.map((r) => (
              <tr key={r.id}>
                <td>
                  <KindIcon kind={r.kind} />
                </td>
                <td class="nowrap">{formatDate(r.occurredAt, { dateStyle: 'short', timeStyle: 'short' })}</td>
                <td>
                  <a href={`/clients/${r.client.id}/log`}>{r.client.name}</a>
                </td>
                <td>{r.subject || t('client.log.noSubject')}</td>
                <td>{r.reason?.name ?? '—'}</td>
                <td>{r.area?.name ?? '—'}</td>
                <td>{initiator(t, r)}</td>
              </tr>
            ))}
          </tbody>
        </table>
        {list.data && list.items.length === 0 && <p class="empty-row muted">{filtered ? t('client.log.noMatch') : t('log.empty')}</p>}
        <LoadMoreButton list={list} label={t('client.loadMore')} />
      </div>
    </div>
  );
}
