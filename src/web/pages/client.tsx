// One client: its name and tax id, and tabs (Overview, Log, Emails, Documents, Discussions, Audit), each tab its
// own address (/clients/:id/log ...) so a tab can be linked to and Back works.
import { useEffect, useState } from 'preact/hooks';
import { useRoute } from 'preact-iso';
import type { ClientView } from '../../server/schemas/crm.ts';
import { ApiError, getJson } from '../api.ts';
import { PageHeader } from '../components/page-header.tsx';
import { ErrorAlert, useLoad } from '../components/client-ui.tsx';
import { ClientOverview } from '../components/client-overview.tsx';
import { ClientLog } from '../components/client-log.tsx';
import { ClientEmails } from '../components/client-emails.tsx';
import { ClientDocuments } from '../components/client-documents.tsx';
import { ClientAudit } from '../components/client-audit.tsx';
import { ClientDiscussions } from '../components/discussion-tab.tsx';
import { NotFoundPage } from './not-found.tsx';
import { countUnread, onReadChange } from '../components/message-api.ts';
import { useLiveEvent } from '../live-events.ts';
import { useI18n } from '../i18n/context.tsx';
import '../styles/client-settings.css';

const tabs = ['overview', 'log', 'emails', 'documents', 'discussions', 'audit'] as const;
type Tab = (typeof tabs)[number];
const isTab = (value: string | undefined): value is Tab => (tabs as readonly string[]).includes(value ?? '');

export default function ClientPage() {
  const { t } = useI18n();
  const { params } = useRoute();
  const id = params.id ?? '';
  const tab: Tab = isTab(params.tab) ? params.tab : 'overview';
  const client = useLoad((signal) => getJson<ClientView>(`/clients/${id}`, undefined, signal), [id]);
  // The Emails tab's unread count (the user's own read state): again on every read change and new mail.
  const [unread, setUnread] = useState<number | null>(null);
  const [countAgain, setCountAgain] = useState(0);
  useEffect(() => {
    const ctrl = new AbortController();
    countUnread({ clientId: id }, ctrl.signal).then((c) => setUnread(c.unread), () => undefined);
    return () => ctrl.abort();
  }, [id, countAgain]);
  useEffect(() => onReadChange(() => setCountAgain((n) => n + 1)), []);
  useLiveEvent('message', (m) => {
    if (m.clientIds.includes(id)) setCountAgain((n) => n + 1);
  });

  if (client.error instanceof ApiError && (client.error.status === 404 || client.error.status === 400)) return <NotFoundPage />;
  const c = client.data;
  return (
    <>
      <p class="breadcrumb">
        <a href="/clients">{t('clients.title')}</a>
      </p>
      <PageHeader title={c?.name ?? t('app.loading')}>
        {c?.taxId && <p class="muted">{t('client.taxIdValue', { taxId: c.taxId })}</p>}
      </PageHeader>
      <ErrorAlert error={client.error} />
      <nav class="tabs" aria-label={t('client.sections')}>
        <ul>
          {tabs.map((name) => (
            <li key={name}>
              <a href={name === 'overview' ? `/clients/${id}` : `/clients/${id}/${name}`} aria-current={tab === name ? 'page' : undefined}>
                {t(`client.tab.${name}`)}
                {name === 'emails' && unread !== null && unread > 0 && (
                  <span class="nav-count" aria-label={t('client.emails.tabUnread', { count: unread })}>
                    {unread}
                  </span>
                )}
              </a>
            </li>
          ))}
        </ul>
      </nav>
      {c && (
        <div class="tab-panel">
          {tab === 'overview' && <ClientOverview client={c} onChanged={client.reload} />}
          {tab === 'log' && <ClientLog clientId={c.id} clientName={c.name} />}
          {tab === 'emails' && <ClientEmails clientId={c.id} unread={unread} />}
          {tab === 'documents' && <ClientDocuments clientId={c.id} />}
          {tab === 'discussions' && <ClientDiscussions clientId={c.id} />}
          {tab === 'audit' && <ClientAudit clientId={c.id} />}
        </div>
      )}
    </>
  );
}
