// File requests firm-wide: open / overdue / fulfilled / cancelled, newest first, with the New request
// dialog. One request's page is pages/request.tsx. No fetch outside api.ts helpers.
import { useState } from 'preact/hooks';
import { useLocation } from 'preact-iso';
import type { Static } from 'typebox';
import type { FileRequestPage, FileRequestSummary } from '../../server/schemas/file-requests.ts';
import { PageHeader } from '../components/page-header.tsx';
import { EmptyState } from '../components/empty-state.tsx';
import { ErrorAlert } from '../components/client-ui.tsx';
import { usePagedList } from '../components/use-paged-list.tsx';
import { FileRequestDialog } from '../components/file-request-dialog.tsx';
import { RequestStatus } from '../components/file-request-status.tsx';
import { useI18n } from '../i18n/context.tsx';
import '../styles/client-settings.css';
import { FilterButtons } from '../components/filter-buttons.tsx';

type Page = Static<typeof FileRequestPage>;
type Summary = Static<typeof FileRequestSummary>;
const FILTERS = ['open', 'overdue', 'fulfilled', 'cancelled', 'all'] as const;
type Filter = (typeof FILTERS)[number];

export default function RequestsPage() {
  const { t, formatDate } = useI18n();
  const { route } = useLocation();
  const [filter, setFilter] = useState<Filter>('open');
  const [creating, setCreating] = useState(false);
  const status = filter === 'all' ? undefined : filter;
  const list = usePagedList<Summary, Page>('/file-requests', { status, limit: 100 }, [filter]);
  const items = list.items;

  return (
    <>
      <PageHeader title={t('requests.title')}>
        <div class="toolbar">
          <button type="button" class="btn btn-primary" onClick={() => setCreating(true)}>
            {t('requests.new')}
          </button>
        </div>
      </PageHeader>
      <FilterButtons label={t('requests.filter')} filters={FILTERS} value={filter} onChange={setFilter} labelOf={(f) => t(`requests.filters.${f}`)} />
      <ErrorAlert error={list.error ?? list.loadMoreError} />
      {list.data && items.length === 0 ? (
        <EmptyState icon="requests" text={t('requests.empty')} />
      ) : (
        <div class="table-wrap">
          <table class="table">
            <caption class="visually-hidden">{t('requests.title')}</caption>
            <thead>
              <tr>
                <th scope="col">{t('requests.subject')}</th>
                <th scope="col">{t('requests.client')}</th>
                <th scope="col">{t('requests.status')}</th>
                <th scope="col" class="num">{t('requests.items')}</th>
                <th scope="col" class="num">{t('requests.documents')}</th>
                <th scope="col">{t('requests.due')}</th>
                <th scope="col">{t('requests.sent')}</th>
              </tr>
            </thead>
            <tbody aria-busy={list.loading}>
              {items.map((r) => (
                <tr key={r.id}>
                  <td>
                    <a href={`/file-requests/${r.id}`}>{r.subject}</a>
                  </td>
                  <td>
                    <a href={`/clients/${r.client.id}`}>{r.client.name}</a>
                  </td>
                  <td>
                    <RequestStatus status={r.status} overdue={r.overdue} />
                  </td>
                  <td class="num">{r.items.total ? `${r.items.fulfilled}/${r.items.total}` : '—'}</td>
                  <td class="num">{r.documents}</td>
                  <td>{r.dueDate ?? '—'}</td>
                  <td>{r.sentAt ? formatDate(r.sentAt) : '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {list.hasMore && (
        <button type="button" class="btn" disabled={list.loadingMore} onClick={() => void list.loadMore()}>
          {t('requests.more')}
        </button>
      )}
      {creating && (
        <FileRequestDialog
          onClose={() => setCreating(false)}
          onSent={(id) => {
            setCreating(false);
            route(`/file-requests/${id}`);
          }}
        />
      )}
    </>
  );
}
